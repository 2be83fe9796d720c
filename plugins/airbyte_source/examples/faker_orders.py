"""A worked mapping for the `airbyte` source: `airbyte-source-faker`'s streams as canonical orders.

Faker's `purchases` are carts (`added_to_cart_at`) of one product (`product_id`) by one user (`user_id`); those
with `purchased_at` became sales. Each becomes one paid Order of one line at the product's `price` (USD); one
that was returned (`returned_at`) is a sale too — its refund is a separate object, not mapped here. A cart never
purchased is not an order: it maps to nothing.

Use it as `source.config.normalisers: ledgerlink_airbyte_source.examples.faker_orders`, or copy it as the start
of a mapping for another connector: `normalisers()` names, per stream, the function and the streams to join."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ledgerlink import Customer, Money, Normaliser, Order, OrderLine, RecordError, SourceRef

__all__ = ["normalisers", "purchase_to_order"]

#: the `source` of every canonical object (the first part of its natural key: `airbyte-faker/order/17`)
SOURCE = "airbyte-faker"
CURRENCY = "USD"


def normalisers() -> list[Normaliser]:
    """purchases → orders, each joined with its product (`products.id = product_id`) and user (`users.id =
    user_id`)."""
    return [Normaliser(stream="purchases", function=purchase_to_order,
                       join={"products": ("id", "product_id"), "users": ("id", "user_id")})]


def _time(record: dict[str, Any], field: str, key: str) -> datetime:
    value = record.get(field)
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise RecordError(f"{value!r} is not an ISO 8601 time", stream="purchases", key=key, field=field) from None


def _price(product: dict[str, Any], key: str) -> Money:
    try:
        amount = Decimal(str(product.get("price")))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0:
        raise RecordError(f"product {product.get('id')} has price {product.get('price')!r}", stream="products",
                          key=str(product.get("id")), field="price", hint="a price is a number of dollars, ≥ 0")
    return Money(amount=amount, currency=CURRENCY)


def purchase_to_order(purchase: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Order]:
    key = str(purchase.get("id") or "")
    if not key:
        raise RecordError("purchase has no id", stream="purchases", field="id")
    if not purchase.get("purchased_at"):
        return []  # a cart left unpaid: no sale
    products = related.get("products") or []
    if not products:
        raise RecordError(f"product {purchase.get('product_id')} is not staged", stream="purchases", key=key,
                          field="product_id", hint="read the products stream too (source.streams)")
    product = products[0]
    users = related.get("users") or []
    user = users[0] if users else {}
    price = _price(product, key)
    zero = Money.zero(CURRENCY)
    sku = f"FAKER-{product.get('id')}"
    title = " ".join(str(p) for p in (product.get("year"), product.get("make"), product.get("model")) if p) or sku
    customer_id = str(purchase.get("user_id") or "guest")
    customer = Customer(source=SOURCE, customer_id=customer_id, display_name=str(user.get("name") or customer_id),
                        email=user.get("email") or None, currency=CURRENCY)
    line = OrderLine(line_id=f"{key}/1", sku=sku, title=title, quantity=Decimal(1), unit_price=price, amount=price,
                     discount=zero, tax=zero, shipping=zero, shipping_tax=zero, shipping_discount=zero,
                     gift_wrap=zero, gift_wrap_tax=zero, source_ref=SourceRef(stream="products", key=str(product.get("id"))))
    placed = _time(purchase, "purchased_at", key)
    return [Order(source=SOURCE, source_refs=[SourceRef(stream="purchases", key=key)], order_id=key, channel="faker",
                  sales_channel="Faker", fulfilment="merchant", status="Completed", paid=True, placed_at=placed,
                  updated_at=_time(purchase, "updated_at", key), currency=CURRENCY, customer=customer, lines=[line])]
