"""The channel-neutral journal a settlement becomes: balanced lines on roles' accounts, each line naming the
settlement and the report rows it sums. Destinations render it into their own document (QBO JournalEntry,
qbXML JournalEntryAdd); nothing here knows either."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..money import Amount
from .accounts import AccountRef
from .roles import Role

__all__ = ["JournalLine", "Journal", "NettedRole", "row_ranges"]


def row_ranges(rows: list[int]) -> str:
    """`[3, 4, 5, 9]` → "3-5, 9": how a line says which report rows it sums, compactly."""
    ordered = sorted(set(rows))
    if not ordered:
        return ""
    # where a run of consecutive rows ends (found in one pass: a line of a large report sums 10,000s of rows)
    ends = [i for i in range(1, len(ordered)) if ordered[i] != ordered[i - 1] + 1]
    out: list[str] = []
    start = 0
    for end in (*ends, len(ordered)):
        first, last = ordered[start], ordered[end - 1]
        out.append(str(first) if first == last else f"{first}-{last}")
        start = end
    return ", ".join(out)


class JournalLine(BaseModel):
    """One line. `amount` is signed: positive debits the account, negative credits it."""

    model_config = ConfigDict(extra="forbid")
    role: Role
    account: AccountRef
    amount: Amount
    description: str
    settlement_id: str
    #: the settlement report rows this line sums (empty for the bank, carried-forward, rounding and FX lines)
    rows: list[int] = Field(default_factory=list)
    #: the amount in the settlement's currency before conversion (set only when the journal was converted)
    source_amount: Amount | None = None

    @property
    def posting_type(self) -> Literal["Debit", "Credit"]:
        return "Debit" if self.amount > 0 else "Credit"

    @property
    def magnitude(self) -> Decimal:
        return abs(self.amount)


class NettedRole(BaseModel):
    """A role whose rows summed to exactly zero: no line is posted, but the rows stay traceable."""

    model_config = ConfigDict(extra="forbid")
    role: Role
    rows: list[int]


class Journal(BaseModel):
    """One journal entry; a settlement makes one, or one per month it spans (linked by `links`)."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(description="idempotency key: JournalEntry:<source>/settlement/<id>[/<yyyy-mm>]")
    settlement_id: str
    natural_key: str
    mode: Literal["summary", "per_order"]
    txn_date: date
    currency: str
    #: home-currency units per unit of `currency` (None when `currency` is the home currency)
    exchange_rate: Amount | None = None
    part: int = 1
    parts: int = 1
    period: str = Field(description="the month this journal covers, yyyy-mm")
    links: list[str] = Field(default_factory=list, description="keys of the other journals of the settlement")
    memo: str
    lines: list[JournalLine]
    netted: list[NettedRole] = Field(default_factory=list)

    @property
    def debits(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.amount > 0), Decimal(0))

    @property
    def credits(self) -> Decimal:
        return sum((-line.amount for line in self.lines if line.amount < 0), Decimal(0))

    @property
    def balanced(self) -> bool:
        return self.debits == self.credits

    def lines_for(self, role: Role) -> list[JournalLine]:
        return [line for line in self.lines if line.role == role]

    def net(self, account_name: str) -> Decimal:
        return sum((line.amount for line in self.lines if line.account.name == account_name), Decimal(0))

    @property
    def rows(self) -> list[int]:
        """Every report row this journal accounts for (posted lines and netted roles)."""
        out = [r for line in self.lines for r in line.rows]
        out.extend(r for n in self.netted for r in n.rows)
        return sorted(out)
