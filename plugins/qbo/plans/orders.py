"""Posting rules: one order → the Customer, Items and the SalesReceipt or Invoice QuickBooks needs, in that order;
the Payment of an invoice when the order turns paid; a Void when a posted order is cancelled.

Which document, customer, items, store dimensions and amounts are the shared rules' (`ledgerlink.posting`); the
shape of each payload is the Jinja mapping's, so users can override it. Mappings get `posting` (the validated
options, defaults filled in) beside the runtime's raw `options` dict. After rendering, the document is added up
again so an override cannot silently post a total that differs from the order's.

What this pipeline already planned for the order (`ctx.posted`) decides whether a payment or a void is needed
at all. What another pipeline may have posted into the same company is only known there, so the rest is
decided when writing, by looking the earlier document up by its key (`_ledgerlink` control blocks, read and
removed by the destination, see links.py): a receipt is not posted if the order was already invoiced (its
Payment is, linked to the invoice), an invoice is not posted if a receipt was, and a Void voids (or reverses)
whichever of the two was posted.
"""

from __future__ import annotations

import dataclasses

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from ledgerlink import (
    ConfigError, Order, PlanContext, PlannedWrite, RecordError, SourceRef, idempotency_key, posting, quantize,
)

from ..config import PostingOptions
from . import payloads  # noqa: F401 - registers the default mappings written as Python

__all__ = ["plan_order", "plan_sale", "parse_options", "doc_number", "customer_name", "payment_method_name", "receipt_total",
           "ReceiptLine", "target", "CONTROL", "DOC_NUMBER_MAX", "NOTE_PREFIX"]

DOC_NUMBER_MAX = 21
#: the first line of every document's PrivateNote is NOTE_PREFIX + its idempotency key (searchable in QBO)
NOTE_PREFIX = "ledgerlink "
#: the key of a payload's write-time instructions (gates, links, voids); the destination removes it
CONTROL = "_ledgerlink"
_ITEM_TYPES = {"non_inventory": "NonInventory", "inventory": "Inventory", "service": "Service"}
_STREAMS = {"sales_receipt": "SalesReceipt", "invoice": "Invoice"}


@dataclass(frozen=True)
class ReceiptLine:
    """One SalesItemLine: `amount` is exact; `unit_price` is chosen so Qty × UnitPrice rounds to it.
    `tax_code` is a tax code name (tax mode `codes`); otherwise `taxable` picks the US pseudo code TAX/NON."""

    item: str
    description: str | None
    qty: Decimal
    unit_price: Decimal
    amount: Decimal
    taxable: bool
    source_ref: SourceRef | None = None
    tax_code: str | None = None


