"""Per-order mode's payout: a deposit from the clearing account to the bank, one bank line per payout.

In per-order mode the order flow deposits each receipt into the clearing account and the settlement's journal
closes them there (with the fees, reserves and the rest). The money Amazon pays out is then moved from clearing
to the bank by a document of its own, a deposit, so the bank feed matches one deposit per payout and, once every
payout has landed, the clearing account holds exactly the orders no payout has paid yet. The journal's payout
line goes to the clearing account instead of the bank; the deposit's note names the journal, and the journal's
line names the deposit.

A payout that is not positive (a negative settlement charged to the card, or payable to Amazon) is not a
deposit: its journal keeps its bank or payable line as in summary mode.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from ..connectors import idempotency_key
from ..money import Amount
from .accounts import AccountMap, AccountRef
from .journal import Journal
from .roles import Role

__all__ = ["PayoutDeposit", "payout_deposit", "DEPOSIT_WORDS"]

#: how the deposit's line and the journal's payout line begin (the console's bank check reads them)
DEPOSIT_WORDS = "Deposit - settlement"


class PayoutDeposit(BaseModel):
    """The deposit of one payout: `amount` moves from `from_account` (clearing) to `to_account` (the bank)."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(description="idempotency key: Deposit:<source>/settlement/<id>")
    settlement_id: str
    natural_key: str
    txn_date: date
    currency: str
    amount: Amount
    from_account: AccountRef
    to_account: AccountRef
    #: the journal whose payout line this deposit takes out of clearing
    journal_key: str
    memo: str
    #: home-currency units per unit of `currency`, when the journal carries one (multicurrency books)
    exchange_rate: Amount | None = None

    @property
    def description(self) -> str:
        return f"{DEPOSIT_WORDS} {self.settlement_id} (from {self.from_account.name}, journal {self.journal_key})"


def payout_deposit(journals: list[Journal], accounts: AccountMap) -> PayoutDeposit | None:
    """For per-order journals: point the last journal's payout line at the clearing account, and return the
    deposit that moves it to the bank (None when the journals hold no positive payout, or are not per-order)."""
    if not journals or journals[-1].mode != "per_order":
        return None
    last = journals[-1]
    payout = [line for line in last.lines if line.role == Role.BANK and not line.rows]
    if len(payout) != 1 or payout[0].amount <= 0:
        return None
    line = payout[0]
    clearing = accounts.account(Role.CLEARING)
    key = idempotency_key("Deposit", last.natural_key)
    deposit = PayoutDeposit(
        key=key, settlement_id=last.settlement_id, natural_key=last.natural_key, txn_date=last.txn_date,
        currency=last.currency, amount=line.amount, from_account=clearing, to_account=line.account,
        journal_key=last.key,
        # a rate for the ledger to convert with, unless the journal is already converted into the home currency
        exchange_rate=last.exchange_rate if last.lines and last.lines[0].source_amount is None else None,
        memo=f"Payout of Amazon settlement {last.settlement_id}: {line.amount} {last.currency} from "
             f"{clearing.name} to {line.account.name}; journal {last.key}")
    line.account = clearing
    line.role = Role.CLEARING
    line.description = f"Payout - settlement {last.settlement_id}, to {deposit.to_account.name} by deposit {key}"
    return deposit

