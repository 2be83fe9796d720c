"""Posting rules: one paid order → the Customer, Items and SalesReceipt QuickBooks needs, in that order.

The numbers are decided here (unit prices, shipping, one discount line, which tax the seller owes); the
shape of each payload is the Jinja mapping's, so users can override it. Mappings get `posting` (the
validated options, defaults filled in) beside the runtime's raw `options` dict. After rendering, the receipt is
added up again so an override cannot silently post a total that differs from the order's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from ledgerlink import (
    ConfigError, Money, Order, PlanContext, PlannedWrite, RecordError, SourceRef, idempotency_key, quantize,
)

from .config import PostingOptions

__all__ = ["plan_order", "parse_options", "doc_number", "customer_name", "payment_method_name", "receipt_total",
           "ReceiptLine",
           "DOC_NUMBER_MAX", "NOTE_PREFIX"]

DOC_NUMBER_MAX = 21
#: the first line of every receipt's PrivateNote is NOTE_PREFIX + its idempotency key (searchable in QBO)
NOTE_PREFIX = "ledgerlink "
_UNIT_PRICE_PLACES = Decimal("0.0000001")


@dataclass(frozen=True)
class ReceiptLine:
    """One SalesItemLine: `amount` is exact; `unit_price` is chosen so Qty × UnitPrice rounds to it."""

    item: str
    description: str | None
    qty: Decimal
    unit_price: Decimal
    amount: Decimal
    taxable: bool
    source_ref: SourceRef | None = None


def parse_options(options: dict[str, Any] | None) -> PostingOptions:
    try:
        return PostingOptions.model_validate(options or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(first["msg"], where=f"destination.options.{loc}" if loc else "destination.options",
                          hint="see the qbo destination's posting options in its README") from None


def doc_number(order_id: str) -> str:
    """QBO's DocNumber holds 21 characters: longer ids keep their start plus a hash of the whole id, so the
    same order always gets the same number and two long ids sharing a prefix still differ."""
    if len(order_id) <= DOC_NUMBER_MAX:
        return order_id
    digest = hashlib.sha256(order_id.encode()).hexdigest()[:8]
    return f"{order_id[:DOC_NUMBER_MAX - 9]}~{digest}"


def customer_name(order: Order, options: PostingOptions) -> tuple[str, str]:
    """(DisplayName, natural key) of the customer a receipt is for. DESIGN §4: by default one per marketplace
    and currency, since Amazon anonymises buyers; per buyer on request (whitespace-normalised name)."""
    if options.customer_strategy == "per_buyer":
        name = " ".join(order.customer.display_name.split())
        return name, order.customer.natural_key
    channel = order.sales_channel or " ".join(p for p in (order.channel.title(), order.marketplace) if p)
    return f"{channel} {order.currency}", f"{order.source}/marketplace/{order.channel}/" \
                                          f"{order.marketplace or '-'}/{order.currency}"


def payment_method_name(order: Order, options: PostingOptions) -> str | None:
    """The QuickBooks payment method a receipt names: the `payment_methods` option's mapping of the channel's
    method, else the channel's own name; None when the order has none (or it is mapped to "")."""
    method = (order.payment_method or "").strip()
    if not method:
        return None
    return options.payment_methods.get(method, method).strip() or None


def _unit_price(amount: Decimal, qty: Decimal, currency: str) -> Decimal:
    if qty == 0:
        return amount
    cents = quantize(amount / qty, currency)
    if quantize(cents * qty, currency) == amount:
        return cents
    return (amount / qty).quantize(_UNIT_PRICE_PLACES)


def _money(value: Money) -> Decimal:
    return quantize(value.amount, value.currency)


def _lines(order: Order, options: PostingOptions, seller_tax: bool) -> list[ReceiptLine]:
    cur = order.currency
    out: list[ReceiptLine] = []
    for index, line in enumerate(order.lines):
        amount = _money(line.amount)
        qty = line.quantity
        if qty <= 0 and amount == 0:
            continue  # a cancelled line: nothing was sold
        if qty <= 0:
            qty = Decimal(1)
        if not line.sku:
            raise RecordError(f"line {line.line_id} has no SKU", stream="SalesReceipt", key=order.natural_key,
                              field=f"lines[{index}].sku", hint="map the channel's SKU (or an item name) into the line")
        out.append(ReceiptLine(item=line.sku, description=line.title, qty=qty, unit_price=_unit_price(amount, qty, cur),
                               amount=amount, taxable=seller_tax and line.tax.amount != 0, source_ref=line.source_ref))
    for total_field, tax_field, item, label in (("shipping", "shipping_tax", options.shipping_item, "Shipping"),
                                                ("gift_wrap", "gift_wrap_tax", options.gift_wrap_item, "Gift wrap")):
        amount = _money(order.total(total_field))
        if amount:
            out.append(ReceiptLine(item=item, description=label, qty=Decimal(1), unit_price=amount, amount=amount,
                                   taxable=seller_tax and order.total(tax_field).amount != 0))
    return out


