"""BigCommerce records → the canonical model: Order (with lines, customer, address, payment method),
Customer, Product (one per variant SKU), InventoryLevel, Shipment and Refund.

Money strings ("12.5000") are read with `client.money` and dates with `client.rfc2822`; anything that cannot
be read raises RecordError naming the record and the field, and becomes a dead letter.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ledgerlink import (
    Address, Customer, InventoryLevel, Money, Order, OrderLine, Product, RecordError, Refund, RefundLine, Return,
    Shipment, ShipmentLine, SourceRef,
)

from .client import money, rfc2822

__all__ = ["normalise_order", "normalise_customer", "normalise_product", "normalise_inventory", "normalise_shipment",
           "normalise_refund", "STATUS_NAMES", "PAID_STATUS_IDS", "payment_method"]

SOURCE = "bigcommerce"
#: BigCommerce's order statuses (GET /v2/order_statuses): the canonical `status` is the system name, not
#: `custom_status` (which merchants may rename)
STATUS_NAMES = {0: "Incomplete", 1: "Pending", 2: "Shipped", 3: "Partially Shipped", 4: "Refunded", 5: "Cancelled",
                6: "Declined", 7: "Awaiting Payment", 8: "Awaiting Pickup", 9: "Awaiting Shipment", 10: "Completed",
                11: "Awaiting Fulfillment", 12: "Manual Verification Required", 13: "Disputed",
                14: "Partially Refunded"}
#: payment was captured: shipped, completed, awaiting fulfilment/shipment/pickup, and (partially) refunded
#: orders, whose sale happened before the refund. Incomplete, Pending, Awaiting Payment, Cancelled, Declined,
#: Manual Verification Required and Disputed are not (yet, or any more) a sale.
PAID_STATUS_IDS = frozenset({2, 3, 4, 8, 9, 10, 11, 14})
#: transaction events that took the buyer's money
_PAYMENT_EVENTS = ("purchase", "capture", "authorization", "pending")


def _m(value: Any, currency: str, stream: str, key: str, field: str) -> Money:
    return Money(amount=money(value, stream=stream, key=key, field=field), currency=currency)


def _address(a: dict[str, Any] | None) -> Address | None:
    if not a:
        return None
    name = " ".join(p for p in (a.get("first_name"), a.get("last_name")) if p) or None
    return Address(name=name, line1=a.get("street_1") or a.get("address1") or None,
                   line2=a.get("street_2") or a.get("address2") or None, line3=a.get("company") or None,
                   city=a.get("city") or None, region=a.get("state") or a.get("state_or_province") or None,
                   postal_code=a.get("zip") or a.get("postal_code") or None,
                   country=a.get("country_iso2") or a.get("country_code") or None, phone=a.get("phone") or None)


def amount_paid(transactions: list[dict[str, Any]], currency: str) -> Money | None:
    """What an unpaid order's buyer paid so far (captured or purchased, successfully, less what was refunded):
    part of an invoice, posted as a payment of it; None when nothing was paid."""
    paid = Decimal(0)
    for t in transactions:
        if t.get("status") != "ok" or t.get("event") not in ("purchase", "capture", "refund"):
            continue
        amount = Decimal(str(t.get("amount") or 0))
        paid += -amount if t.get("event") == "refund" else amount
    return Money.of(paid, currency) if paid > 0 else None


def payment_method(transactions: list[dict[str, Any]], order: dict[str, Any]) -> str | None:
    """The method of the first successful payment transaction ("Credit Card (braintree)", an offline method's
    display name), else the order's own `payment_method` label."""
    for t in sorted(transactions, key=lambda t: str(t.get("id"))):
        if t.get("event") in _PAYMENT_EVENTS and t.get("status") in ("ok", "pending"):
            offline = (t.get("offline") or {}).get("display_name")
            if offline:
                return str(offline)
            custom = (t.get("custom") or {}).get("payment_method")
            if custom:
                return str(custom)
            method = str(t.get("method") or "").replace("_", " ").title() or None
            gateway = t.get("gateway")
            return f"{method} ({gateway})" if method and gateway and gateway != "custom" else method
    return order.get("payment_method") or None


