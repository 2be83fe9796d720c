"""The mapping of the loopback shop's orders (read by a declarative Airbyte manifest) to canonical orders; loaded
by the `airbyte` source from this file's path (`source.config.normalisers: …/shop_orders.py`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import ledgerlink
from ledgerlink import Customer, Money, Order, OrderLine, RecordError, SourceRef


def normalisers() -> list[ledgerlink.Normaliser]:
    return [ledgerlink.Normaliser(stream="orders", function=shop_order)]


def shop_order(order: dict, related: dict) -> list[Order]:
    key = str(order["id"])
    currency = order.get("currency") or ""
    if len(currency) != 3:
        raise RecordError(f"{currency!r} is not a currency code", stream="orders", key=key, field="currency")
    zero = Money.zero(currency)
    lines = []
    for n, line in enumerate(order.get("lines") or [], start=1):
        quantity, price = Decimal(line["quantity"]), Money(amount=Decimal(str(line["price"])), currency=currency)
        lines.append(OrderLine(line_id=f"{key}/{n}", sku=line["sku"], quantity=quantity, unit_price=price,
                               amount=Money(amount=price.amount * quantity, currency=currency), discount=zero,
                               tax=zero, shipping=zero, shipping_tax=zero, shipping_discount=zero, gift_wrap=zero,
                               gift_wrap_tax=zero))
    when = datetime.fromisoformat(order["updated_at"].replace("Z", "+00:00"))
    return [Order(source="loopback-shop", source_refs=[SourceRef(stream="orders", key=key)], order_id=key,
                  channel="shop", fulfilment="merchant", status="Completed", paid=True, placed_at=when,
                  updated_at=when, currency=currency, lines=lines,
                  customer=Customer(source="loopback-shop", customer_id=order["email"], display_name=order["email"],
                                    email=order["email"], currency=currency))]
