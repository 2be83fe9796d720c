"""Posting rules for QuickBooks Desktop: one order → its Customer, Items and document (a SalesReceipt when paid,
an Invoice while unpaid, a ReceivePayment when an invoiced order turns paid, a TxnVoid or CreditMemo when a
posted order is cancelled), as qbXML-shaped JSON payloads (`{"InvoiceAdd": {…}}`) that wait in the outbox until
the Web Connector polls.

What to post, for which customer and item, and the amounts, are `ledgerlink.posting`'s rules, the same as the
QuickBooks Online destination's. What is QuickBooks Desktop's own is here: names are capped at 41 (customers)
and 31 (items) characters, RefNumber at 11, so long values are shortened deterministically with a hash; the full
idempotency key goes on the first line of Memo (Notes for a customer), where a lost response can be resolved
by a query; discount, seller-collected tax and rounding are lines on their own items (sales-tax items differ
from one company file to the next); a document refers to another (a payment to its invoice, a void to its
receipt) by a placeholder the bridge replaces with QuickBooks' TxnID when it builds the request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from ledgerlink import ConfigError, Order, PlanContext, PlannedWrite, RecordError, SourceRef, idempotency_key, \
    posting, quantize

from ..config import PostingOptions
from ..qbxml import TXN_PLACEHOLDER

__all__ = ["plan_order", "parse_options", "fit", "ref_number", "MEMO_PREFIX", "receipt_total", "document_total",
           "ITEM_KINDS", "customer_name", "CURRENCY_NAMES", "ROUNDING_LIMIT"]

#: the first line of every document's Memo (a customer's Notes) is MEMO_PREFIX + its idempotency key
MEMO_PREFIX = "ledgerlink "
CUSTOMER_NAME_MAX = 41
ITEM_NAME_MAX = 31
REF_NUMBER_MAX = 11
ITEM_KINDS = {"NonInventory": "ItemNonInventoryAdd", "Service": "ItemServiceAdd", "Inventory": "ItemInventoryAdd"}
_KIND_OF = {"non_inventory": "ItemNonInventoryAdd", "service": "ItemServiceAdd", "inventory": "ItemInventoryAdd"}
_DEFAULT_KIND = {"NonInventory": "non_inventory", "Service": "service", "Inventory": "inventory"}
#: QuickBooks Desktop names currencies by their full name, not the ISO code
CURRENCY_NAMES = {"USD": "US Dollar", "CAD": "Canadian Dollar", "GBP": "British Pound Sterling", "EUR": "Euro",
                  "AUD": "Australian Dollar", "MXN": "Mexican Peso", "JPY": "Japanese Yen"}
#: a difference between the lines and the channel's total up to this much is rounding (a line of its own);
#: more is a mistake in the order or a mapping, and a dead letter
ROUNDING_LIMIT = Decimal("0.05")
_STREAM = {"sales_receipt": "SalesReceipt", "invoice": "Invoice"}


@dataclass(frozen=True)
class ReceiptLine:
    """One document line (the mappings call them `lines`, for receipts and invoices alike)."""

    item: str
    description: str | None
    qty: Decimal | None
    amount: Decimal
    source_ref: SourceRef | None = None
    #: the kind of item to create when QuickBooks lacks it (None: it must exist)
    create_as: str | None = None
    account: str | None = None


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
    """(QuickBooks Name ≤ 41 characters, natural key) of the order's customer (`ledgerlink.posting.customer_for`)."""
    choice = posting.customer_for(order, options)
    return fit(choice.display_name, CUSTOMER_NAME_MAX), choice.natural_key


def document_total(payload: dict[str, Any]) -> Decimal:
    """What QuickBooks will compute as a receipt's TotalAmount or an invoice's Subtotal: the sum of the lines."""
    body = next((v for k, v in payload.items() if not k.startswith("_") and isinstance(v, dict)), {})
    lines = next((v for k, v in body.items() if k.endswith("LineAdd") and isinstance(v, list)), [])
    return sum((Decimal(str(line.get("Amount", 0))) for line in lines), Decimal(0))


receipt_total = document_total


def _options(ctx: PlanContext, cache: dict[Any, Any]) -> PostingOptions:
    options = cache.get("qbd:options")
    if options is None:
        options = cache["qbd:options"] = parse_options(ctx.options)
    return options