def normalise_order(order: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Order]:
    """An order with its staged products, shipping addresses, coupons and transactions → one Order.

    Lines carry the products' ex-tax totals and taxes; order-level shipping, handling and wrapping go on the
    first line; each line's discount is its `applied_discounts` (any remainder of the order's discount and
    coupon totals lands on the last line). The canonical grand total must equal `total_inc_tax`."""
    key = str(order.get("id") or "")
    if not key:
        raise RecordError("order has no id", stream="orders", field="id")
    sid = order.get("status_id")
    if not isinstance(sid, int) or sid not in STATUS_NAMES:
        raise RecordError(f"unknown order status {sid!r} ({order.get('status')!r})", stream="orders", key=key,
                          field="status_id", hint="BigCommerce's statuses are 0-14 (GET /v2/order_statuses); a new "
                                                  "one needs a release that knows whether it is paid")
    # amounts are in the transactional currency (`default_currency_code`); `currency_code` is only the
    # currency the storefront displayed
    currency = str(order.get("default_currency_code") or order.get("currency_code") or "")
    if len(currency) != 3:
        raise RecordError(f"{currency!r} is not a currency code", stream="orders", key=key,
                          field="default_currency_code")
    products = sorted(related.get("order_products") or [], key=lambda p: int(p.get("id") or 0))
    if not products:
        raise RecordError("order has no products", stream="orders", key=key, field="products",
                          hint="select the order_products stream and sync again")

    def m(rec: dict[str, Any], field: str, stream: str = "orders", k: str = key) -> Money:
        return _m(rec.get(field, "0"), currency, stream, k, field)

    zero = Money.zero(currency)
    lines: list[OrderLine] = []
    for p in products:
        pk = f"{key}/{p.get('id')}"
        qty = Decimal(int(p.get("quantity") or 0))
        discount = zero
        for i, d in enumerate(p.get("applied_discounts") or []):
            discount = discount + _m(d.get("amount"), currency, "order_products", pk, f"applied_discounts[{i}].amount")
        sku = p.get("sku") or None
        if not sku:
            raise RecordError("order product has no SKU", stream="order_products", key=pk, field="sku",
                              hint="a custom product or one deleted without a SKU: give it a SKU in BigCommerce, "
                                   "or override the normaliser to map its name")
        lines.append(OrderLine(
            line_id=str(p.get("id")), sku=str(sku), title=p.get("name"), quantity=qty,
            unit_price=m(p, "price_ex_tax", "order_products", pk), amount=m(p, "total_ex_tax", "order_products", pk),
            discount=discount, tax=m(p, "total_tax", "order_products", pk), shipping=zero, shipping_tax=zero,
            shipping_discount=zero, gift_wrap=m(p, "wrapping_cost_ex_tax", "order_products", pk),
            gift_wrap_tax=m(p, "wrapping_cost_tax", "order_products", pk),
            promotion_ids=[str(d.get("code") or d.get("id")) for d in p.get("applied_discounts") or []],
            source_ref=SourceRef(stream="order_products", key=str(p.get("id")))))
    first, last = lines[0], lines[-1]
    shipping = m(order, "shipping_cost_ex_tax") + m(order, "handling_cost_ex_tax")
    shipping_tax = m(order, "shipping_cost_tax") + m(order, "handling_cost_tax")
    lines[0] = first.model_copy(update={
        "shipping": shipping, "shipping_tax": shipping_tax,
        "gift_wrap": first.gift_wrap + m(order, "wrapping_cost_ex_tax") - sum(
            (li.gift_wrap for li in lines), zero),  # order-level wrapping is the lines' sum; keep it once
        "gift_wrap_tax": first.gift_wrap_tax + m(order, "wrapping_cost_tax") - sum((li.gift_wrap_tax for li in lines), zero)})
    order_discount = m(order, "discount_amount") + m(order, "coupon_discount")
    remainder = order_discount - sum((li.discount for li in lines), zero)
    if remainder.amount:
        last = lines[-1]
        lines[-1] = last.model_copy(update={"discount": last.discount + remainder})
    billing = order.get("billing_address") or {}
    addresses = sorted(related.get("order_shipping_addresses") or [], key=lambda a: int(a.get("id") or 0))
    cid = int(order.get("customer_id") or 0)
    email = billing.get("email") or None
    name = " ".join(p for p in (billing.get("first_name"), billing.get("last_name")) if p) or email or "Guest"
    customer = Customer(source=SOURCE, customer_id=str(cid) if cid else f"guest:{email or key}", display_name=name,
                        email=email, phone=billing.get("phone") or None, currency=currency,
                        marketplace=str(order.get("channel_id") or 1), billing_address=_address(billing),
                        shipping_address=_address(addresses[0]) if addresses else None)
    canonical = Order(
        source=SOURCE, source_refs=[SourceRef(stream="orders", key=key)], order_id=key, channel="bigcommerce",
        marketplace=str(order.get("channel_id") or 1), sales_channel="BigCommerce", fulfilment="merchant",
        status=STATUS_NAMES[sid], paid=sid in PAID_STATUS_IDS,
        placed_at=rfc2822(order.get("date_created"), stream="orders", key=key, field="date_created"),
        updated_at=rfc2822(order.get("date_modified"), stream="orders", key=key, field="date_modified"),
        currency=currency, customer=customer, shipping_address=_address(addresses[0]) if addresses else None,
        lines=lines, tax_collected_by="seller",
        payment_method=payment_method(related.get("order_transactions") or [], order),
        amount_paid=None if sid in PAID_STATUS_IDS else amount_paid(related.get("order_transactions") or [], currency))
    expected = m(order, "total_inc_tax")
    if canonical.grand_total.amount != expected.amount:
        raise RecordError(f"the order's parts add up to {canonical.grand_total.amount} {currency} but total_inc_tax "
                          f"is {expected.amount}", stream="orders", key=key, field="total_inc_tax",
                          hint="products, shipping, handling, wrapping, tax and discounts must add up to the total; "
                               "store credit or gift certificates are payments and do not change it")
    return [canonical]


