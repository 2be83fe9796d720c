"""Report rows → canonical objects: all-orders rows → `Order` (as Orders v0 would give it), FBA shipments →
`Shipment`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ledgerlink import (
    Address, Customer, Money, Order, OrderLine, RecordError, Shipment, ShipmentLine, SourceRef, to_decimal,
)

from ..marketplaces import MARKETPLACE_CURRENCY, prices_include_tax
from ..orders.normalise import PAID_STATUSES
from ..timestamps import parse_time
from .streams import AllOrdersReportStream, FbaShipmentsStream

__all__ = ["normalise_all_orders", "normalise_fba_shipment", "SALES_CHANNEL_MARKETPLACE"]

#: the all-orders report names its marketplace by site, not id
SALES_CHANNEL_MARKETPLACE = {
    "amazon.com": "ATVPDKIKX0DER", "amazon.ca": "A2EUQ1WTGCTBG2", "amazon.com.mx": "A1AM78C64UM0Y8",
    "amazon.com.br": "A2Q3Y263D00KWC", "amazon.co.uk": "A1F83G8C2ARO7P", "amazon.de": "A1PA6795UKMFR9",
    "amazon.fr": "A13V1IB3VIYZZH", "amazon.it": "APJ6JRA9NG5V4", "amazon.es": "A1RKKUPIHCS9HS",
    "amazon.nl": "A1805IZSGTT6HS", "amazon.se": "A2NODRKZP88ZB9", "amazon.pl": "A1C3SOZRARQ6R3",
    "amazon.co.jp": "A1VC38T7YXB528", "amazon.com.au": "A39IBJ37TRP1C6", "amazon.sg": "A19VAU5U5O7RUS",
    "amazon.in": "A21TJRUUN4KGV",
}
#: marketplaces where Amazon collects and remits the sales tax itself (the report has no TaxCollection column;
#: like Orders v0's, it applies once the order is priced)
FACILITATOR_MARKETPLACES = frozenset({"ATVPDKIKX0DER"})
#: the report's order-status → Orders v0 OrderStatus (so both paths plan the same order)
REPORT_STATUS = {"Pending": "Pending", "PendingAvailability": "PendingAvailability", "Unshipped": "Unshipped",
                 "PartiallyShipped": "PartiallyShipped", "Shipping": "PartiallyShipped", "Shipped": "Shipped",
                 "Cancelled": "Canceled", "Canceled": "Canceled", "Complete": "Shipped",
                 "InvoiceUnconfirmed": "InvoiceUnconfirmed", "Unfulfillable": "Unfulfillable"}
_ROW_MONEY = {"tax": "item-tax", "shipping": "shipping-price", "shipping_tax": "shipping-tax",
              "gift_wrap": "gift-wrap-price", "gift_wrap_tax": "gift-wrap-tax"}
_DISCOUNTS = {"discount": "item-promotion-discount", "shipping_discount": "ship-promotion-discount"}
_STREAM = AllOrdersReportStream.name


def normalise_all_orders(record: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Order]:
    """One order of the all-orders report (its item rows) → the canonical Order, keyed by `amazon-order-id`
    like Orders v0, with the same amounts (discounts positive, as v0's PromotionDiscount), so a back-filled
    order and the same order read through getOrders plan the same idempotency key."""
    order_id = str(record.get("amazon-order-id") or "")
    if not order_id:
        raise RecordError("report row has no amazon-order-id", stream=_STREAM, field="amazon-order-id")
    rows = [r for r in record.get("rows") or [] if isinstance(r, dict)]
    if not rows:
        raise RecordError("order has no rows", stream=_STREAM, key=order_id, field="rows")
    first = rows[0]
    raw_status = str(first.get("order-status") or "")
    status = REPORT_STATUS.get(raw_status)
    if status is None:
        raise RecordError(f"unknown order-status {raw_status!r}", stream=_STREAM, key=order_id, field="order-status",
                          hint=f"known: {', '.join(sorted(REPORT_STATUS))}; tell ledgerlink_amazon_sp's authors")
    channel = str(first.get("sales-channel") or "")
    marketplace = SALES_CHANNEL_MARKETPLACE.get(channel.lower())
    if marketplace is None:
        raise RecordError(f"unknown sales-channel {channel!r}", stream=_STREAM, key=order_id, field="sales-channel",
                          hint="the report names the marketplace by site (Amazon.com); non-Amazon channels are "
                               "not orders of this seller's Amazon account")
    currency = next((str(r["currency"]).upper() for r in rows if r.get("currency")), None) or MARKETPLACE_CURRENCY[
        marketplace]
    fulfilment = str(first.get("fulfillment-channel") or "")
    if fulfilment not in ("Amazon", "Merchant"):
        raise RecordError(f"unknown fulfillment-channel {fulfilment!r}", stream=_STREAM, key=order_id,
                          field="fulfillment-channel", hint="expected Amazon or Merchant")
    address = Address(city=first.get("ship-city") or None, region=first.get("ship-state") or None,
                      postal_code=first.get("ship-postal-code") or None, country=first.get("ship-country") or None)
    return [Order(
        source="amazon_sp", source_refs=[SourceRef(stream=_STREAM, key=order_id)], order_id=order_id,
        channel="amazon", marketplace=marketplace, sales_channel=channel,
        fulfilment="channel" if fulfilment == "Amazon" else "merchant", status=status, paid=status in PAID_STATUSES,
        placed_at=_row_time(first, "purchase-date", order_id), updated_at=_row_time(
            first, "last-updated-date", order_id),
        currency=currency,
        customer=Customer(source="amazon_sp", customer_id=f"{marketplace}:{currency}", display_name="Amazon customer",
                          marketplace=marketplace, currency=currency),
        shipping_address=address if any(address.model_dump().values()) else None,
        lines=[_report_line(order_id, n, row, currency, prices_include_tax(marketplace)) for n, row in enumerate(rows)],
        tax_collected_by="marketplace" if marketplace in FACILITATOR_MARKETPLACES and any(
            r.get("item-tax") for r in rows) else "seller",
        is_business_order=str(first.get("is-business-order") or "").lower() == "true",
    )]


def _report_line(order_id: str, n: int, row: dict[str, Any], currency: str, tax_included: bool = False) -> OrderLine:
    """One item row. In a VAT marketplace (`tax_included`) the report's prices include their tax column, as
    getOrders' do there: the line is made tax-exclusive the same way, so both paths plan the same totals."""
    sku = row.get("sku") or ""
    key = f"{order_id}/{sku or n}"
    if not sku:
        raise RecordError("missing SKU", stream=_STREAM, key=key, field="sku",
                          hint=f"fix the listing in Seller Central, or map ASIN {row.get('asin') or '?'} to a SKU")
    if row.get("currency") and str(row["currency"]).upper() != currency:
        raise RecordError(f"{row['currency']} row in a {currency} order", stream=_STREAM, key=key, field="currency")
    try:
        quantity = Decimal(int(str(row.get("quantity") or "0")))
    except ValueError:
        raise RecordError(f"{row.get('quantity')!r} is not a quantity", stream=_STREAM, key=key,
                          field="quantity") from None
    amount = _row_money(row, "item-price", currency, key)  # like v0's ItemPrice: quantity × unit price
    money = {f: _row_money(row, c, currency, key) for f, c in _ROW_MONEY.items()}
    if tax_included:
        amount = amount - money["tax"]
        for gross, tax in (("shipping", "shipping_tax"), ("gift_wrap", "gift_wrap_tax")):
            money[gross] = money[gross] - money[tax]
    return OrderLine(
        line_id=sku if n == 0 else f"{sku}#{n}", sku=sku, title=row.get("product-name") or None, quantity=quantity,
        unit_price=Money(amount=amount.amount / quantity if quantity else Decimal(0), currency=currency),
        amount=amount, promotion_ids=[p.strip() for p in str(row.get("promotion-ids") or "").split(",") if p.strip()],
        source_ref=SourceRef(stream=_STREAM, key=key),
        **money, **{f: _row_money(row, c, currency, key, absolute=True) for f, c in _DISCOUNTS.items()})


def _row_money(row: dict[str, Any], column: str, currency: str, key: str, *, absolute: bool = False) -> Money:
    """A money cell; empty is zero (pending and cancelled rows carry no prices). The report prints
    discounts negative; the canonical model holds them positive, as Orders v0 does."""
    text = str(row.get(column) or "").strip()
    if not text:
        return Money.zero(currency)
    try:
        amount = to_decimal(text, field=column)
    except (TypeError, ValueError) as exc:
        raise RecordError(f"unreadable amount {text!r} ({exc})", stream=_STREAM, key=key, field=column) from None
    return Money(amount=abs(amount) if absolute else amount, currency=currency)


def _row_time(row: dict[str, Any], column: str, key: str, stream: str = _STREAM) -> datetime:
    text = str(row.get(column) or "")
    try:
        return parse_time(text)
    except ValueError:
        raise RecordError(f"{text!r} is not an ISO 8601 time", stream=stream, key=key, field=column) from None



def normalise_fba_shipment(record: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Shipment]:
    """One FBA shipment → the canonical Shipment (carrier, tracking, shipped time, a line per item)."""
    stream = FbaShipmentsStream.name
    shipment_id = str(record.get("shipment-id") or "")
    if not shipment_id:
        raise RecordError("report row has no shipment-id", stream=stream, field="shipment-id")
    rows = [r for r in record.get("rows") or [] if isinstance(r, dict)]
    order_id = str(record.get("amazon-order-id") or "")
    if not rows or not order_id:
        raise RecordError("shipment has no rows or no amazon-order-id", stream=stream, key=shipment_id,
                          field="rows" if not rows else "amazon-order-id")
    lines = []
    for row in rows:
        quantity = to_decimal(row.get("quantity-shipped"), field="quantity-shipped")
        if quantity <= 0:
            raise RecordError(f"quantity-shipped {quantity} is not positive", stream=stream, key=shipment_id,
                              field="quantity-shipped")
        lines.append(ShipmentLine(sku=row.get("sku") or None, line_id=row.get("amazon-order-item-id") or None,
                                  quantity=quantity))
    first = rows[0]
    return [Shipment(source="amazon_sp", shipment_id=shipment_id, order_id=order_id,
                     carrier=first.get("carrier") or None, tracking_number=first.get("tracking-number") or None,
                     shipped_at=_row_time(first, "shipment-date", shipment_id, stream), lines=lines,
                     source_refs=[SourceRef(stream=stream, key=shipment_id)])]
