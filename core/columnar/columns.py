"""The canonical order and line columns a columnar projection produces and a columnar planner reads.

They carry the canonical `Order`'s and `OrderLine`'s values as plain Python (Decimals, strings, datetimes), read
once per record, without pydantic models or `Money` objects. The attribute names are the canonical
model's, so the shared posting rules (`ledgerlink.posting`: which document, customer, item, dimensions, payment
method) read a `ColumnarOrder` as they read an `Order`. What the columns cannot say (a unit price the source
only implies, an address, the buyer) is not here: a planner that needs it plans with the reference path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ..commerce import SourceRef

__all__ = ["ColumnarOrder", "ColumnarLine", "LINE_AMOUNTS"]

#: the line's amount columns, each a Decimal in the order's currency (tax-exclusive, as `OrderLine`'s)
LINE_AMOUNTS = ("amount", "discount", "tax", "shipping", "shipping_tax", "shipping_discount", "gift_wrap",
                "gift_wrap_tax")


@dataclass(slots=True)
class ColumnarLine:
    """One canonical order line as columns (no `unit_price`: receipts derive it from amount and quantity)."""

    line_id: str
    sku: str
    title: str | None
    quantity: Decimal
    amount: Decimal
    discount: Decimal
    tax: Decimal
    shipping: Decimal
    shipping_tax: Decimal
    shipping_discount: Decimal
    gift_wrap: Decimal
    gift_wrap_tax: Decimal
    source_ref: SourceRef | None = None


@dataclass(slots=True)
class ColumnarOrder:
    """One canonical order as columns, with its lines in the canonical order's line order."""

    source: str
    channel: str
    order_id: str
    marketplace: str | None
    sales_channel: str | None
    fulfilment: str
    status: str
    paid: bool
    placed_at: datetime
    updated_at: datetime
    currency: str
    tax_collected_by: str
    payment_method: str | None
    is_business_order: bool
    lines: list[ColumnarLine]
    source_refs: list[SourceRef]
    #: the pipeline's store and whether it is in the key (`CanonicalObject.stamp_store`)
    store: str | None = None
    store_in_key: bool = True
    amount_paid: None = None
    kind: str = field(default="order")

    @property
    def natural_key(self) -> str:
        """The canonical `Order.natural_key` (`source[@store]/order/id`)."""
        if self.store and self.store_in_key:
            return f"{self.source}@{self.store}/order/{self.order_id}"
        return f"{self.source}/order/{self.order_id}"

    def total(self, name: str) -> Decimal:
        """One amount column summed over the lines (as `Order.total(name).amount`)."""
        total = Decimal(0)
        for line in self.lines:
            total += getattr(line, name)
        return total

    def grand_total(self) -> Decimal:
        """Lines, tax, shipping and gift wrap less both discounts (as `Order.grand_total.amount`)."""
        gross = Decimal(0)
        for name in ("amount", "tax", "shipping", "shipping_tax", "gift_wrap", "gift_wrap_tax"):
            gross += self.total(name)
        return gross - self.total("discount") - self.total("shipping_discount")
