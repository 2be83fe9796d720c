"""The sandbox company's general ledger: what each posted document debits and credits, kept in the accounts'
`CurrentBalance` as QuickBooks Online keeps it (asset and expense accounts positive when debited; liability,
equity and income accounts positive when credited), so `reconcile` can read a clearing or reserve account's
balance from the sandbox as it would from a real company.

Each document's postings balance (debits = credits); a document's effects are applied with sign +1 when it is
saved and -1 when it is updated, voided or deleted, so balances always equal the sum of the live documents.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator

from .faults import number

__all__ = ["postings", "DEBIT_NORMAL"]

#: classifications whose balance QBO reports positive when debited (the others: when credited)
DEBIT_NORMAL = ("Asset", "Expense")

Posting = tuple[str, Decimal]  # (account id, debit amount; a credit is negative)


def _ref_id(ref: Any) -> str:
    return str((ref or {}).get("value") or "") if isinstance(ref, dict) else ""


def postings(entity: str, obj: dict[str, Any], entities: dict[str, dict[str, dict[str, Any]]]) -> Iterator[Posting]:
    """The (account, debit) pairs one saved document posts."""
    accounts = entities["Account"]

    def named(sub_type: str) -> str:
        return next((a["Id"] for a in accounts.values() if a.get("AccountSubType") == sub_type), "")

    if entity == "JournalEntry":
        for line in obj.get("Line") or []:
            detail = line.get("JournalEntryLineDetail") or {}
            amount = number(line.get("Amount", 0), "Amount")
            yield _ref_id(detail.get("AccountRef")), amount if detail.get("PostingType") == "Debit" else -amount
        return
    if entity == "Deposit":
        yield _ref_id(obj.get("DepositToAccountRef")), number(obj.get("TotalAmt", 0), "TotalAmt")
        for line in obj.get("Line") or []:
            amount = number(line.get("Amount", 0), "Amount")
            detail = line.get("DepositLineDetail") or {}
            # a line depositing another transaction takes it out of where it sat (Undeposited Funds)
            source = _ref_id(detail.get("AccountRef")) if not line.get("LinkedTxn") else _held_in(
                line["LinkedTxn"][0], entities) or named("UndepositedFunds")
            yield source, -amount
        return
    if entity == "Payment":
        total = number(obj.get("TotalAmt", 0), "TotalAmt")
        yield _ref_id(obj.get("DepositToAccountRef")) or named("UndepositedFunds"), total
        yield _ref_id(obj.get("ARAccountRef")) or named("AccountsReceivable"), -total
        return
    if entity in ("SalesReceipt", "Invoice", "CreditMemo", "RefundReceipt"):
        # a sale debits the money (or A/R) and credits income and tax; a credit memo or refund the reverse
        sign = Decimal(1) if entity in ("SalesReceipt", "Invoice") else Decimal(-1)
        total = number(obj.get("TotalAmt", 0), "TotalAmt")
        if entity in ("Invoice", "CreditMemo"):
            money = _ref_id(obj.get("ARAccountRef")) or named("AccountsReceivable")
        else:
            money = _ref_id(obj.get("DepositToAccountRef")) or named("UndepositedFunds")
        yield money, sign * total
        lines_total = Decimal(0)
        for line in obj.get("Line") or []:
            amount = number(line.get("Amount", 0), "Amount")
            if line.get("DetailType") == "SalesItemLineDetail":
                item = entities["Item"].get(_ref_id((line.get("SalesItemLineDetail") or {}).get("ItemRef"))) or {}
                yield _ref_id(item.get("IncomeAccountRef")) or named("SalesOfProductIncome"), -sign * amount
                lines_total += amount
            elif line.get("DetailType") == "DiscountLineDetail":
                detail = line.get("DiscountLineDetail") or {}
                yield _ref_id(detail.get("DiscountAccountRef")) or named("DiscountsRefundsGiven"), sign * amount
                lines_total -= amount
        rest = total - lines_total  # tax QBO added (or computed): the sales tax liability
        if rest:
            yield named("SalesTaxPayable"), -sign * rest


def _held_in(link: dict[str, Any], entities: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Where a deposited transaction's money sat: its own deposit account."""
    txn = entities.get(str(link.get("TxnType") or ""), {}).get(str(link.get("TxnId") or "")) or {}
    return _ref_id(txn.get("DepositToAccountRef"))
