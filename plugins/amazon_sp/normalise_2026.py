"""Amazon Orders API 2026-01-01 orders (items inline) → the canonical `Order`, as `normalise_order` does for v0.

Where the money comes from (the model's `OrderItem`, with `includedData` PROCEEDS, PROMOTION, TAX):

- `amount` (quantity × unit price, before discounts and tax): the `ITEM` proceeds breakdown, else
  `product.price.unitPrice` × `quantityOrdered`; `unit_price`: `product.price.unitPrice`, else amount / quantity;
- `shipping`, `gift_wrap`: the `SHIPPING`, `GIFT_WRAP` breakdowns;
- `tax`, `shipping_tax`, `gift_wrap_tax`: the `TAX` breakdown's detailed ITEM/SHIPPING/GIFT_WRAP values (all
  of it is item tax when Amazon gives no detail);
- `discount`, `shipping_discount`: the `DISCOUNT` breakdown's detailed ITEM/SHIPPING values, as positive
  amounts (Amazon reports a discount as a negative subtotal);
- the subtotals must add up to the item's `proceedsTotal`, and a `COD_FEE` or `OTHER` charge, which the
  canonical order has no field for, is a RecordError rather than money silently dropped.

Tax is collected by the marketplace when any item's `tax.taxCollections[].model` is MARKETPLACE_FACILITATOR.
Each line's `source_ref` is `orders_2026` / `<orderId>/<orderItemId>` (the items are staged inside the order).
Statuses are Amazon's 2026 `fulfillmentStatus` values (SHIPPED, UNSHIPPED, …), as the channel says them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerlink import Address, Customer, Money, Order, OrderLine, RecordError, SourceRef, to_decimal

from .normalise import _AMOUNT, _NEWER, MARKETPLACE_CURRENCY, _time

__all__ = ["normalise_order_2026", "PAID_STATUSES_2026"]

STREAM = "orders_2026"
#: fulfilment statuses in which the buyer's payment is authorised
PAID_STATUSES_2026 = frozenset({"UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED"})
_ZERO = Decimal(0)
#: the model's FulfillmentStatus enum, and fulfilledBy's documented values → the canonical fulfilment
FULFILLMENT_STATUSES = PAID_STATUSES_2026 | {"PENDING_AVAILABILITY", "PENDING", "CANCELLED", "UNFULFILLABLE"}
FULFILLED_BY = {"AMAZON": "channel", "MERCHANT": "merchant"}
#: proceeds categories the canonical order has no field for
_UNSUPPORTED = ("COD_FEE", "OTHER")


def normalise_order_2026(order: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Order]:
    """One 2026-01-01 `Order` (with its `orderItems`) → one canonical Order; `related` is unused."""
    order_id = str(order.get("orderId") or "")
    if not order_id:
        raise RecordError("order has no orderId", stream=STREAM, field="orderId")
    items = order.get("orderItems") or []
    if not isinstance(items, list) or not items:
        raise RecordError("order has no items", stream=STREAM, key=order_id, field="orderItems",
                          hint="searchOrders always lists an order's items; check the source's records")
    items = sorted(items, key=lambda i: str(i.get("orderItemId")))
    fulfillment = order.get("fulfillment") or {}
    status = str(fulfillment.get("fulfillmentStatus") or "")
    if not status:
        raise RecordError("order has no fulfillment status", stream=STREAM, key=order_id,
                          field="fulfillment.fulfillmentStatus", hint="read searchOrders with includedData FULFILLMENT")
    if status not in FULFILLMENT_STATUSES:
        raise RecordError(f"unknown fulfillmentStatus {status!r}", stream=STREAM, key=order_id,
                          field="fulfillment.fulfillmentStatus", hint=_NEWER)
    fulfilled_by = fulfillment.get("fulfilledBy")
    if fulfilled_by not in FULFILLED_BY:
        raise RecordError(f"unknown fulfilledBy {fulfilled_by!r} (expected AMAZON or MERCHANT)", stream=STREAM,
                          key=order_id, field="fulfillment.fulfilledBy", hint=_NEWER if fulfilled_by else None)
    channel = order.get("salesChannel") or {}
    marketplace = channel.get("marketplaceId")
    currency = _currency(order, items, order_id)
    buyer = order.get("buyer") or {}
    email = buyer.get("buyerEmail")
    customer = Customer(
        source="amazon_sp", customer_id=email or f"{marketplace}:{currency}",
        display_name=buyer.get("buyerName") or "Amazon customer", email=email, marketplace=marketplace,
        currency=currency)
    lines = [_line(order_id, item, currency) for item in items]
    collected_by_amazon = any(
        (c or {}).get("model") == "MARKETPLACE_FACILITATOR"
        for item in items for c in ((item.get("tax") or {}).get("taxCollections") or []))
    payments = (order.get("payment") or {}).get("paymentExecutions") or []
    return [Order(
        source="amazon_sp", source_refs=[SourceRef(stream=STREAM, key=order_id)], order_id=order_id,
        channel="amazon", marketplace=marketplace, sales_channel=channel.get("marketplaceName"),
        fulfilment=FULFILLED_BY[fulfilled_by],
        status=status, paid=status in PAID_STATUSES_2026,
        placed_at=_time(order, "createdTime", order_id, STREAM), updated_at=_time(order, "lastUpdatedTime", order_id, STREAM),
        currency=currency, customer=customer, shipping_address=_address((order.get("recipient") or {}).get(
            "deliveryAddress")),
        lines=lines, tax_collected_by="marketplace" if collected_by_amazon else "seller",
        payment_method=(payments[0] or {}).get("paymentMethod") if payments else None,
        is_business_order="AMAZON_BUSINESS" in (order.get("programs") or []),
    )]


def _line(order_id: str, item: dict[str, Any], currency: str) -> OrderLine:
    item_id = str(item.get("orderItemId") or "")
    key = f"{order_id}/{item_id}"
    if not item_id:
        raise RecordError("order item has no orderItemId", stream=STREAM, key=order_id, field="orderItems.orderItemId")
    product = item.get("product") or {}
    sku = product.get("sellerSku")
    if not sku:
        raise RecordError("missing SKU", stream=STREAM, key=key, field="product.sellerSku",
                          hint=f"fix the listing in Seller Central, or map ASIN {product.get('asin') or '?'} to a SKU")
    raw_qty = item.get("quantityOrdered")
    if isinstance(raw_qty, bool) or not isinstance(raw_qty, (int, str)):
        raise RecordError(f"{raw_qty!r} is not a quantity", stream=STREAM, key=key, field="quantityOrdered")
    try:
        quantity = Decimal(int(raw_qty))
    except ValueError:
        raise RecordError(f"{raw_qty!r} is not a quantity", stream=STREAM, key=key, field="quantityOrdered") from None

    unit_raw = (product.get("price") or {}).get("unitPrice")
    unit = _money(unit_raw, currency, key, "product.price.unitPrice") if unit_raw is not None else None
    parts: dict[str, Decimal] = {}
    proceeds = item.get("proceeds") or {}
    breakdowns = proceeds.get("breakdowns") or []
    subtotal_sum = _ZERO
    for n, b in enumerate(breakdowns):
        kind = str(b.get("type") or "")
        where = f"proceeds.breakdowns[{n}]"
        subtotal = _money(b.get("subtotal"), currency, key, f"{where}.subtotal")
        subtotal_sum += subtotal
        if kind in _UNSUPPORTED:
            if subtotal:
                raise RecordError(f"{kind} charge of {subtotal} {currency} has no place in the canonical order",
                                  stream=STREAM, key=key, field=f"{where}.type",
                                  hint="override the orders_2026 normaliser to post it, or report it to ledgerlink")
            continue
        details = b.get("detailedBreakdowns") or []
        if kind in ("TAX", "DISCOUNT") and details:
            for m, d in enumerate(details):
                value = _money(d.get("value"), currency, key, f"{where}.detailedBreakdowns[{m}].value")
                sub = str(d.get("subtype") or "ITEM")
                _add(parts, kind, sub, value, key, f"{where}.detailedBreakdowns[{m}].subtype")
        else:
            _add(parts, kind, "ITEM" if kind in ("TAX", "DISCOUNT") else kind, subtotal, key, f"{where}.type")
    total = proceeds.get("proceedsTotal")
    if total is not None and breakdowns:
        expected = _money(total, currency, key, "proceeds.proceedsTotal")
        if expected != subtotal_sum:
            raise RecordError(f"proceeds breakdowns add up to {subtotal_sum} but proceedsTotal is {expected}",
                              stream=STREAM, key=key, field="proceeds.breakdowns")

    if "ITEM/ITEM" in parts:
        amount = parts["ITEM/ITEM"]
    elif unit is not None:
        amount = unit * quantity
    else:
        amount = _ZERO  # Amazon withholds prices until payment is authorised (PENDING, CANCELLED)
    if unit is None:
        unit = amount / quantity if quantity else _ZERO

    def money(name: str) -> Money:
        return Money(amount=parts.get(name, _ZERO), currency=currency)

    promotions = (item.get("promotion") or {}).get("breakdowns") or []
    return OrderLine(
        line_id=item_id, sku=sku, title=product.get("title"), quantity=quantity,
        unit_price=Money(amount=unit, currency=currency), amount=Money(amount=amount, currency=currency),
        discount=money("DISCOUNT/ITEM"), tax=money("TAX/ITEM"), shipping=money("SHIPPING/SHIPPING"),
        shipping_tax=money("TAX/SHIPPING"), shipping_discount=money("DISCOUNT/SHIPPING"),
        gift_wrap=money("GIFT_WRAP/GIFT_WRAP"), gift_wrap_tax=money("TAX/GIFT_WRAP"),
        promotion_ids=[str(p["promotionId"]) for p in promotions if isinstance(p, dict) and p.get("promotionId")],
        source_ref=SourceRef(stream=STREAM, key=key))


_KNOWN = {"ITEM/ITEM", "SHIPPING/SHIPPING", "GIFT_WRAP/GIFT_WRAP", "TAX/ITEM", "TAX/SHIPPING", "TAX/GIFT_WRAP",
          "DISCOUNT/ITEM", "DISCOUNT/SHIPPING"}


def _add(parts: dict[str, Decimal], kind: str, sub: str, value: Decimal, key: str, field: str) -> None:
    name = f"{kind}/{sub}"
    if name not in _KNOWN:
        if not value:
            return
        raise RecordError(f"{kind} {sub} amount {value} has no place in the canonical order", stream=STREAM, key=key,
                          field=field, hint="override the orders_2026 normaliser, or report it to ledgerlink")
    if kind == "DISCOUNT":
        value = -value  # a discount reduces proceeds: Amazon's subtotal is negative, the canonical one positive
    parts[name] = parts.get(name, _ZERO) + value


def _money(value: Any, currency: str, key: str, field: str) -> Decimal:
    """A 2026 Money (`{"amount": "12.34", "currencyCode": "USD"}`) in the order's currency, as a Decimal."""
    if not isinstance(value, dict):
        raise RecordError(f"expected a Money object, got {value!r}", stream=STREAM, key=key, field=field)
    code = value.get("currencyCode") or currency
    if code != currency:
        raise RecordError(f"{code} amount in a {currency} order", stream=STREAM, key=key, field=f"{field}.currencyCode")
    amount = value.get("amount")
    try:
        if not isinstance(amount, str) or not _AMOUNT.match(amount.strip()):
            raise ValueError("not a decimal string")
        return to_decimal(amount, field=field)
    except (TypeError, ValueError) as exc:
        raise RecordError(f"unreadable amount {amount!r} ({exc})", stream=STREAM, key=key, field=f"{field}.amount",
                          hint="Amazon sends amounts as decimal strings, e.g. \"12.34\"") from None