def parse_options(options: dict[str, Any] | None) -> PostingOptions:
    try:
        return PostingOptions.model_validate(options or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(first["msg"], where=f"destination.options.{loc}" if loc else "destination.options",
                          hint="see the QuickBooks Online page of the docs (docs/systems/qbo.md) for the posting options") from None


def doc_number(order_id: str) -> str:
    """QBO's DocNumber holds 21 characters: longer ids keep their start plus a hash of the whole id, so the
    same order always gets the same number and two long ids sharing a prefix still differ."""
    if len(order_id) <= DOC_NUMBER_MAX:
        return order_id
    digest = hashlib.sha256(order_id.encode()).hexdigest()[:8]
    return f"{order_id[:DOC_NUMBER_MAX - 9]}~{digest}"


def customer_name(order: Order, options: PostingOptions) -> tuple[str, str]:
    """(DisplayName, natural key) of the customer a document is for (see `ledgerlink.posting.customer_for`)."""
    choice = posting.customer_for(order, options, name_max=500)
    return choice.display_name, choice.natural_key


def payment_method_name(order: Order, options: PostingOptions) -> str | None:
    """The QuickBooks payment method a document names (see `ledgerlink.posting.payment_method_for`)."""
    return posting.payment_method_for(order, options)


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


def target(stream: str, order: Order, options: PostingOptions) -> dict[str, str]:
    """How the destination finds the document this order posted as `stream`: its key, and the DocNumber and
    TxnDate it was posted with (QBO searches by those; the key on PrivateNote's first line tells it is ours)."""
    return {"TxnType": stream, "key": idempotency_key(stream, order.natural_key),
            "DocNumber": doc_number(posting.number_for(order, options, order.order_id)), "TxnDate": _date(order, options)}


def _date(order: Order, options: PostingOptions) -> str:
    from zoneinfo import ZoneInfo

    return order.placed_at.astimezone(ZoneInfo(options.time_zone)).date().isoformat()


def _options(ctx: PlanContext) -> tuple[dict[Any, Any], PostingOptions]:
    memo: dict[Any, Any] | None = getattr(ctx, "cache", None)
    if memo is None:
        memo = {}
    options = memo.get("qbo:options")
    if options is None:
        options = memo["qbo:options"] = parse_options(ctx.options)
    return memo, options


def _tax_rate(code: str | None, options: PostingOptions) -> Decimal | None:
    rate = options.tax.rates.get(code or "")
    return None if rate is None else Decimal(str(rate))


def _lines(order: Order, amounts: posting.OrderAmounts, options: PostingOptions, stream: str
           ) -> tuple[list[ReceiptLine], list[posting.ItemChoice]]:
    """The document's item lines and the items they name (None create_as: must exist in QuickBooks)."""
    seller = order.tax_collected_by == "seller"
    codes = options.tax.mode == "codes"
    default_kind = options.default_item_kind()
    out: list[ReceiptLine] = []
    items: list[posting.ItemChoice] = []
    for index, line in enumerate(amounts.lines):
        choice = posting.item_for(line.sku, options, default_kind=default_kind, stream=stream,
                                  key=order.natural_key, field=f"lines[{index}].sku")
        items.append(choice)
        taxable = seller and line.tax != 0
        out.append(ReceiptLine(item=choice.name, description=line.title, qty=line.qty, unit_price=line.unit_price,
                               amount=line.amount, taxable=taxable, source_ref=line.source_ref,
                               tax_code=(options.tax.taxable_code if taxable else options.tax.exempt_code)
                               if codes else None))
    for amount, tax, item, label in ((amounts.shipping, amounts.shipping_tax, options.shipping_item, "Shipping"),
                                     (amounts.gift_wrap, amounts.gift_wrap_tax, options.gift_wrap_item, "Gift wrap")):
        if amount:
            taxable = seller and tax != 0
            out.append(ReceiptLine(item=item, description=label, qty=Decimal(1), unit_price=amount, amount=amount,
                                   taxable=taxable, tax_code=(options.tax.taxable_code if taxable else
                                                              options.tax.exempt_code) if codes else None))
            items.append(posting.ItemChoice(item, "service" if options.create_items else None, item))
    return out, items


def _codes_tax(lines: list[ReceiptLine], amounts: posting.OrderAmounts, options: PostingOptions) -> Decimal:
    """The tax QuickBooks computes from the lines' tax codes (when their rates are given), else the channel's."""
    if options.tax.mode != "codes" or not options.tax.rates:
        return amounts.seller_tax
    total = Decimal(0)
    for line in lines:
        rate = _tax_rate(line.tax_code, options)
        if rate:
            total += quantize(line.amount * rate / 100, amounts.currency)
    return total


def _customer_write(order: Order, options: PostingOptions, ctx: PlanContext, memo: dict[Any, Any]
                    ) -> tuple[PlannedWrite, posting.CustomerChoice]:
    choice = posting.customer_for(order, options, name_max=500)
    key = idempotency_key("Customer", choice.natural_key)
    customer = memo.get(key)
    if customer is None:
        customer = memo[key] = ctx.render(
            "customer.json.j2", record_key=order.natural_key, display_name=choice.display_name, buyer=choice.buyer,
            currency=order.currency, source_label=order.sales_channel or order.channel, order=order, posting=options)
    return PlannedWrite(stream="Customer", key=key, data=customer), choice


def _item_writes(order: Order, items: list[posting.ItemChoice], options: PostingOptions, ctx: PlanContext,
                 memo: dict[Any, Any], titles: dict[str, str | None]) -> list[PlannedWrite]:
    writes: list[PlannedWrite] = []
    seen: set[str] = set()
    for choice in items:
        if choice.create_as is None or choice.name in seen:
            continue
        seen.add(choice.name)
        key = idempotency_key("Item", choice.name)
        is_service = choice.sku not in titles  # shipping, gift wrap: not a product of the store
        item = memo.get(key)
        if item is None:
            item = memo[key] = ctx.render(
                "item.json.j2", record_key=order.natural_key, name=choice.name,
                sku=None if is_service else choice.sku, description=None if is_service else titles.get(choice.sku),
                item_type=_ITEM_TYPES[choice.create_as], income_account=options.income_account, posting=options,
                start_date=_date(order, options))
        writes.append(PlannedWrite(stream="Item", key=key, data=item))
    return writes


def plan_order(order: Order, ctx: PlanContext) -> list[PlannedWrite]:
    """The writes one order needs, references first; none for an order that is not (yet) a sale.

    A Customer or Item is rendered once per run and key (`ctx.cache`): every order of a marketplace shares
    them, and one key is one object whichever order planned it first."""
    memo, options = _options(ctx)
    decision = posting.decide(order, options)
    planned = _planned_streams(order, ctx)
    if decision.cancel:
        # nothing this pipeline planned for the order: nothing to void (the write-time look-up still guards
        # documents another pipeline posted, when the outbox cannot vouch)
        return [] if planned is not None and not planned & {"SalesReceipt", "Invoice"} else [_void(order, options)]
    if decision.document is None:
        return []
    if decision.earlier == "invoice" and planned is not None and "Invoice" not in planned:
        decision = dataclasses.replace(decision, earlier=None)  # never invoiced here: the receipt says it all
    stream = _STREAMS[decision.document]
    amounts = posting.order_amounts(order, stream=stream)
    return plan_sale(order, ctx, memo, options, decision, stream, amounts)


def plan_sale(order: Any, ctx: PlanContext, memo: dict[Any, Any], options: PostingOptions,
              decision: posting.Decision, stream: str, amounts: posting.OrderAmounts) -> list[PlannedWrite]:
    """The writes of an order's receipt or invoice once its document and amounts are decided: shared by
    `plan_order` and the columnar planner (`receipts_columnar`), which reads `order` as columns."""
    cur = order.currency
    key = idempotency_key(stream, order.natural_key)

    customer_write, customer = _customer_write(order, options, ctx, memo)
    lines, items = _lines(order, amounts, options, stream)
    titles = {ln.sku: ln.title for ln in amounts.lines}
    item_writes = _item_writes(order, items, options, ctx, memo, titles)

    tax = _codes_tax(lines, amounts, options)
    rounding = posting.rounding_line(amounts.total, amounts.net + tax, cur)
    if rounding:
        lines.append(ReceiptLine(item=options.tax.rounding_item, description="Rounding", qty=Decimal(1),
                                 unit_price=rounding, amount=rounding, taxable=False,
                                 tax_code=options.tax.exempt_code if options.tax.mode == "codes" else None))
        if options.create_items:
            item_writes.append(_rounding_item(order, options, ctx, memo))

    note = [NOTE_PREFIX + key, f"order {order.order_id} on {order.sales_channel or order.channel}"]
    if amounts.marketplace_tax:
        note.append(f"marketplace-collected tax {amounts.marketplace_tax} {cur} not posted: the marketplace remits it")
    dims = posting.dimensions_for(order, options)
    template = "sales_receipt.json.j2" if stream == "SalesReceipt" else "invoice.json.j2"
    payload = ctx.render(template, record_key=order.natural_key, order=order, posting=options,
                         doc_number=doc_number(posting.number_for(order, options, order.order_id)), private_note="\n".join(note),
                         customer_name=customer.display_name, lines=lines, discount=amounts.discount,
                         seller_tax=tax, payment_method=posting.payment_method_for(order, options),
                         deposit_account=posting.deposit_account_for(order, options, options.deposit_account),
                         dimensions=dims, exchange_rate=_rate(order, options))
    if quantize(receipt_total(payload), cur) != amounts.total:
        raise RecordError(f"the {stream} adds up to {receipt_total(payload)} {cur} but the order's total is "
                          f"{amounts.total} {cur}", stream=stream, key=order.natural_key, field="Line",
                          hint=f"a {template} mapping override must keep every amount of the order")
    other = "Invoice" if stream == "SalesReceipt" else "SalesReceipt"
    if stream == "Invoice" or decision.earlier == "invoice":
        # one order, one sale: whichever of its receipt and invoice was posted first stands
        payload[CONTROL] = {"unless_posted": [target(other, order, options)]}
    line_refs = [(i, line.source_ref) for i, line in enumerate(lines) if line.source_ref is not None]
    references = [customer_write.key, *(w.key for w in item_writes)]
    writes = [customer_write, *item_writes,
              PlannedWrite(stream=stream, key=key, data=payload, depends_on=references,
                           source_refs=list(order.source_refs), line_refs=line_refs)]
    if (stream == "SalesReceipt" and decision.earlier == "invoice") or stream == "Invoice":
        # paid in full, or in part so far (an instalment): a payment for what was paid since the last one
        due = posting.instalment_due(order, amounts.total, _planned_payments(order, ctx))
        if due is not None:
            writes.append(_payment(order, options, ctx, customer.display_name, due.amount,
                                   [customer_write.key, key], key=due.key))
    return writes


def _planned_payments(order: Order, ctx: PlanContext) -> list[str]:
    """Keys of the payments this pipeline planned for the order (not dead-lettered)."""
    posted = getattr(ctx, "posted", None)
    return [] if posted is None else [d.key for d in posted(order.natural_key)
                                      if d.stream == "Payment" and d.status != "dead"]


def _planned_streams(order: Order, ctx: PlanContext) -> set[str] | None:
    """The document types this pipeline already planned for the order (any status), or None when the context
    cannot say (a PlanContext without `posted`)."""
    posted = getattr(ctx, "posted", None)
    if posted is None:
        return None
    return {doc.stream for doc in posted(order.natural_key) if doc.status != "dead"}


def _rounding_item(order: Order, options: PostingOptions, ctx: PlanContext, memo: dict[Any, Any]) -> PlannedWrite:
    key = idempotency_key("Item", options.tax.rounding_item)
    item = memo.get(key)
    if item is None:
        item = memo[key] = ctx.render("item.json.j2", record_key=order.natural_key, name=options.tax.rounding_item,
                                      sku=None, description=None, item_type="Service",
                                      income_account=options.income_account, posting=options, start_date=None)
    return PlannedWrite(stream="Item", key=key, data=item)


def _payment(order: Order, options: PostingOptions, ctx: PlanContext, customer: str, total: Decimal,
             depends_on: list[str], key: str | None = None) -> PlannedWrite:
    """The payment of the order's invoice, posted only if the order was invoiced before it was paid (otherwise
    its receipt says it all). Its TxnDate is left to the day it is posted: the day the payment was seen."""
    key = key or idempotency_key("Payment", order.natural_key)
    invoice = target("Invoice", order, options)
    note = [NOTE_PREFIX + key, f"payment of order {order.order_id} on {order.sales_channel or order.channel}"]
    payload = ctx.render("payment.json.j2", record_key=order.natural_key, order=order, posting=options,
                         doc_number=doc_number(posting.number_for(order, options, order.order_id)), private_note="\n".join(note), customer_name=customer,
                         total=total, invoice=invoice, payment_method=posting.payment_method_for(order, options),
                         deposit_account=posting.deposit_account_for(order, options, options.deposit_account),
                         exchange_rate=_rate(order, options))
    payload[CONTROL] = {"only_if_posted": [invoice]}
    return PlannedWrite(stream="Payment", key=key, data=payload, depends_on=depends_on,
                        source_refs=list(order.source_refs))


def _rate(order: Order, options: PostingOptions) -> Decimal | None:
    rate = options.exchange_rates.get(order.currency)
    return None if rate is None else Decimal(str(rate))


def _void(order: Order, options: PostingOptions) -> PlannedWrite:
    """A cancelled order: void (or reverse) the receipt or invoice posted for it, if any was. What was posted
    is only known when writing; an order cancelled before it posted leaves nothing to void."""
    key = idempotency_key("Void", order.natural_key)
    from zoneinfo import ZoneInfo

    when = order.updated_at.astimezone(ZoneInfo(options.time_zone)).date().isoformat()
    # a payment first: QuickBooks voids an invoice only once nothing is applied to it
    data = {"targets": [target("Payment", order, options), target("SalesReceipt", order, options),
                        target("Invoice", order, options)],
            "mode": options.on_cancel, "date": when, "status": order.status,
            "reason": f"order {order.order_id} on {order.sales_channel or order.channel} is {order.status}"}
    return PlannedWrite(stream="Void", key=key, data=data, source_refs=list(order.source_refs))

from . import receipts_columnar  # noqa: E402,F401 - registers the columnar planner of sales receipts
