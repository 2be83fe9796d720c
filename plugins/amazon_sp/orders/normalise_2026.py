"""Amazon Orders API 2026-01-01 orders (items inline) → the canonical `Order`, as `normalise_order` does for v0.

Where the money comes from (the model's `OrderItem`, with `includedData` PROCEEDS, PROMOTION, TAX):

- `amount` (quantity × unit price, before discounts and tax): the `ITEM` proceeds breakdown, else
  `product.price.unitPrice` × `quantityOrdered`; `unit_price`: `product.price.unitPrice`, else amount / quantity;
- `shipping`, `gift_wrap`: the `SHIPPING`, `GIFT_WRAP` breakdowns;
- `tax`, `shipping_tax`, `gift_wrap_tax`: the `TAX` breakdown's detailed ITEM/SHIPPING/GIFT_WRAP values (all
  of it is item tax when Amazon gives no detail), less the tax of the discounts (the `DISCOUNT` detail of `TAX`,
  which reduces the proceeds: free shipping's share is the shipping's own tax rate, the rest is the item's);
- `discount`, `shipping_discount`: the `DISCOUNT` breakdown's detailed ITEM/SHIPPING values, as positive
  amounts (Amazon reports a discount as a negative subtotal);
- the subtotals must add up to the item's `proceedsTotal`, and a `COD_FEE` or `OTHER` charge, which the
  canonical order has no field for, is a RecordError rather than money silently dropped.

Where the prices include tax (Amazon's VAT marketplaces, `marketplaces.TAX_INCLUSIVE_MARKETPLACES`) the ITEM,
SHIPPING, GIFT_WRAP and DISCOUNT subtotals hold the tax the `TAX` breakdown reports, and `proceedsTotal` is
their sum without `TAX` added again; the line then takes the tax out of each (as `normalise_order` does for
v0), so the canonical line stays tax-exclusive and the order's total is what the buyer paid. An item of a VAT
marketplace whose `proceedsTotal` adds up only with `TAX` on top is read as tax-exclusive (Amazon's own
Amazon.co.uk example in the model is written so); in a tax-exclusive marketplace, breakdowns that add up only
without `TAX` are a RecordError naming the marketplace, not a guess that would shrink the sale by its tax.

Tax is collected by the marketplace when any item's `tax.taxCollections[].model` is MARKETPLACE_FACILITATOR.
Each line's `source_ref` is `orders_2026` / `<orderId>/<orderItemId>` (the items are staged inside the order).
Statuses are Amazon's 2026 `fulfillmentStatus` values (SHIPPED, UNSHIPPED, …), as the channel says them.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerlink import Address, Customer, Money, Order, OrderLine, RecordError, SourceRef, to_decimal

from ..marketplaces import MARKETPLACE_CURRENCY, TAX_INCLUSIVE_MARKETPLACES, prices_include_tax
from .normalise import _AMOUNT, _NEWER, _time

__all__ = ["normalise_order_2026", "PAID_STATUSES_2026"]

STREAM = "orders_2026"
#: fulfilment statuses in which the buyer's payment is authorised
PAID_STATUSES_2026 = frozenset({"UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED"})
_ZERO = Decimal(0)
_CENT = Decimal("0.01")
#: the model's FulfillmentStatus enum, and fulfilledBy's documented values → the canonical fulfilment
FULFILLMENT_STATUSES = PAID_STATUSES_2026 | {"PENDING_AVAILABILITY", "PENDING", "CANCELLED", "UNFULFILLABLE"}
FULFILLED_BY = {"AMAZON": "channel", "MERCHANT": "merchant"}
#: proceeds categories the canonical order has no field for
_UNSUPPORTED = ("COD_FEE", "OTHER")


def normalise_order_2026(order: dict[str, Any], related: dict[str, list[dict[str, Any]]], *,
                         tax_inclusive: Collection[str] = TAX_INCLUSIVE_MARKETPLACES) -> list[Order]:
    """One 2026-01-01 `Order` (with its `orderItems`) → one canonical Order; `related` is unused.
    `tax_inclusive`: the marketplace ids whose prices include tax (default: Amazon's VAT marketplaces)."""
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
    inclusive = prices_include_tax(marketplace, tax_inclusive)
    lines = [_line(order_id, item, currency, inclusive, marketplace) for item in items]
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


def _line(order_id: str, item: dict[str, Any], currency: str, inclusive: bool,
          marketplace: str | None) -> OrderLine:
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
    subtotal_sum = tax_sum = _ZERO
    for n, b in enumerate(breakdowns):
        kind = str(b.get("type") or "")
        where = f"proceeds.breakdowns[{n}]"
        subtotal = _money(b.get("subtotal"), currency, key, f"{where}.subtotal")
        subtotal_sum += subtotal
        if kind == "TAX":
            tax_sum += subtotal
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
        on_top, within = subtotal_sum, subtotal_sum - tax_sum  # TAX added to the prices, or inside them
        if inclusive and expected != within and expected == on_top:
            inclusive = False  # the item's own total puts its tax on top (as Amazon's own UK example does)
        elif expected != (within if inclusive else on_top):
            shown = f"{on_top}" if not tax_sum else f"{on_top} with TAX on top, {within} with TAX included,"
            raise RecordError(f"proceeds breakdowns add up to {shown} but proceedsTotal is {expected}",
                              stream=STREAM, key=key, field="proceeds.breakdowns",
                              hint=f"if {marketplace or 'this marketplace'}'s prices include tax, add it to the "
                                   "normaliser's tax_inclusive marketplaces" if expected == within else None)

    if "ITEM/ITEM" in parts:
        amount = parts["ITEM/ITEM"]
    elif unit is not None:
        amount = unit * quantity
    else:
        amount = _ZERO  # Amazon withholds prices until payment is authorised (PENDING, CANCELLED)
    # the discounts' tax (a negative TAX detail, held here as a positive amount) lowers the tax: free
    # shipping takes the shipping's own rate, the rest is the item's
    discount_tax = parts.pop("TAX/DISCOUNT", _ZERO)
    shipping_discount_tax = _ZERO
    shipping, shipping_tax = parts.get("SHIPPING/SHIPPING", _ZERO), parts.get("TAX/SHIPPING", _ZERO)
    if discount_tax and shipping and shipping_tax and parts.get("DISCOUNT/SHIPPING"):
        shipping_discount_tax = min(discount_tax, (parts["DISCOUNT/SHIPPING"] * shipping_tax / shipping).quantize(
            _CENT, rounding=ROUND_HALF_UP))
    item_discount_tax = discount_tax - shipping_discount_tax
    if inclusive:  # take the tax out of each price and discount that holds it
        amount -= parts.get("TAX/ITEM", _ZERO)
        parts["SHIPPING/SHIPPING"] = shipping - shipping_tax
        parts["GIFT_WRAP/GIFT_WRAP"] = parts.get("GIFT_WRAP/GIFT_WRAP", _ZERO) - parts.get("TAX/GIFT_WRAP", _ZERO)
        parts["DISCOUNT/ITEM"] = parts.get("DISCOUNT/ITEM", _ZERO) - item_discount_tax
        parts["DISCOUNT/SHIPPING"] = parts.get("DISCOUNT/SHIPPING", _ZERO) - shipping_discount_tax
        unit = None  # product.price.unitPrice is the shelf price, tax included
    parts["TAX/ITEM"] = parts.get("TAX/ITEM", _ZERO) - item_discount_tax
    parts["TAX/SHIPPING"] = shipping_tax - shipping_discount_tax
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
          "TAX/DISCOUNT", "DISCOUNT/ITEM", "DISCOUNT/SHIPPING"}


def _add(parts: dict[str, Decimal], kind: str, sub: str, value: Decimal, key: str, field: str) -> None:
    name = f"{kind}/{sub}"
    if name not in _KNOWN:
        if not value:
            return
        raise RecordError(f"{kind} {sub} amount {value} has no place in the canonical order", stream=STREAM, key=key,
                          field=field, hint="override the orders_2026 normaliser, or report it to ledgerlink")
    if kind == "DISCOUNT" or name == "TAX/DISCOUNT":
        value = -value  # a discount (and its tax) reduces proceeds: Amazon's value is negative, ours positive
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
from . import normalise_columns  # noqa: E402,F401 - registers the columnar projection of normalise_order_2026
