"""The orders_2026 normaliser as a columnar projection: staged 2026-01-01 orders → canonical order/line columns.

`normalise_order_2026` is the reference; this reproduces its canonical orders for the records it is sure of,
without building pydantic `Order`, `OrderLine` and `Money` models (most of the reference's cost). It is
registered with `ledgerlink.columnar` for that very function, so a pipeline that overrides the normaliser (or
binds another `tax_inclusive` set) never takes it.

Each staged text is decoded once by msgspec into typed structs: a value of another JSON type than the one the
reference reads without error (an object where it calls `.get`, text where the canonical model wants text, an
integer quantity) fails the decoding, and the record is declined. Amounts must be plain decimal strings of at
most two places in the order's currency, breakdown types and subtypes ones the reference knows, and each item's
breakdowns must add up to its `proceedsTotal` as the reference checks. Anything else — a missing SKU, a COD
fee, an unreadable amount, an unknown status — is declined, and the reference path normalises it or
dead-letters it with its own message. tests/perf_fastpath/ holds the two to the same outbox.

(A DuckDB SQL version of this projection — `json_type`/`from_json` and list lambdas over the breakdowns — gave
the same columns on the seeded orders but cost about 0.5 CPU-ms per order, more than the Python reference; see
docs/reference/performance.md.)
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec

from ledgerlink import SourceRef, columnar

from ..marketplaces import TAX_INCLUSIVE_MARKETPLACES
from .normalise import _time
from .normalise_2026 import FULFILLED_BY, FULFILLMENT_STATUSES, PAID_STATUSES_2026, STREAM, normalise_order_2026

__all__ = ["ORDERS_2026_PROJECTION", "read_orders_2026"]

_AMOUNT = re.compile(r"-?[0-9]{1,13}(\.[0-9]{1,2})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_ZERO = Decimal(0)
_CENT = Decimal("0.01")
_DETAILS = {"TAX": frozenset({"ITEM", "SHIPPING", "GIFT_WRAP", "DISCOUNT"}),
            "DISCOUNT": frozenset({"ITEM", "SHIPPING"})}
_KINDS = frozenset({"ITEM", "SHIPPING", "GIFT_WRAP", "TAX", "DISCOUNT"})


class _Money(msgspec.Struct):
    amount: str
    currencyCode: str | None = None


class _Detail(msgspec.Struct):
    subtype: str
    value: _Money


class _Breakdown(msgspec.Struct):
    type: str
    subtotal: _Money
    detailedBreakdowns: list[_Detail] | None = None


class _ItemProceeds(msgspec.Struct):
    proceedsTotal: _Money | None = None
    breakdowns: list[_Breakdown] | None = None


class _Price(msgspec.Struct):
    unitPrice: _Money | None = None


class _Product(msgspec.Struct):
    sellerSku: str
    title: str | None = None
    price: _Price | None = None


class _Promotion(msgspec.Struct):
    breakdowns: list[Any] | None = None


class _Collection(msgspec.Struct):
    model: str | None = None


class _Tax(msgspec.Struct):
    taxCollections: list[_Collection | None] | None = None


class _Item(msgspec.Struct):
    orderItemId: str
    quantityOrdered: int
    product: _Product
    proceeds: _ItemProceeds | None = None
    promotion: _Promotion | None = None
    tax: _Tax | None = None


class _Channel(msgspec.Struct):
    marketplaceId: str | None = None
    marketplaceName: str | None = None


class _Buyer(msgspec.Struct):
    buyerEmail: str | None = None
    buyerName: str | None = None


class _Address(msgspec.Struct):
    name: str | None = None
    addressLine1: str | None = None
    addressLine2: str | None = None
    addressLine3: str | None = None
    city: str | None = None
    stateOrRegion: str | None = None
    postalCode: str | None = None
    countryCode: str | None = None
    phone: str | None = None


class _Recipient(msgspec.Struct):
    deliveryAddress: _Address | None = None


class _GrandTotal(msgspec.Struct):
    currencyCode: str


class _OrderProceeds(msgspec.Struct):
    grandTotal: _GrandTotal


class _Execution(msgspec.Struct):
    paymentMethod: str | None = None


class _Payment(msgspec.Struct):
    paymentExecutions: list[_Execution | None] | None = None


class _Fulfillment(msgspec.Struct):
    fulfillmentStatus: str
    fulfilledBy: str


class _Order(msgspec.Struct):
    orderId: str
    createdTime: str
    lastUpdatedTime: str
    proceeds: _OrderProceeds
    fulfillment: _Fulfillment
    orderItems: list[_Item]
    salesChannel: _Channel | None = None
    programs: list[Any] | None = None
    buyer: _Buyer | None = None
    recipient: _Recipient | None = None
    payment: _Payment | None = None


_decode = msgspec.json.Decoder(_Order).decode


class _Decline(Exception):
    """The reference path must read this record."""


def _amount(money: _Money, currency: str) -> Decimal:
    code = money.currencyCode
    if (code and code != currency) or not _AMOUNT.fullmatch(money.amount):
        raise _Decline
    return Decimal(money.amount)


def _line(order_id: str, item: _Item, currency: str, inclusive: bool) -> columnar.ColumnarLine:
    """`normalise_2026._line` over typed values (the same arithmetic; declines where the reference raises)."""
    item_id = item.orderItemId
    sku = item.product.sellerSku
    if not item_id or not sku or item.quantityOrdered < 1:
        raise _Decline
    quantity = Decimal(item.quantityOrdered)
    price = item.product.price
    unit = _amount(price.unitPrice, currency) if price is not None and price.unitPrice is not None else None
    parts: dict[str, Decimal] = {}
    proceeds = item.proceeds
    breakdowns = (proceeds.breakdowns if proceeds is not None else None) or []
    subtotal_sum = tax_sum = _ZERO
    for b in breakdowns:
        kind = b.type
        if kind not in _KINDS:
            raise _Decline
        subtotal = _amount(b.subtotal, currency)
        subtotal_sum += subtotal
        if kind == "TAX":
            tax_sum += subtotal
        details = b.detailedBreakdowns
        if kind in _DETAILS and details:
            for d in details:
                if d.subtype not in _DETAILS[kind]:
                    raise _Decline
                _add(parts, kind, d.subtype, _amount(d.value, currency))
        else:
            _add(parts, kind, "ITEM" if kind in _DETAILS else kind, subtotal)
    total = proceeds.proceedsTotal if proceeds is not None else None
    if total is not None and breakdowns:
        expected = _amount(total, currency)
        on_top, within = subtotal_sum, subtotal_sum - tax_sum
        if inclusive and expected != within and expected == on_top:
            inclusive = False
        elif expected != (within if inclusive else on_top):
            raise _Decline
    if "ITEM/ITEM" in parts:
        amount = parts["ITEM/ITEM"]
    elif unit is not None:
        amount = unit * quantity
    else:
        amount = _ZERO
    discount_tax = parts.pop("TAX/DISCOUNT", _ZERO)
    shipping_discount_tax = _ZERO
    shipping, shipping_tax = parts.get("SHIPPING/SHIPPING", _ZERO), parts.get("TAX/SHIPPING", _ZERO)
    if discount_tax and shipping and shipping_tax and parts.get("DISCOUNT/SHIPPING"):
        shipping_discount_tax = min(discount_tax, (parts["DISCOUNT/SHIPPING"] * shipping_tax / shipping).quantize(
            _CENT, rounding=ROUND_HALF_UP))
    item_discount_tax = discount_tax - shipping_discount_tax
    if inclusive:
        amount -= parts.get("TAX/ITEM", _ZERO)
        parts["SHIPPING/SHIPPING"] = shipping - shipping_tax
        parts["GIFT_WRAP/GIFT_WRAP"] = parts.get("GIFT_WRAP/GIFT_WRAP", _ZERO) - parts.get("TAX/GIFT_WRAP", _ZERO)
        parts["DISCOUNT/ITEM"] = parts.get("DISCOUNT/ITEM", _ZERO) - item_discount_tax
        parts["DISCOUNT/SHIPPING"] = parts.get("DISCOUNT/SHIPPING", _ZERO) - shipping_discount_tax
    parts["TAX/ITEM"] = parts.get("TAX/ITEM", _ZERO) - item_discount_tax
    parts["TAX/SHIPPING"] = shipping_tax - shipping_discount_tax
    get = parts.get
    return columnar.ColumnarLine(
        line_id=item_id, sku=sku, title=item.product.title, quantity=quantity, amount=amount,
        discount=get("DISCOUNT/ITEM", _ZERO), tax=get("TAX/ITEM", _ZERO), shipping=get("SHIPPING/SHIPPING", _ZERO),
        shipping_tax=get("TAX/SHIPPING", _ZERO), shipping_discount=get("DISCOUNT/SHIPPING", _ZERO),
        gift_wrap=get("GIFT_WRAP/GIFT_WRAP", _ZERO), gift_wrap_tax=get("TAX/GIFT_WRAP", _ZERO),
        source_ref=SourceRef(stream=STREAM, key=f"{order_id}/{item_id}"))


def _add(parts: dict[str, Decimal], kind: str, sub: str, value: Decimal) -> None:
    name = f"{kind}/{sub}"
    if kind == "DISCOUNT" or name == "TAX/DISCOUNT":
        value = -value
    parts[name] = parts.get(name, _ZERO) + value


def read_order(text: str, tax_inclusive: frozenset[str] = TAX_INCLUSIVE_MARKETPLACES) -> columnar.ColumnarOrder | None:
    """One staged order's columns, or None when the reference path must read it."""
    try:
        order = _decode(text)
        order_id = order.orderId
        status, fulfilled_by = order.fulfillment.fulfillmentStatus, order.fulfillment.fulfilledBy
        currency = order.proceeds.grandTotal.currencyCode
        if (not order_id or not order.orderItems or status not in FULFILLMENT_STATUSES
                or fulfilled_by not in FULFILLED_BY or not _CURRENCY.fullmatch(currency)):
            return None
        channel = order.salesChannel or _Channel()
        marketplace = channel.marketplaceId
        inclusive = marketplace in tax_inclusive
        items = sorted(order.orderItems, key=lambda i: i.orderItemId)
        lines = [_line(order_id, item, currency, inclusive) for item in items]
        collected = any(c is not None and c.model == "MARKETPLACE_FACILITATOR"
                        for item in items if item.tax is not None for c in (item.tax.taxCollections or ()))
        payments = (order.payment.paymentExecutions if order.payment is not None else None) or []
        first = payments[0] if payments else None
        return columnar.ColumnarOrder(
            source="amazon_sp", channel="amazon", order_id=order_id, marketplace=marketplace,
            sales_channel=channel.marketplaceName, fulfilment=FULFILLED_BY[fulfilled_by], status=status,
            paid=status in PAID_STATUSES_2026,
            placed_at=_time({"t": order.createdTime}, "t", order_id, STREAM),
            updated_at=_time({"t": order.lastUpdatedTime}, "t", order_id, STREAM),
            currency=currency, tax_collected_by="marketplace" if collected else "seller",
            payment_method=first.paymentMethod if first is not None else None,
            is_business_order="AMAZON_BUSINESS" in (order.programs or ()), lines=lines,
            source_refs=[SourceRef(stream=STREAM, key=order_id)])
    except (_Decline, msgspec.ValidationError, msgspec.DecodeError, ValueError, TypeError, ArithmeticError):
        return None
    except Exception:  # noqa: BLE001 - e.g. the reference's own RecordError for a bad time: it says it better
        return None


def read_orders_2026(rows: list[tuple[str, str, int]]) -> dict[str, columnar.ColumnarOrder | None]:
    """A batch of staged (pk, data, seq) rows → each record's columns (None: the reference path reads it)."""
    return {pk: read_order(data) for pk, data, _ in rows}


#: the projection registered for `normalise_order_2026` with its default VAT marketplaces
ORDERS_2026_PROJECTION = columnar.OrderProjection(stream=STREAM, stands_for=normalise_order_2026, read=read_orders_2026)
columnar.register_order_projection(ORDERS_2026_PROJECTION)
