"""Canonical orders for the shared posting rules' tests."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ledgerlink import Customer, Money, Order, OrderLine, SourceRef


def line(line_id: str, sku: str | None, qty: str, amount: str, currency: str = "USD", **extra: str) -> OrderLine:
    money = {name: Money.of(extra.get(name, "0"), currency) for name in
             ("discount", "tax", "shipping", "shipping_tax", "shipping_discount", "gift_wrap", "gift_wrap_tax")}
    q = Decimal(qty)
    return OrderLine(line_id=line_id, sku=sku, title=f"Product {sku}", quantity=q,
                     unit_price=Money.of(str(Decimal(amount) / q if q else Decimal(amount)), currency),
                     amount=Money.of(amount, currency), source_ref=SourceRef(stream="order_products", key=line_id),
                     **money)


def order(order_id: str = "100", *, channel: str = "bigcommerce", status: str = "Awaiting Fulfillment",
          paid: bool = True, currency: str = "USD", lines: list[OrderLine] | None = None, **kw: Any) -> Order:
    when = datetime(2025, 5, 1, 12, tzinfo=timezone.utc)
    buyer = kw.pop("buyer", None) or Customer(source=channel, customer_id="c1", display_name="Jane  Doe",
                                              email="Jane@Example.com")
    return Order(source=channel, order_id=order_id, channel=channel, marketplace=kw.pop("marketplace", None),
                 sales_channel=kw.pop("sales_channel", None), fulfilment=kw.pop("fulfilment", "merchant"),
                 status=status, paid=paid, placed_at=when, updated_at=when, currency=currency, customer=buyer,
                 lines=lines if lines is not None else [line("1", "MUG", "2", "20.00", currency, tax="1.60",
                                                             shipping="5.00", discount="2.00")], **kw)
