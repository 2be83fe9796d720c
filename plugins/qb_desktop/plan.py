"""Posting rules for QuickBooks Desktop: one paid order → its Customer, Items and SalesReceipt, as qbXML-shaped
JSON payloads (`{"SalesReceiptAdd": {…}}`) that wait in the outbox until the Web Connector polls.

The rules mirror the QuickBooks Online destination's (one customer per marketplace and currency by default,
marketplace-collected tax left out, the receipt adds up to the order's total); the differences are QuickBooks
Desktop's: names are capped at 41 (customers) and 31 (items) characters, RefNumber at 11, so long values are
shortened deterministically with a hash, and the full idempotency key goes on the first line of Memo (Notes
for a customer) where a lost response can be resolved by a query. Discount and seller-collected tax are lines
on their own items, because sales-tax items differ from one company file to the next.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from ledgerlink import ConfigError, Money, Order, PlanContext, PlannedWrite, RecordError, SourceRef, idempotency_key, \
    quantize

from .config import PostingOptions

__all__ = ["plan_order", "parse_options", "fit", "ref_number", "MEMO_PREFIX", "receipt_total", "ITEM_KINDS"]

#: the first line of every document's Memo (a customer's Notes) is MEMO_PREFIX + its idempotency key
MEMO_PREFIX = "ledgerlink "
CUSTOMER_NAME_MAX = 41
ITEM_NAME_MAX = 31
REF_NUMBER_MAX = 11
ITEM_KINDS = {"NonInventory": "ItemNonInventoryAdd", "Service": "ItemServiceAdd", "Inventory": "ItemInventoryAdd"}


@dataclass(frozen=True)
class ReceiptLine:
    item: str
    description: str | None
    qty: Decimal | None
    amount: Decimal
    source_ref: SourceRef | None = None


def parse_options(options: dict[str, Any] | None) -> PostingOptions:
    try:
        return PostingOptions.model_validate(options or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(first["msg"], where=f"destination.options.{loc}" if loc else "destination.options",
                          hint="see the qb_desktop destination's posting options") from None


def fit(value: str, limit: int) -> str:
    """`value` if it fits, else its start, `~` and 6 hex characters of a hash of the whole: the same input always
    gives the same name, and two long values sharing a start still differ."""
    value = " ".join(value.split())
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:6]
    return f"{value[:limit - 7]}~{digest}"


def ref_number(order_id: str) -> str:
    """RefNumber holds 11 characters: a longer order id keeps its last 4 characters (what people quote from an
    Amazon id) after 6 hex characters of a hash of the whole id."""
    if len(order_id) <= REF_NUMBER_MAX:
        return order_id
    digest = hashlib.sha256(order_id.encode()).hexdigest()[:6].upper()
    return f"{digest}-{order_id[-4:]}"


def customer_name(order: Order, options: PostingOptions) -> tuple[str, str]:
    if options.customer_strategy == "per_buyer":
        return fit(order.customer.display_name, CUSTOMER_NAME_MAX), order.customer.natural_key
    channel = order.sales_channel or " ".join(p for p in (order.channel.title(), order.marketplace) if p)
    return (fit(f"{channel} {order.currency}", CUSTOMER_NAME_MAX),
            f"{order.source}/marketplace/{order.channel}/{order.marketplace or '-'}/{order.currency}")


def _money(value: Money) -> Decimal:
    return quantize(value.amount, value.currency)


def _lines(order: Order, options: PostingOptions, seller_tax: Decimal, discount: Decimal) -> list[ReceiptLine]:
    out: list[ReceiptLine] = []
    for index, line in enumerate(order.lines):
        amount = _money(line.amount)
        qty = line.quantity
        if qty <= 0 and amount == 0:
            continue
        if qty <= 0:
            qty = Decimal(1)
        if not line.sku:
            raise RecordError(f"line {line.line_id} has no SKU", stream="SalesReceipt", key=order.natural_key,
                              field=f"lines[{index}].sku", hint="map the channel's SKU (or an item name) into the line")
        out.append(ReceiptLine(fit(line.sku, ITEM_NAME_MAX), line.title, qty, amount, line.source_ref))
    for total_field, item, label in (("shipping", options.shipping_item, "Shipping"),
                                     ("gift_wrap", options.gift_wrap_item, "Gift wrap")):
        amount = _money(order.total(total_field))
        if amount:
            out.append(ReceiptLine(fit(item, ITEM_NAME_MAX), label, None, amount))
    if discount:
        out.append(ReceiptLine(fit(options.discount_item, ITEM_NAME_MAX), "Discount", None, -discount))
    if seller_tax:
        out.append(ReceiptLine(fit(options.tax_item, ITEM_NAME_MAX), "Sales tax collected", None, seller_tax))
    return out


def receipt_total(payload: dict[str, Any]) -> Decimal:
    """What QuickBooks will compute as TotalAmount: the sum of the line amounts."""
    body = payload.get("SalesReceiptAdd") or {}
    return sum((Decimal(str(line.get("Amount", 0))) for line in body.get("SalesReceiptLineAdd") or []), Decimal(0))


def plan_order(order: Order, ctx: PlanContext) -> list[PlannedWrite]:
    """The writes one order needs. A Customer or Item is rendered once per run and key (`ctx.cache`)."""
    cache: dict[Any, Any] = getattr(ctx, "cache", None)
    if cache is None:
        cache = {}
    options = cache.get("qbd:options")
    if options is None:
        options = cache["qbd:options"] = parse_options(ctx.options)
    if not options.posts(order.status, order.paid):
        return []
    cur = order.currency
    seller_collects = order.tax_collected_by == "seller"
    tax = _money(order.total("tax") + order.total("shipping_tax") + order.total("gift_wrap_tax"))
    seller_tax = tax if seller_collects else Decimal(0)
    discount = _money(order.total("discount") + order.total("shipping_discount"))
    lines = _lines(order, options, seller_tax, discount)
    receipt_key = idempotency_key("SalesReceipt", order.natural_key)

    writes: list[PlannedWrite] = []
    name, customer_natural = customer_name(order, options)
    customer_key = idempotency_key("Customer", customer_natural)
    buyer = order.customer if options.customer_strategy == "per_buyer" else None
    customer = cache.get(customer_key)
    if customer is None:
        customer = cache[customer_key] = ctx.render(
            "customer.json.j2", record_key=order.natural_key, name=name, buyer=buyer, currency=cur,
            notes=f"{MEMO_PREFIX}{customer_key}\ncreated for {order.sales_channel or order.channel}", posting=options)
    writes.append(PlannedWrite(stream="Customer", key=customer_key, data=customer))

    item_keys: list[str] = []
    creates: dict[str, Any] = {f"Customer:{name}": customer}
    if options.create_items:
        service = {fit(i, ITEM_NAME_MAX): account for i, account in (
            (options.shipping_item, options.income_account), (options.gift_wrap_item, options.income_account),
            (options.discount_item, options.discount_account), (options.tax_item, options.tax_account))}
        seen: set[str] = set()
        for line in lines:
            if line.item in seen:
                continue
            seen.add(line.item)
            is_service = line.item in service and line.source_ref is None
            kind = "ItemServiceAdd" if is_service else ITEM_KINDS[options.item_type]
            key = idempotency_key("Item", line.item)
            item = cache.get(key)
            if item is None:
                item = cache[key] = ctx.render(
                    "item.json.j2", record_key=order.natural_key, kind=kind, name=line.item,
                    description=None if is_service else line.description,
                    account=service[line.item] if is_service else options.income_account,
                    memo=f"{MEMO_PREFIX}{key}", posting=options)
            writes.append(PlannedWrite(stream="Item", key=key, data=item))
            creates[f"Item:{line.item}"] = item
            item_keys.append(key)

    memo = [MEMO_PREFIX + receipt_key, f"order {order.order_id} on {order.sales_channel or order.channel}"]
    if tax and not seller_collects:
        memo.append(f"marketplace-collected tax {tax} {cur} not posted: the marketplace remits it")
    payload = ctx.render("sales_receipt.json.j2", record_key=order.natural_key, order=order, posting=options,
                         ref_number=ref_number(order.order_id), memo="\n".join(memo), customer_name=name, lines=lines)
    expected = quantize(order.grand_total.amount - (0 if seller_collects else tax), cur)
    if quantize(receipt_total(payload), cur) != expected:
        raise RecordError(f"the receipt adds up to {receipt_total(payload)} {cur} but the order's total is "
                          f"{expected} {cur}", stream="SalesReceipt", key=order.natural_key, field="SalesReceiptLineAdd",
                          hint="a sales_receipt mapping override must keep every amount of the order")
    # how to create each reference the receipt uses, should QuickBooks answer 3140 (someone deleted it)
    payload["_references"] = creates
    line_refs = [(i, line.source_ref) for i, line in enumerate(lines) if line.source_ref is not None]
    writes.append(PlannedWrite(stream="SalesReceipt", key=receipt_key, data=payload,
                               depends_on=[customer_key, *item_keys], source_refs=list(order.source_refs),
                               line_refs=line_refs, natural_key=order.natural_key))
    return writes
