"""Posting rules for a settlement in QuickBooks Desktop: ledgerlink's journals → qbXML `JournalEntryAdd` payloads.

`ledgerlink.settlements` decides the numbers; here each journal line becomes a `JournalDebitLine` or
`JournalCreditLine` (accounts by FullName), RefNumber fits 11 characters, and the first line of Memo is the
idempotency key, where a lost response can be found again by a query. In per-order mode the payout is a
`DepositAdd` of its own, from the clearing account to the bank (see ledgerlink.settlements.deposit).
"""

from __future__ import annotations

from typing import Any

from ledgerlink import PlanContext, PlannedWrite, Settlement, settlements

from ..config import PostingOptions
from .orders import MEMO_PREFIX, REF_NUMBER_MAX, ref_number

__all__ = ["plan_settlement", "journal_entry_add", "deposit_add", "settlement_ref_number", "CURRENCY_NAMES"]

MEMO_MAX = 4095
#: QuickBooks Desktop names currencies by their full name, not the ISO code
CURRENCY_NAMES = {"USD": "US Dollar", "CAD": "Canadian Dollar", "GBP": "British Pound Sterling", "EUR": "Euro",
                  "AUD": "Australian Dollar", "MXN": "Mexican Peso", "JPY": "Japanese Yen"}


def settlement_ref_number(journal: settlements.Journal) -> str:
    """The settlement id in 11 characters; a month part ends in `-MM` after the id's last digits."""
    if journal.parts == 1:
        return ref_number(journal.settlement_id)
    suffix = f"-{journal.period[5:]}"
    return journal.settlement_id[-(REF_NUMBER_MAX - len(suffix)):] + suffix


def _line(line: settlements.JournalLine) -> dict[str, Any]:
    out: dict[str, Any] = {"AccountRef": {"FullName": line.account.name}, "Amount": line.magnitude,
                           "Memo": line.description[:MEMO_MAX]}
    if line.account.entity is not None:
        out["EntityRef"] = {"FullName": line.account.entity.name}
    return out


def journal_entry_add(journal: settlements.Journal) -> tuple[dict[str, Any], list[settlements.JournalLine]]:
    """The `{"JournalEntryAdd": {...}}` payload, and the journal's lines in document order (debits, credits)."""
    debits = [line for line in journal.lines if line.amount > 0]
    credits = [line for line in journal.lines if line.amount < 0]
    body: dict[str, Any] = {
        "TxnDate": journal.txn_date.isoformat(),
        "RefNumber": settlement_ref_number(journal),
        "Memo": f"{MEMO_PREFIX}{journal.key}\n{journal.memo}"[:MEMO_MAX],
    }
    if journal.exchange_rate is not None and journal.lines and journal.lines[0].source_amount is None:
        body["CurrencyRef"] = {"FullName": CURRENCY_NAMES.get(journal.currency, journal.currency)}
        body["ExchangeRate"] = journal.exchange_rate
    body["JournalDebitLine"] = [_line(line) for line in debits]
    body["JournalCreditLine"] = [_line(line) for line in credits]
    return {"JournalEntryAdd": body}, debits + credits


def deposit_add(deposit: settlements.PayoutDeposit) -> dict[str, Any]:
    """Per-order mode's payout as `{"DepositAdd": {...}}`: one line from the clearing account to the bank (a
    deposit has no RefNumber: the key on Memo's first line finds it again)."""
    body: dict[str, Any] = {
        "TxnDate": deposit.txn_date.isoformat(),
        "DepositToAccountRef": {"FullName": deposit.to_account.name},
        "Memo": f"{MEMO_PREFIX}{deposit.key}\n{deposit.memo}"[:MEMO_MAX],
    }
    if deposit.exchange_rate is not None:
        body["CurrencyRef"] = {"FullName": CURRENCY_NAMES.get(deposit.currency, deposit.currency)}
        body["ExchangeRate"] = deposit.exchange_rate
    body["DepositLineAdd"] = [{"AccountRef": {"FullName": deposit.from_account.name},
                               "Memo": deposit.description[:MEMO_MAX], "Amount": deposit.amount}]
    return {"DepositAdd": body}


def _order_deposit_account(ctx: PlanContext) -> str:
    """Where the order flow deposits sales receipts (per-order settlements must close that same account)."""
    return str((ctx.options or {}).get("deposit_account") or PostingOptions.model_fields["deposit_account"].default)


def plan_settlement(settlement: Settlement, ctx: PlanContext) -> list[PlannedWrite]:
    """The JournalEntryAdd writes of one settlement; SettlementOnHold if it cannot be posted exactly."""
    stream = settlement.source_refs[0].stream if settlement.source_refs else "settlements"
    writes = []
    journals, deposit = settlements.plan_payout(settlement, ctx, order_deposit_account=_order_deposit_account(ctx))
    for journal in journals:
        payload, ordered = journal_entry_add(journal)
        line_refs = settlements.line_refs(settlement, ordered, stream)
        writes.append(PlannedWrite(stream="JournalEntry", key=journal.key, data=payload,
                                   source_refs=list(settlement.source_refs), line_refs=line_refs,
                                   natural_key=settlement.natural_key))
    if deposit is not None:  # per-order mode: the payout moves from clearing to the bank (queued after its journal)
        writes.append(PlannedWrite(stream="Deposit", key=deposit.key, data=deposit_add(deposit),
                                   source_refs=list(settlement.source_refs), natural_key=settlement.natural_key))
    return writes
