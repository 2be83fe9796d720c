"""Posting rules for a settlement: ledgerlink's channel-neutral journals → QuickBooks Online JournalEntry payloads.

The numbers (roles, accounts, gates, month split, FX) are decided by `ledgerlink.settlements`; this module only
gives each journal QBO's shape: one `JournalEntryLineDetail` line per journal line (a positive Amount and a
PostingType), accounts by name (the destination resolves names to Ids; an Id from the account map is used as
is), the idempotency key on PrivateNote's first line and a DocNumber made from the settlement id.
"""

from __future__ import annotations

from typing import Any

from ledgerlink import Settlement, PlanContext, PlannedWrite, SourceRef, settlements

from ..config import PostingOptions
from .orders import NOTE_PREFIX, doc_number

__all__ = ["plan_settlement", "journal_entry", "payout_deposit", "settlement_doc_number", "DESCRIPTION_MAX"]

DESCRIPTION_MAX = 4000
PRIVATE_NOTE_MAX = 4000


def settlement_doc_number(journal: settlements.Journal) -> str:
    """The settlement id (Amazon's are 11 digits), with the month when the settlement posts in parts."""
    base = journal.settlement_id if journal.parts == 1 else f"{journal.settlement_id}-{journal.period}"
    return doc_number(base)


def _line(line: settlements.JournalLine) -> dict[str, Any]:
    account: dict[str, Any] = {"name": line.account.name}
    if line.account.id:
        account["value"] = line.account.id
    detail: dict[str, Any] = {"PostingType": line.posting_type, "AccountRef": account}
    if line.account.entity is not None:
        detail["Entity"] = {"Type": line.account.entity.type, "EntityRef": {"name": line.account.entity.name}}
    return {"Description": line.description[:DESCRIPTION_MAX], "Amount": line.magnitude,
            "DetailType": "JournalEntryLineDetail", "JournalEntryLineDetail": detail}


def journal_entry(journal: settlements.Journal) -> dict[str, Any]:
    """One journal as a QBO JournalEntry create payload."""
    payload: dict[str, Any] = {
        "DocNumber": settlement_doc_number(journal),
        "TxnDate": journal.txn_date.isoformat(),
        "PrivateNote": (f"{NOTE_PREFIX}{journal.key}\n{journal.memo}")[:PRIVATE_NOTE_MAX],
        "CurrencyRef": {"value": journal.currency},
        "Line": [_line(line) for line in journal.lines],
    }
    if journal.exchange_rate is not None and journal.lines and journal.lines[0].source_amount is None:
        payload["ExchangeRate"] = journal.exchange_rate
    return payload


def payout_deposit(deposit: settlements.PayoutDeposit) -> dict[str, Any]:
    """Per-order mode's payout as a QBO Deposit: from the clearing account to the bank, one line."""
    def ref(account: settlements.AccountRef) -> dict[str, Any]:
        return {"name": account.name, **({"value": account.id} if account.id else {})}
    payload: dict[str, Any] = {
        "TxnDate": deposit.txn_date.isoformat(),
        "PrivateNote": f"{NOTE_PREFIX}{deposit.key}\n{deposit.memo}"[:PRIVATE_NOTE_MAX],
        "DepositToAccountRef": ref(deposit.to_account),
        "CurrencyRef": {"value": deposit.currency},
        "Line": [{"Amount": deposit.amount, "Description": deposit.description[:DESCRIPTION_MAX],
                  "DetailType": "DepositLineDetail", "DepositLineDetail": {"AccountRef": ref(deposit.from_account)}}],
    }
    if deposit.exchange_rate is not None:
        payload["ExchangeRate"] = deposit.exchange_rate
    return payload


def row_refs(settlement: Settlement, rows: list[int]) -> list[SourceRef]:
    """A ref to each report row (the audit trail's `settlements/<id>/row/<n>`)."""
    return settlements.row_refs(settlement, rows)


def _order_deposit_account(ctx: PlanContext) -> str:
    """Where the order flow deposits sales receipts (per-order settlements must close that same account)."""
    return str((ctx.options or {}).get("deposit_account") or PostingOptions.model_fields["deposit_account"].default)


def plan_settlement(settlement: Settlement, ctx: PlanContext) -> list[PlannedWrite]:
    """The JournalEntry writes of one settlement (one, or one per month it spans); SettlementOnHold if it cannot
    be posted exactly."""
    writes = []
    journals, deposit = settlements.plan_payout(settlement, ctx, order_deposit_account=_order_deposit_account(ctx))
    for journal in journals:
        line_refs = settlements.line_refs(settlement, journal.lines)
        writes.append(PlannedWrite(stream="JournalEntry", key=journal.key, data=journal_entry(journal),
                                   source_refs=list(settlement.source_refs), line_refs=line_refs,
                                   natural_key=settlement.natural_key))
    if deposit is not None:  # per-order mode: the payout moves from clearing to the bank, after its journal
        writes.append(PlannedWrite(stream="Deposit", key=deposit.key, data=payout_deposit(deposit),
                                   source_refs=list(settlement.source_refs), natural_key=settlement.natural_key,
                                   depends_on=[deposit.journal_key]))
    return writes
