"""Amazon orders and their items → the canonical `Order` (with lines and a customer).

Amounts are read from Amazon's `Money.Amount` strings with `to_decimal`; no float touches them.
Anything that cannot be read raises `RecordError` naming the order (and item) and the field.

The canonical line is tax-exclusive whatever the marketplace: `amount` is quantity × unit price before
discounts and tax, `tax` the item's tax net of the promotion's. Where the marketplace's prices include tax
(`marketplaces.TAX_INCLUSIVE_MARKETPLACES`: UK, EU, JP) each Amazon price and discount is reduced by the tax
Amazon reports inside it (ItemPrice - ItemTax, PromotionDiscount - PromotionDiscountTax, ShippingPrice -
ShippingTax, ShippingDiscount - ShippingDiscountTax, GiftWrapPrice - GiftWrapTax) and the discounts' tax
reduces the line's tax, so `Order.grand_total` is still the buyer's `OrderTotal`. In US/CA the prices are
taken as they are and the tax is on top.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any

from ledgerlink import Address, Customer, Money, Order, OrderLine, RecordError, SourceRef, to_decimal

from ..marketplaces import MARKETPLACE_CURRENCY, TAX_INCLUSIVE_MARKETPLACES, prices_include_tax

__all__ = ["normalise_order", "MARKETPLACE_CURRENCY", "PAID_STATUSES"]

#: statuses in which the buyer's payment is authorised (Pending/PendingAvailability: not yet; Canceled: never)
PAID_STATUSES = frozenset({"Unshipped", "PartiallyShipped", "Shipped", "InvoiceUnconfirmed"})
#: the Orders v0 model's OrderStatus enum: a value Amazon adds later is refused, not guessed paid or unpaid
ORDER_STATUSES = PAID_STATUSES | {"Pending", "PendingAvailability", "Canceled", "Unfulfillable"}
#: FulfillmentChannel (the model's enum) → the canonical fulfilment
FULFILMENT = {"AFN": "channel", "MFN": "merchant"}
#: TaxCollection.Model values (the model's enum): who collects the tax decides how it is booked
TAX_MODELS = frozenset({"MarketplaceFacilitator"})
_NEWER = "Amazon sent a value ledgerlink_amazon_sp does not know: upgrade the plugin, or normalise it yourself"

_AMOUNT = re.compile(r"^[+-]?\d+(\.\d+)?$")
_ITEM_MONEY = {  # OrderLine field → OrderItem field
    "discount": "PromotionDiscount", "tax": "ItemTax", "shipping": "ShippingPrice", "shipping_tax": "ShippingTax",
    "shipping_discount": "ShippingDiscount", "gift_wrap": "GiftWrapPrice", "gift_wrap_tax": "GiftWrapTax",
}


def normalise_order(order: dict[str, Any], related: dict[str, list[dict[str, Any]]], *,
                    tax_inclusive: Collection[str] = TAX_INCLUSIVE_MARKETPLACES) -> list[Order]:
    """One Amazon Order plus its staged `order_items` → one canonical Order.

    Canceled orders still become Orders (status Canceled, paid False): the destination decides.
    `tax_inclusive`: the marketplace ids whose prices include tax (default: Amazon's VAT marketplaces)."""
    order_id = str(order.get("AmazonOrderId") or "")
    if not order_id:
        raise RecordError("order has no AmazonOrderId", stream="orders", field="AmazonOrderId")
    status = str(order.get("OrderStatus") or "")
    if status not in ORDER_STATUSES:
        raise RecordError(f"unknown OrderStatus {status!r}" if status else "order has no OrderStatus",
                          stream="orders", key=order_id, field="OrderStatus", hint=_NEWER if status else None)
    channel = order.get("FulfillmentChannel")
    if channel not in FULFILMENT:
        raise RecordError(f"unknown FulfillmentChannel {channel!r} (expected AFN or MFN)", stream="orders",
                          key=order_id, field="FulfillmentChannel", hint=_NEWER if channel else None)
    items = sorted(related.get("order_items") or [], key=lambda i: str(i.get("OrderItemId")))
    if not items:
        pending = status in ("Pending", "PendingAvailability")
        raise RecordError(f"{status or 'the'} order has no items", stream="orders", key=order_id, field="OrderItems",
                          hint="Amazon lists a pending order's items once payment is authorised; it is read again "
                               "when it updates" if pending else "select the order_items stream and sync again")
    _check_units(order, items, order_id)
    marketplace = order.get("MarketplaceId")
    currency = _currency(order, items, order_id)
    buyer = order.get("BuyerInfo") or {}
    customer = Customer(
        source="amazon_sp", customer_id=buyer.get("BuyerEmail") or f"{marketplace}:{currency}",
        display_name=buyer.get("BuyerName") or "Amazon customer", email=buyer.get("BuyerEmail"),
        marketplace=marketplace, currency=currency)
    return [Order(
        source="amazon_sp", source_refs=[SourceRef(stream="orders", key=order_id)], order_id=order_id,
        channel="amazon", marketplace=marketplace, sales_channel=order.get("SalesChannel"),
        fulfilment=FULFILMENT[channel],
        status=status, paid=status in PAID_STATUSES,
        placed_at=_time(order, "PurchaseDate", order_id), updated_at=_time(order, "LastUpdateDate", order_id),
        currency=currency, customer=customer, shipping_address=_address(order.get("ShippingAddress")),
        lines=[_line(order_id, item, currency, prices_include_tax(marketplace, tax_inclusive)) for item in items],
        tax_collected_by="marketplace" if any(_tax_model(order_id, i) for i in items) else "seller",
        payment_method=order.get("PaymentMethod"), is_business_order=bool(order.get("IsBusinessOrder")),
    )]


def _line(order_id: str, item: dict[str, Any], currency: str, inclusive: bool) -> OrderLine:
    item_id = str(item.get("OrderItemId") or "")
    key = f"{order_id}/{item_id}"
    if not item_id:
        raise RecordError("order item has no OrderItemId", stream="order_items", key=order_id, field="OrderItemId")
    sku = item.get("SellerSKU")
    if not sku:
        raise RecordError("missing SKU", stream="order_items", key=key, field="SellerSKU",
                          hint=f"fix the listing in Seller Central, or map ASIN {item.get('ASIN') or '?'} to a SKU")
    try:
        quantity = Decimal(int(item.get("QuantityOrdered")))
    except (TypeError, ValueError):
        raise RecordError(f"{item.get('QuantityOrdered')!r} is not a quantity", stream="order_items", key=key,
                          field="QuantityOrdered") from None
    money = {field: _money(item, name, currency, key) for field, name in _ITEM_MONEY.items()}
    amount = _money(item, "ItemPrice", currency, key)  # Amazon's ItemPrice is already quantity × unit price
    if inclusive:  # take out the tax each price and discount holds (see the module's docstring)
        discount_tax = _money(item, "PromotionDiscountTax", currency, key)
        shipping_discount_tax = _money(item, "ShippingDiscountTax", currency, key)
        amount = amount - money["tax"]
        money["tax"] = money["tax"] - discount_tax
        money["discount"] = money["discount"] - discount_tax
        money["shipping"] = money["shipping"] - money["shipping_tax"]
        money["shipping_tax"] = money["shipping_tax"] - shipping_discount_tax
        money["shipping_discount"] = money["shipping_discount"] - shipping_discount_tax
        money["gift_wrap"] = money["gift_wrap"] - money["gift_wrap_tax"]
    unit = Money(amount=amount.amount / quantity if quantity else Decimal(0), currency=currency)
    return OrderLine(
        line_id=item_id, sku=sku, title=item.get("Title"), quantity=quantity, unit_price=unit, amount=amount,
        promotion_ids=[str(p) for p in item.get("PromotionIds") or []],
        source_ref=SourceRef(stream="order_items", key=key), **money)


def _check_units(order: dict[str, Any], items: list[dict[str, Any]], order_id: str) -> None:
    """The order's shipped + unshipped units must be its staged items' units: an item that could not be staged
    (a dead letter of its own) must not let the order post without that line."""
    shipped, unshipped = order.get("NumberOfItemsShipped"), order.get("NumberOfItemsUnshipped")
    if not isinstance(shipped, int) or not isinstance(unshipped, int):
        return
    try:
        units = sum(int(i.get("QuantityOrdered")) for i in items)
    except (TypeError, ValueError):
        return  # the line itself says which quantity is unreadable
    if units != shipped + unshipped:
        raise RecordError(f"the order has {shipped + unshipped} units, its {len(items)} staged item(s) {units}",
                          stream="orders", key=order_id, field="OrderItems",
                          hint="an item of this order is missing (see the order_items dead letters); it is "
                               "normalised again when its items are read again")


def _tax_model(order_id: str, item: dict[str, Any]) -> bool:
    """Whether Amazon collects this item's tax; an unknown TaxCollection.Model is refused, not booked as ours."""
    model = (item.get("TaxCollection") or {}).get("Model")
    if model is not None and model not in TAX_MODELS:
        raise RecordError(f"unknown TaxCollection.Model {model!r}", stream="order_items",
                          key=f"{order_id}/{item.get('OrderItemId')}", field="TaxCollection.Model", hint=_NEWER)
    return model is not None


def _money(item: dict[str, Any], name: str, currency: str, key: str) -> Money:
    """An item's Money field; absent means zero in the order's currency."""
    value = item.get(name)
    if value is None:
        return Money.zero(currency)
    if not isinstance(value, dict):
        raise RecordError(f"expected a Money object, got {value!r}", stream="order_items", key=key, field=name)
    code = value.get("CurrencyCode") or currency
    if code != currency:
        raise RecordError(f"{code or 'no currency'} amount in a {currency} order", stream="order_items", key=key,
                          field=f"{name}.CurrencyCode")
    amount = value.get("Amount")
    try:
        if isinstance(amount, str) and not _AMOUNT.match(amount.strip()):
            # to_decimal also reads report formats ("1.234,56"); SP-API JSON only ever uses "1234.56"
            raise ValueError("not a plain decimal")
        return Money(amount=to_decimal(amount, field=name), currency=currency)
    except (TypeError, ValueError) as exc:
        raise RecordError(f"unreadable amount {amount!r} ({exc})", stream="order_items", key=key,
                          field=f"{name}.Amount", hint="Amazon sends amounts as decimal strings, e.g. \"12.34\"") from None


def _currency(order: dict[str, Any], items: list[dict[str, Any]], order_id: str) -> str:
    """From OrderTotal, else any item amount, else the marketplace (Pending/Canceled orders carry no amounts)."""
    candidates = [order.get("OrderTotal")] + [i.get(f) for i in items for f in ("ItemPrice", *_ITEM_MONEY.values())]
    for money in candidates:
        if isinstance(money, dict) and money.get("CurrencyCode"):
            return str(money["CurrencyCode"]).upper()
    currency = MARKETPLACE_CURRENCY.get(str(order.get("MarketplaceId")))
    if currency is None:
        raise RecordError("no amount says which currency this order is in", stream="orders", key=order_id,
                          field="OrderTotal.CurrencyCode",
                          hint=f"marketplace {order.get('MarketplaceId')!r} is unknown to ledgerlink_amazon_sp")
    return currency


def _time(order: dict[str, Any], name: str, order_id: str, stream: str = "orders") -> datetime:
    """An ISO 8601 time field of an order (both Orders APIs write them so)."""
    text = order.get(name)
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"{text!r} is not an ISO 8601 time", stream=stream, key=order_id, field=name) from None


def _address(raw: dict[str, Any] | None) -> Address | None:
    if not raw:
        return None
    return Address(name=raw.get("Name"), line1=raw.get("AddressLine1"), line2=raw.get("AddressLine2"),
                   line3=raw.get("AddressLine3"), city=raw.get("City"), region=raw.get("StateOrRegion"),
                   postal_code=raw.get("PostalCode"), country=raw.get("CountryCode"), phone=raw.get("Phone"))
