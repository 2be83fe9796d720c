"""Shared by the returns tests (a module of its own: test directories are not packages)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from ledgerlink import (
    Customer, MappingEngine, Money, Order, OrderLine, PostedDocument, Refund, RefundLine, Return, SourceRef,
)

#: the Amazon sandbox seeds the last ~60 days; starting 75 days back keeps the returns report to three windows
AMAZON_START = (datetime.now(timezone.utc) - timedelta(days=75)).replace(microsecond=0).isoformat()

WHEN = datetime(2026, 3, 4, 5, 6, tzinfo=timezone.utc)


@dataclass
class PlanCtx:
    """The runtime's PlanContext for one destination's default mappings, with `posted` (what the runtime knows
    was planned for a natural key) when `sales` is given."""

    destination: Any
    options: dict[str, Any] = field(default_factory=dict)
    sales: list[PostedDocument] | None = None
    cache: dict[Any, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.engine = MappingEngine()
        for name, (package, resource) in self.destination.mappings.items():
            self.engine.add_resource(name, package, resource)
        if self.sales is not None:
            self.posted = lambda natural_key: [d for d in self.sales or [] if d.natural_key == natural_key]

    def render(self, template: str, record_key: str | None = None, **variables: Any) -> Any:
        return self.engine.render(template, record_key, options=self.options, **variables)


def usd(text: str) -> Money:
    return Money(amount=Decimal(text), currency="USD")


def make_order(order_id: str = "111-1", tax_collected_by: str = "seller") -> Order:
    """A shipped order: 2 × SKU-A at 10.00 with 1.60 tax, 5.00 shipping; total 26.60."""
    zero = usd("0")
    line = OrderLine(line_id="1", sku="SKU-A", title="Mug", quantity=Decimal(2), unit_price=usd("10.00"),
                     amount=usd("20.00"), discount=zero, tax=usd("1.60"), shipping=usd("5.00"), shipping_tax=zero,
                     shipping_discount=zero, gift_wrap=zero, gift_wrap_tax=zero)
    return Order(source="amazon_sp", order_id=order_id, channel="amazon", marketplace="ATVPDKIKX0DER",
                 sales_channel="Amazon.com", fulfilment="channel", status="Shipped", paid=True, placed_at=WHEN,
                 updated_at=WHEN, currency="USD", lines=[line], tax_collected_by=tax_collected_by,  # type: ignore
                 customer=Customer(source="amazon_sp", customer_id="b-1", display_name="Ada  Lovelace"),
                 source_refs=[SourceRef(stream="orders", key=order_id)])


def make_refund(amount: str = "10.00", tax: str = "0.80", shipping: str | None = None, restock: bool = False,
                order_id: str = "111-1") -> Refund:
    return Refund(source="amazon_sp", refund_id=f"{order_id}/ADJ1", order_id=order_id, refunded_at=WHEN,
                  currency="USD", shipping=usd(shipping) if shipping else None, reason="Refund Order",
                  lines=[RefundLine(sku="SKU-A", quantity=Decimal(1), amount=usd(amount), tax=usd(tax),
                                    restock=restock)],
                  source_refs=[SourceRef(stream="finances", key="T1")])


def make_return(disposition: str | None = "SELLABLE", sellable: bool = True, quantity: str = "1") -> Return:
    return Return(source="amazon_sp", return_id="111-1/SKU-A/LPN1", order_id="111-1", returned_at=WHEN, sku="SKU-A",
                  quantity=Decimal(quantity), disposition=disposition, sellable=sellable,
                  source_refs=[SourceRef(stream="fba_customer_returns", key="111-1/SKU-A/LPN1")])


def sale_of(destination: Any, order: Order, options: dict[str, Any] | None = None) -> PostedDocument:
    """The sale the destination plans for `order`, as the runtime would hand it back."""
    writes = destination.plan(order, PlanCtx(destination, options or {}))
    sale = next(w for w in writes if w.stream in ("SalesReceipt", "Invoice"))
    return PostedDocument(key=sale.key, stream=sale.stream, data=sale.data, natural_key=order.natural_key)
