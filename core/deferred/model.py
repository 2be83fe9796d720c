"""A deferred transaction in the canonical model: money a marketplace holds past the sale (Amazon's DEFERRED
transactions: delivery date plus days, B2B invoices) until it releases it into a payout."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..commerce import CanonicalObject, Money

__all__ = ["DeferredTransaction", "DeferredPart"]


class DeferredPart(BaseModel):
    """One component of the transaction as the channel names it (e.g. `Sales/ProductCharges`), signed for the
    seller (a sale positive, a fee negative)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    amount: Money


class DeferredTransaction(CanonicalObject):
    """A transaction the marketplace deferred: sold (posted) on `posted_at`, released on `released_at` (None while
    still deferred). Its parts add up to `total`."""

    kind: ClassVar[str] = "deferred_transaction"
    transaction_id: str
    transaction_type: str = Field(description="the channel's word, e.g. Shipment or Refund")
    status: Literal["deferred", "released"]
    posted_at: datetime
    #: when the money is (or was) due out of deferral: Amazon's maturityDate
    maturity_at: datetime | None = None
    released_at: datetime | None = None
    reason: str | None = Field(None, description="why it was deferred, e.g. DD7 or B2B")
    order_id: str | None = None
    settlement_id: str | None = Field(None, description="the payout that carried it once released")
    marketplace: str | None = None
    total: Money
    parts: list[DeferredPart] = Field(default_factory=list)

    @property
    def natural_id(self) -> str:
        return self.transaction_id