def normalise_customer(rec: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Customer]:
    key = str(rec.get("id") or "")
    if not key:
        raise RecordError("customer has no id", stream="customers", field="id")
    addresses = rec.get("addresses") or []
    name = " ".join(p for p in (rec.get("first_name"), rec.get("last_name")) if p) or rec.get("email") or key
    first = _address(addresses[0]) if addresses else None
    return [Customer(source=SOURCE, source_refs=[SourceRef(stream="customers", key=key)], customer_id=key,
                     display_name=name, email=rec.get("email") or None, phone=rec.get("phone") or None,
                     billing_address=first, shipping_address=first)]


def normalise_product(rec: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Product]:
    """One Product per variant SKU (a product without options has one base variant). Catalog prices are in
    the store's default currency, which a product record does not name: `price`/`cost` are left empty until the
    runtime can hand normalisers store-level context (see the store stream)."""
    key = str(rec.get("id") or "")
    variants = rec.get("variants") or [{"sku": rec.get("sku"), "id": None}]
    out = []
    for v in variants:
        sku = v.get("sku") or rec.get("sku")
        if not sku:
            continue
        labels = " / ".join(str(o.get("label")) for o in v.get("option_values") or [] if o.get("label"))
        out.append(Product(source=SOURCE, source_refs=[SourceRef(stream="products", key=key)], sku=str(sku),
                           name=f"{rec.get('name')} - {labels}" if labels else str(rec.get("name") or sku),
                           item_type="inventory" if rec.get("inventory_tracking") in ("product", "variant")
                           else "non_inventory"))
    return out