def _currency(order: dict[str, Any], items: list[dict[str, Any]], order_id: str) -> str:
    """From the order's proceeds, else any item amount, else the marketplace."""
    candidates: list[Any] = [(order.get("proceeds") or {}).get("grandTotal")]
    for item in items:
        candidates.append((item.get("proceeds") or {}).get("proceedsTotal"))
        candidates.append(((item.get("product") or {}).get("price") or {}).get("unitPrice"))
    for money in candidates:
        if isinstance(money, dict) and money.get("currencyCode"):
            return str(money["currencyCode"]).upper()
    marketplace = (order.get("salesChannel") or {}).get("marketplaceId")
    currency = MARKETPLACE_CURRENCY.get(str(marketplace))
    if currency is None:
        raise RecordError("no amount says which currency this order is in", stream=STREAM, key=order_id,
                          field="proceeds.grandTotal.currencyCode",
                          hint=f"marketplace {marketplace!r} is unknown to ledgerlink_amazon_sp")
    return currency


def _address(raw: dict[str, Any] | None) -> Address | None:
    if not raw:
        return None
    return Address(name=raw.get("name"), line1=raw.get("addressLine1"), line2=raw.get("addressLine2") or None,
                   line3=raw.get("addressLine3") or None, city=raw.get("city"), region=raw.get("stateOrRegion"),
                   postal_code=raw.get("postalCode"), country=raw.get("countryCode"), phone=raw.get("phone"))