def _currency(order: Order, options: PostingOptions, stream: str) -> tuple[str | None, Decimal | None]:
    """(CurrencyRef name of a foreign-currency customer, ExchangeRate) — (None, None) in the home currency.
    A foreign currency while multicurrency is off is refused here, before anything reaches QuickBooks."""
    cur = order.currency.upper()
    if cur == options.home_currency:
        return None, None
    if not options.multicurrency:
        raise RecordError(
            f"order {order.order_id} is in {cur}, but the company file's home currency is {options.home_currency} "
            "and multicurrency is off", stream=stream, key=order.natural_key, field="currency",
            hint="turn on Multiple Currencies in QuickBooks (Edit → Preferences → Multiple Currencies; it cannot be "
                 "turned off again), set the destination option multicurrency: true, then `ledgerlink dlq retry`; "
                 "or post this marketplace to a company file whose home currency is " + cur)
    name = CURRENCY_NAMES.get(cur)
    if name is None:
        raise RecordError(f"order {order.order_id} is in {cur}, a currency ledgerlink cannot name in QuickBooks "
                          "Desktop", stream=stream, key=order.natural_key, field="currency",
                          hint=f"QuickBooks Desktop currencies known here: {', '.join(sorted(CURRENCY_NAMES))}")
    rate = options.exchange_rates.get(cur)
    return name, Decimal(rate) if rate else None


def _lines(order: Order, options: PostingOptions, amounts: posting.OrderAmounts, stream: str) -> list[ReceiptLine]:
    out: list[ReceiptLine] = []
    default_kind = _DEFAULT_KIND[options.item_type]
    for index, line in enumerate(amounts.lines):
        choice = posting.item_for(line.sku, options, default_kind=default_kind, stream=stream, key=order.natural_key,
                                  field=f"lines[{index}].sku")
        out.append(ReceiptLine(fit(choice.name, ITEM_NAME_MAX), line.title, line.qty, line.amount, line.source_ref,
                               _KIND_OF[choice.create_as] if choice.create_as else None, options.income_account))
    service = "ItemServiceAdd" if options.create_items else None
    for amount, item, label, account in (
            (amounts.shipping, options.shipping_item, "Shipping", options.income_account),
            (amounts.gift_wrap, options.gift_wrap_item, "Gift wrap", options.income_account),
            (-amounts.discount, options.discount_item, "Discount", options.discount_account),
            (amounts.seller_tax, options.tax_item, "Sales tax collected", options.tax_account)):
        if amount:
            out.append(ReceiptLine(fit(item, ITEM_NAME_MAX), label, None, amount, None, service, account))
    rounding = posting.rounding_line(amounts.total, sum((ln.amount for ln in out), Decimal(0)), amounts.currency)
    if rounding and abs(rounding) <= ROUNDING_LIMIT:
        out.append(ReceiptLine(fit(options.tax.rounding_item, ITEM_NAME_MAX), "Rounding", None, rounding, None,
                               service, options.income_account))
    return out


def _customer(order: Order, options: PostingOptions, ctx: PlanContext, cache: dict[Any, Any],
              currency: str | None) -> tuple[str, str, dict[str, Any]]:
    choice = posting.customer_for(order, options)
    name = fit(choice.display_name, CUSTOMER_NAME_MAX)
    key = idempotency_key("Customer", choice.natural_key)
    payload = cache.get(key)
    if payload is None:
        payload = cache[key] = ctx.render(
            "customer.json.j2", record_key=order.natural_key, name=name, buyer=choice.buyer, currency=order.currency,
            currency_name=currency, notes=f"{MEMO_PREFIX}{key}\ncreated for {order.sales_channel or order.channel}",
            posting=options)
    return name, key, payload


def _items(order: Order, options: PostingOptions, ctx: PlanContext, cache: dict[Any, Any],
           lines: list[ReceiptLine]) -> tuple[list[PlannedWrite], dict[str, Any]]:
    writes: list[PlannedWrite] = []
    creates: dict[str, Any] = {}
    seen: set[str] = set()
    for line in lines:
        if line.create_as is None or line.item in seen:
            continue
        seen.add(line.item)
        key = idempotency_key("Item", line.item)
        item = cache.get(key)
        if item is None:
            product = line.source_ref is not None
            item = cache[key] = ctx.render(
                "item.json.j2", record_key=order.natural_key, kind=line.create_as, name=line.item,
                description=line.description if product else None, account=line.account,
                memo=f"{MEMO_PREFIX}{key}", posting=options)
        writes.append(PlannedWrite(stream="Item", key=key, data=item))
        creates[f"Item:{line.item}"] = item
    return writes, creates