def normalise_inventory(rec: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[InventoryLevel]:
    identity = rec.get("identity") or {}
    key = f"{rec.get('location_id')}/{rec.get('variant_id')}"
    sku = identity.get("sku")
    if not sku:
        raise RecordError("inventory item has no SKU", stream="inventory_items", key=key, field="identity.sku")
    return [InventoryLevel(source=SOURCE, source_refs=[SourceRef(stream="inventory_items", key=key)], sku=str(sku),
                           location=str(rec.get("location_id")), on_hand=Decimal(int(rec.get("total_inventory_onhand") or 0)),
                           available=Decimal(int(rec.get("available_to_sell") or 0)),
                           as_of=datetime.now(timezone.utc).replace(microsecond=0))]


def normalise_shipment(rec: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Shipment]:
    key = str(rec.get("id") or "")
    by_line = {str(p.get("id")): p for p in related.get("order_products") or []}
    lines = []
    for item in rec.get("items") or []:
        line = by_line.get(str(item.get("order_product_id"))) or {}
        lines.append(ShipmentLine(line_id=str(item.get("order_product_id")), sku=line.get("sku") or None,
                                  quantity=Decimal(int(item.get("quantity") or 0))))
    return [Shipment(source=SOURCE, source_refs=[SourceRef(stream="order_shipments", key=key)], shipment_id=key,
                     order_id=str(rec.get("order_id")), carrier=rec.get("shipping_provider") or rec.get("tracking_carrier") or None,
                     tracking_number=rec.get("tracking_number") or None,
                     shipped_at=rfc2822(rec.get("date_created"), stream="order_shipments", key=key, field="date_created")
                     if rec.get("date_created") else None, lines=lines)]


def normalise_refund(rec: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Refund | Return]:
    """A v3 refund → Refund, in its order's currency (the refund does not repeat it), and a Return for each
    refunded product whose order line carries BigCommerce's return flag (`return_id`: the unit came back to the
    store, so it is restocked; a refund without it restocks nothing). A refund larger than its order's total is
    bad input (a dead letter), not a credit to post."""
    key = str(rec.get("id") or "")
    orders = related.get("orders") or []
    if not orders:
        raise RecordError(f"refund of order {rec.get('order_id')} whose order is not staged", stream="refunds", key=key,
                          field="order_id", hint="select the orders stream (its start_date must cover the order)")
    currency = str(orders[0].get("default_currency_code") or orders[0].get("currency_code"))
    by_line = {str(p.get("id")): p for p in related.get("order_products") or []}
    lines: list[RefundLine] = []
    returned: list[tuple[dict[str, Any], Decimal]] = []
    shipping = Money.zero(currency)
    for i, item in enumerate(rec.get("items") or []):
        value = _m(item.get("requested_amount") if item.get("requested_amount") is not None else "0", currency,
                   "refunds", key, f"items[{i}].requested_amount")
        if item.get("item_type") in ("SHIPPING", "HANDLING"):
            shipping = shipping + value
            continue
        line = by_line.get(str(item.get("item_id"))) or {}
        quantity = Decimal(int(item.get("quantity") or 0))
        restock = bool(line.get("return_id")) and bool(line.get("sku")) and quantity > 0
        if restock:
            returned.append((line, quantity))
        lines.append(RefundLine(sku=line.get("sku") or None, quantity=quantity, amount=value, tax=Money.zero(currency),
                                restock=restock))
    tax = _m(rec.get("total_tax") if rec.get("total_tax") is not None else "0", currency, "refunds", key, "total_tax")
    if lines and tax.amount:
        lines[0] = lines[0].model_copy(update={"tax": tax})
    created = str(rec.get("created") or "")
    try:
        when = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"{created!r} is not an ISO 8601 date", stream="refunds", key=key, field="created") from None
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    refund = Refund(source=SOURCE, source_refs=[SourceRef(stream="refunds", key=key)], refund_id=key,
                    order_id=str(rec.get("order_id")), refunded_at=when, currency=currency, lines=lines,
                    shipping=shipping if shipping.amount else None, reason=rec.get("reason") or None)
    _within_order(refund, tax, orders[0], key)
    return [refund, *(Return(source=SOURCE, source_refs=[SourceRef(stream="refunds", key=key)],
                             return_id=f"{line.get('return_id')}/{line.get('id')}/{key}", order_id=refund.order_id,
                             returned_at=when, sku=str(line["sku"]), quantity=quantity, disposition=None, sellable=True,
                             reason=rec.get("reason") or None) for line, quantity in returned)]


def _within_order(refund: Refund, tax: Money, order: dict[str, Any], key: str) -> None:
    """What this refund gives back (products, shipping, tax) must fit in the order's total."""
    total = sum((li.amount.amount for li in refund.lines), Decimal(0)) + tax.amount + (
        refund.shipping.amount if refund.shipping else Decimal(0))
    order_total = money(order.get("total_inc_tax", "0"), stream="orders", key=refund.order_id, field="total_inc_tax")
    if total > order_total:
        raise RecordError(f"refund {key} of {total} {refund.currency} is larger than order {refund.order_id}'s total "
                          f"of {order_total} {refund.currency}", stream="refunds", key=key, field="items",
                          hint="check the refund in BigCommerce (a duplicate, or booked on the wrong order); once it "
                               "is corrected there, `ledgerlink dlq retry` posts it, or `ledgerlink dlq discard` "
                               "drops it")