def receipt_total(payload: dict[str, Any]) -> Decimal:
    """What QBO will compute as TotalAmt: item lines − discount + TxnTaxDetail.TotalTax."""
    total = Decimal(0)
    for line in payload.get("Line") or []:
        if line.get("DetailType") == "SalesItemLineDetail":
            total += Decimal(str(line.get("Amount", 0)))
        elif line.get("DetailType") == "DiscountLineDetail":
            total -= Decimal(str(line.get("Amount", 0)))
    total += Decimal(str((payload.get("TxnTaxDetail") or {}).get("TotalTax") or 0))
    return total


def plan_order(order: Order, ctx: PlanContext) -> list[PlannedWrite]:
    """The writes one order needs, references first; none for an order that is not (yet) a sale.

    A Customer or Item is rendered once per run and key (`ctx.cache`): every order of a marketplace shares
    them, and one key is one object whichever order planned it first."""
    memo: dict[Any, Any] = getattr(ctx, "cache", None)
    if memo is None:
        memo = {}
    options = memo.get("qbo:options")
    if options is None:
        options = memo["qbo:options"] = parse_options(ctx.options)
    if not options.posts(order.status, order.paid):
        return []
    cur = order.currency
    seller_collects = order.tax_collected_by == "seller"
    tax = _money(order.total("tax") + order.total("shipping_tax") + order.total("gift_wrap_tax"))
    seller_tax = tax if seller_collects else Decimal(0)
    discount = _money(order.total("discount") + order.total("shipping_discount"))
    lines = _lines(order, options, seller_collects)
    receipt_key = idempotency_key("SalesReceipt", order.natural_key)

    writes: list[PlannedWrite] = []
    name, customer_natural = customer_name(order, options)
    customer_key = idempotency_key("Customer", customer_natural)
    buyer = order.customer if options.customer_strategy == "per_buyer" else None
    customer = memo.get(customer_key)
    if customer is None:
        customer = memo[customer_key] = ctx.render(
            "customer.json.j2", record_key=order.natural_key, display_name=name, buyer=buyer, currency=cur,
            source_label=order.sales_channel or order.channel, order=order, posting=options)
    writes.append(PlannedWrite(stream="Customer", key=customer_key, data=customer))

    item_keys: list[str] = []
    if options.create_items:
        service_items = {options.shipping_item, options.gift_wrap_item}
        seen: set[str] = set()
        for line in lines:
            if line.item in seen:
                continue
            seen.add(line.item)
            key = idempotency_key("Item", line.item)
            is_service = line.item in service_items and line.source_ref is None
            item = memo.get(key)
            if item is None:
                item = memo[key] = ctx.render(
                    "item.json.j2", record_key=order.natural_key, name=line.item,
                    sku=None if is_service else line.item, description=None if is_service else line.description,
                    item_type="Service" if is_service else options.item_type,
                    income_account=options.income_account, posting=options)
            writes.append(PlannedWrite(stream="Item", key=key, data=item))
            item_keys.append(key)

    note = [NOTE_PREFIX + receipt_key, f"order {order.order_id} on {order.sales_channel or order.channel}"]
    if tax and not seller_collects:
        note.append(f"marketplace-collected tax {tax} {cur} not posted: the marketplace remits it")
    payload = ctx.render("sales_receipt.json.j2", record_key=order.natural_key, order=order, posting=options,
                         doc_number=doc_number(order.order_id), private_note="\n".join(note), customer_name=name,
                         lines=lines, discount=discount, seller_tax=seller_tax,
                         payment_method=payment_method_name(order, options))
    expected = quantize(order.grand_total.amount - (0 if seller_collects else tax), cur)
    if quantize(receipt_total(payload), cur) != expected:
        raise RecordError(f"the receipt adds up to {receipt_total(payload)} {cur} but the order's total is "
                          f"{expected} {cur}", stream="SalesReceipt", key=order.natural_key, field="Line",
                          hint="a sales_receipt mapping override must keep every amount of the order")
    line_refs = [(i, line.source_ref) for i, line in enumerate(lines) if line.source_ref is not None]
    writes.append(PlannedWrite(stream="SalesReceipt", key=receipt_key, data=payload,
                               depends_on=[customer_key, *item_keys], source_refs=list(order.source_refs),
                               line_refs=line_refs))
    return writes