def plan_order(order: Order, ctx: PlanContext) -> list[PlannedWrite]:
    """The writes one order needs now. A Customer or Item is rendered once per run and key (`ctx.cache`)."""
    cache: dict[Any, Any] = getattr(ctx, "cache", None)
    if cache is None:
        cache = {}
    options = _options(ctx, cache)
    decision = posting.decide(order, options)
    posted = _posted(ctx, order)
    if decision.cancel:
        return _plan_cancel(order, options, ctx, cache, posted)
    if decision.document is None:
        return []
    stream = _STREAM[decision.document]
    #: invoiced while unpaid, paid now: its payment posts, never a second sale (the invoice stays as it is)
    invoiced_earlier = stream == "SalesReceipt" and idempotency_key("Invoice", order.natural_key) in posted
    if invoiced_earlier:
        stream = "Invoice"
    amounts = posting.order_amounts(order, stream=stream)
    currency_name, rate = _currency(order, options, stream)
    lines = _lines(order, options, amounts, stream)
    name, customer_key, customer = _customer(order, options, ctx, cache, currency_name)
    writes = [PlannedWrite(stream="Customer", key=customer_key, data=customer)]
    item_writes, creates = _items(order, options, ctx, cache, lines)
    writes.extend(item_writes)
    creates[f"Customer:{name}"] = customer
    dims = posting.dimensions_for(order, options)
    class_name = dims.class_name or dims.location
    if class_name:
        creates[f"Class:{class_name}"] = {"ClassAdd": {"Name": fit(class_name, ITEM_NAME_MAX)}}
    method = posting.payment_method_for(order, options)
    if method:
        creates[f"PaymentMethod:{method}"] = {"PaymentMethodAdd": {"Name": fit(method, ITEM_NAME_MAX),
                                                                   "PaymentMethodType": "OtherCreditCard"}}
    deposit = posting.deposit_account_for(order, options, options.deposit_account)
    key = idempotency_key(stream, order.natural_key)
    memo = [MEMO_PREFIX + key, f"order {order.order_id} on {order.sales_channel or order.channel}"]
    if amounts.marketplace_tax:
        memo.append(f"marketplace-collected tax {amounts.marketplace_tax} {amounts.currency} not posted: the "
                    "marketplace remits it")
    template = "sales_receipt.json.j2" if stream == "SalesReceipt" else "invoice.json.j2"
    payload = ctx.render(template, record_key=order.natural_key, order=order, posting=options,
                         ref_number=ref_number(posting.number_for(order, options, order.order_id)), memo="\n".join(memo), customer_name=name, lines=lines,
                         class_name=class_name, payment_method=method, deposit_account=deposit, exchange_rate=rate)
    total = quantize(document_total(payload), amounts.currency)
    if total != amounts.total:
        raise RecordError(f"the {stream} adds up to {total} {amounts.currency} but the order's total is "
                          f"{amounts.total} {amounts.currency}", stream=stream, key=order.natural_key,
                          field=f"{stream}LineAdd",
                          hint="a mapping override must keep every amount of the order; a difference of more than "
                               f"{ROUNDING_LIMIT} is not rounding: check the order's lines in the channel")
    depends = [customer_key, *(w.key for w in item_writes)]
    payment, due = None, None
    if stream == "Invoice":
        # what the invoice asks for: the posted one's total when it was invoiced earlier
        owed = quantize(document_total(posted[key].data), amounts.currency) if invoiced_earlier else amounts.total
        # paid in full, or in part so far (an instalment): a payment for what was paid since the last one
        due = posting.instalment_due(order, owed, [k for k, d in posted.items() if d.stream == "ReceivePayment"],
                                     stream="ReceivePayment")
    if due is not None:
        # always the placeholder, never the TxnID even when known: the plan stays the same whether or not the
        # invoice was in QuickBooks yet when it was made, so a re-plan never looks like a change
        payment = _payment(order, options, ctx, name, deposit, method, rate, due.amount, TXN_PLACEHOLDER + key,
                           due.key, creates)
    # how to create each reference the document uses, should QuickBooks answer 3140 (missing or deleted)
    payload["_references"] = creates
    line_refs = [(i, line.source_ref) for i, line in enumerate(lines) if line.source_ref is not None]
    if not invoiced_earlier:
        # (an invoice planned while the order was unpaid is left as it was: re-planning it here would hold a
        # revision of it for an order whose only change is that it was paid)
        writes.append(PlannedWrite(stream=stream, key=key, data=payload, depends_on=depends,
                                   source_refs=list(order.source_refs), line_refs=line_refs,
                                   natural_key=order.natural_key))
    if payment is not None:
        payment["_references"] = creates
        writes.append(PlannedWrite(stream="ReceivePayment", key=due.key if due else "", data=payment, depends_on=[key], source_refs=list(order.source_refs),
                                   natural_key=order.natural_key))
    return writes


def _posted(ctx: PlanContext, order: Order) -> dict[str, Any]:
    """This destination's documents for the order that are planned, queued or posted (not refused), by key
    (`PlanContext.posted`; none when the runtime does not offer it)."""
    posted = getattr(ctx, "posted", None)
    docs = posted(order.natural_key) if callable(posted) else []
    return {d.key: d for d in docs if d.status != "dead"}


def _payment(order: Order, options: PostingOptions, ctx: PlanContext, customer: str, deposit: str,
             method: str | None, rate: Decimal | None, amount: Decimal, invoice_txn: str, key: str,
             creates: dict[str, Any]) -> dict[str, Any]:
    """The ReceivePaymentAdd that pays the order's invoice in full when the channel says it is paid. `invoice_txn`
    is its TxnID when known, else a placeholder the bridge fills in once QuickBooks has given it."""
    memo = "\n".join([MEMO_PREFIX + key, f"payment of order {order.order_id} on {order.sales_channel or order.channel}"])
    payload = ctx.render("receive_payment.json.j2", record_key=order.natural_key, order=order, posting=options,
                         customer_name=customer, ref_number=ref_number(posting.number_for(order, options, order.order_id)), memo=memo, amount=amount,
                         invoice_txn=invoice_txn, payment_method=method, deposit_account=deposit,
                         exchange_rate=rate)
    payload["_references"] = creates
    return payload


def _plan_cancel(order: Order, options: PostingOptions, ctx: PlanContext, cache: dict[Any, Any],
                 posted: dict[str, Any]) -> list[PlannedWrite]:
    """A cancelled order: void (or reverse with a credit memo) the receipt or invoice planned for it, after it
    is in QuickBooks (it depends on it; the bridge puts its TxnID in). Nothing posted: nothing to undo."""
    docs = [posted[k] for k in (idempotency_key("SalesReceipt", order.natural_key),
                                idempotency_key("Invoice", order.natural_key)) if k in posted]
    if not docs:
        return []
    doc = docs[0]
    payment_key = idempotency_key("ReceivePayment", order.natural_key)
    if doc.stream == "Invoice" and payment_key in posted and options.on_cancel == "void":
        raise RecordError(f"order {order.order_id} was cancelled after its invoice was paid (payment {payment_key}); "
                          "QuickBooks does not void an invoice with a payment applied", stream="Void",
                          key=order.natural_key, field="status",
                          hint="refund the buyer (a refund posts as a credit memo), or delete the payment in "
                               "QuickBooks and `ledgerlink dlq retry`; or set on_cancel: reverse")
    if options.on_cancel == "void":
        key = idempotency_key("Void", order.natural_key)
        payload = ctx.render("txn_void.json.j2", record_key=order.natural_key, order=order, posting=options,
                             txn_type=doc.stream, txn=TXN_PLACEHOLDER + doc.key)
        return [PlannedWrite(stream="Void", key=key, data=payload, depends_on=[doc.key],
                             source_refs=list(order.source_refs), natural_key=order.natural_key)]
    # reverse: a credit memo of what was posted, dated the cancellation, for a period already closed
    body = next(v for k, v in doc.data.items() if not k.startswith("_"))
    lines = [ReceiptLine(ln["ItemRef"]["FullName"], ln.get("Desc"), Decimal(str(ln["Quantity"]))
                         if ln.get("Quantity") is not None else None, Decimal(str(ln["Amount"])))
             for ln in next(v for k, v in body.items() if k.endswith("LineAdd"))]
    key = idempotency_key("CreditMemo", order.natural_key)
    memo = "\n".join([MEMO_PREFIX + key, f"reverses {doc.key} (order {order.order_id} was cancelled)"])
    payload = ctx.render("cancel_credit_memo.json.j2", record_key=order.natural_key, order=order, posting=options,
                         ref_number=ref_number(posting.number_for(order, options, order.order_id)), memo=memo,
                         customer_name=body["CustomerRef"]["FullName"], lines=lines,
                         class_name=(body.get("ClassRef") or {}).get("FullName"), exchange_rate=body.get("ExchangeRate"))
    payload["_references"] = doc.data.get("_references") or {}
    return [PlannedWrite(stream="CreditMemo", key=key, data=payload, depends_on=[doc.key],
                         source_refs=list(order.source_refs), natural_key=order.natural_key)]
