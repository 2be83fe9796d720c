"""Posting rules for refunds and returns in QuickBooks Online.

`plan_refund`: a Refund → a CreditMemo (default) or RefundReceipt (`returns.refund_document`) for what the buyer
got back, to the sale's customer; marketplace-collected tax is left out as it was from the sale. Product lines
go to a non-stock returns item by default: a CreditMemo line on an *inventory* item would put the unit back in
QuickBooks' stock (and reverse its cost) whether it came back sellable or not, and the refund arrives before
anyone knows (Amazon's disposition comes days later in the returns report).

`plan_return`: a Return that came back sellable → an InventoryAdjustment of +quantity on the SKU's item whose
AdjustAccountRef is the restock account (cost of goods sold), so QuickBooks moves the unit's average cost from
COGS back to the inventory asset. An unsellable return posts nothing: the unit stays written off at its cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerlink import (
    PlanContext, PlannedWrite, RecordError, Refund, Return, idempotency_key, posting, quantize,
)

from .orders import CONTROL, NOTE_PREFIX, doc_number, parse_options, receipt_total

__all__ = ["plan_refund", "plan_return", "RefundDocLine", "DOCUMENTS", "sale_of"]

#: returns.refund_document → the QuickBooks Online document
DOCUMENTS = {"credit_memo": "CreditMemo", "refund_receipt": "RefundReceipt"}
_SALES = ("SalesReceipt", "Invoice")
_UNIT_PRICE_PLACES = Decimal("0.0000001")


@dataclass(frozen=True)
class RefundDocLine:
    """One SalesItemLine of a credit memo / refund receipt (`amount` exact, Qty × UnitPrice rounds to it)."""

    item: str
    description: str | None
    qty: Decimal | None
    unit_price: Decimal | None
    amount: Decimal
    taxable: bool
    sku: str | None = None


def _options(ctx: PlanContext) -> tuple[Any, posting.ReturnsOptions]:
    memo: dict[Any, Any] = getattr(ctx, "cache", None)
    if memo is None:
        memo = {}
    cached = memo.get("qbo:returns")
    if cached is None:
        options = memo.get("qbo:options") or parse_options(ctx.options)
        memo["qbo:options"] = options
        cached = memo["qbo:returns"] = (options, posting.parse_returns_options(options.returns))
    return cached


def sale_of(ctx: PlanContext, order_key: str) -> Any | None:
    """The sale's posted (or planned) SalesReceipt / Invoice, when the runtime can tell (`ctx.posted`)."""
    posted = getattr(ctx, "posted", None)
    if posted is None:
        return None
    return next((d for d in posted(order_key) or [] if getattr(d, "stream", None) in _SALES), None)


def _already_as(ctx: PlanContext, refund: Refund) -> str | None:
    """The document a refund was already posted as: switching `refund_document` later must not post it twice."""
    posted = getattr(ctx, "posted", None)
    if posted is None:
        return None
    return next((d.stream for d in posted(refund.natural_key) or [] if d.stream in DOCUMENTS.values()), None)


def _unit_price(amount: Decimal, qty: Decimal, currency: str) -> Decimal:
    cents = quantize(amount / qty, currency)
    return cents if quantize(cents * qty, currency) == amount else (amount / qty).quantize(_UNIT_PRICE_PLACES)


def _item_name(sku: str, options: Any) -> str:
    item_for = getattr(posting, "item_for", None)
    if item_for is not None and hasattr(options, "items"):
        return item_for(sku, options).name
    return sku


def _dimensions(obj: Any, options: Any) -> Any:
    dimensions_for = getattr(posting, "dimensions_for", None)
    if dimensions_for is None or not hasattr(options, "stores"):
        return None
    found = dimensions_for(obj, options)
    return found if found else None


def plan_refund(refund: Refund, ctx: PlanContext) -> list[PlannedWrite]:
    """The writes one refund needs: the returns item (and the customer, when the sale is not known), then the
    credit memo or refund receipt. A refund of nothing plans nothing."""
    options, returns = _options(ctx)
    amounts = posting.refund_amounts(refund)
    cur = refund.currency
    sale = sale_of(ctx, posting.order_key_of(refund))
    sale_note = str((sale.data.get("PrivateNote") if sale else "") or "")
    marketplace_tax = posting.tax_is_marketplace_collected(
        refund, returns, ("marketplace-collected tax" in sale_note) if sale else None)
    seller_tax = Decimal(0) if marketplace_tax else amounts.tax
    total = amounts.total_without_tax() + seller_tax
    stream = _already_as(ctx, refund) or DOCUMENTS[returns.refund_document]
    if sale is not None:  # with what the order's earlier refunds took back
        posting.check_within_order(refund, total, quantize(receipt_total(sale.data), cur), stream=stream,
                                   earlier=quantize(posting.earlier_refunds(ctx, refund, receipt_total), cur))
    if total == 0:
        return []

    writes: list[PlannedWrite] = []
    depends: list[str] = []
    sale_customer = ((sale.data.get("CustomerRef") or {}).get("name") if sale else None)
    customer = posting.refund_customer_name(refund, returns, sale_customer)
    if not sale_customer:
        customer_key = idempotency_key("Customer", f"{refund.source}/refund-customer/{customer}")
        data = ctx.render("customer.json.j2", record_key=refund.natural_key, display_name=customer, buyer=None,
                          currency=cur, source_label=refund.source, order=None, posting=options)
        writes.append(PlannedWrite(stream="Customer", key=customer_key, data=data))
        depends.append(customer_key)

    lines: list[RefundDocLine] = []
    for line in amounts.lines:
        if line.amount == 0:
            continue
        label = f"{line.sku or 'item'} × {line.quantity.normalize():f} refunded" if line.quantity else \
            f"{line.sku or 'item'} refunded"
        item = returns.returns_item if returns.line_items == "returns_item" or not line.sku else \
            _item_name(line.sku, options)
        qty = line.quantity if line.quantity > 0 else None
        lines.append(RefundDocLine(item=item, description=label, qty=qty,
                                   unit_price=_unit_price(line.amount, qty, cur) if qty else None,
                                   amount=line.amount, taxable=bool(seller_tax) and line.tax != 0, sku=line.sku))
    if amounts.shipping:
        lines.append(RefundDocLine(item=returns.shipping_item or options.shipping_item, description="Shipping refunded",
                                   qty=None, unit_price=None, amount=amounts.shipping, taxable=False))
    if any(line.item == returns.returns_item for line in lines):
        item_key = idempotency_key("Item", returns.returns_item)
        data = ctx.render("item.json.j2", record_key=refund.natural_key, name=returns.returns_item, sku=None,
                          description="Refunded products (ledgerlink: stock moves only with sellable returns)",
                          item_type="NonInventory", income_account=returns.returns_account or options.income_account,
                          posting=options, start_date=None)
        writes.append(PlannedWrite(stream="Item", key=item_key, data=data))
        depends.append(item_key)

    key = idempotency_key(stream, refund.natural_key)
    note = [NOTE_PREFIX + key, f"refund {refund.refund_id} of order {refund.order_id} ({refund.source})"]
    if refund.reason:
        note.append(f"reason: {refund.reason}")
    if marketplace_tax and amounts.tax:
        note.append(f"marketplace-collected tax {amounts.tax} {cur} not posted: the marketplace refunds it")
    note.extend(_stock_notes(amounts, returns))
    payload = ctx.render(f"{'credit_memo' if stream == 'CreditMemo' else 'refund_receipt'}.json.j2",
                         record_key=refund.natural_key, refund=refund, posting=options, returns=returns,
                         doc_number=doc_number(posting.number_for(refund, options, refund.refund_id)), private_note="\n".join(note),
                         customer_name=customer, lines=lines, seller_tax=seller_tax,
                         dimensions=_dimensions(refund, options))
    if quantize(receipt_total(payload), cur) != total:
        raise RecordError(f"the {stream} adds up to {receipt_total(payload)} {cur} but the refund is {total} {cur}",
                          stream=stream, key=refund.natural_key, field="Line",
                          hint="a credit_memo / refund_receipt mapping override must keep every amount of the refund")
    payload[CONTROL] = {**(payload.get(CONTROL) or {}), "refund_of": posting.order_key_of(refund)}  # not sent
    writes.append(PlannedWrite(stream=stream, key=key, data=payload, depends_on=depends,
                               source_refs=list(refund.source_refs)))
    if returns.restock and returns.restock_unreturned_refunds:
        writes.extend(_restock_refund_lines(refund, amounts, options, returns, ctx))
    return writes


def _stock_notes(amounts: Any, returns: Any) -> list[str]:
    """What the refund did to stock, per SKU: nothing by itself (a return restocks)."""
    out = []
    for line in amounts.lines:
        if not line.sku or not line.quantity:
            continue
        if line.restock:
            out.append(f"stock: {line.sku} × {line.quantity.normalize():f} returned sellable, restocked by its return")
        elif returns.restock_unreturned_refunds:
            out.append(f"stock: {line.sku} × {line.quantity.normalize():f} restocked with this refund")
        else:
            out.append(f"stock: {line.sku} × {line.quantity.normalize():f} not restocked (restocked only when a "
                       "return comes back sellable)")
    return out


def _restock_refund_lines(refund: Refund, amounts: Any, options: Any, returns: Any,
                          ctx: PlanContext) -> list[PlannedWrite]:
    """`restock_unreturned_refunds`: refunded units not flagged as returned go back on the shelf with the refund
    (flagged ones are restocked by their Return)."""
    out = []
    for n, line in enumerate(amounts.lines):
        if not line.sku or line.quantity <= 0 or line.restock:
            continue
        natural = f"{refund.natural_key}/{n}"
        out.append(_restock(natural, line.sku, line.quantity, refund.refunded_at,
                            f"refund {refund.refund_id} of order {refund.order_id}: restocked without a return",
                            refund, options, returns, ctx))
    return out


def _restock(natural: str, sku: str, quantity: Decimal, when: Any, what: str, obj: Any, options: Any, returns: Any,
             ctx: PlanContext) -> PlannedWrite:
    key = idempotency_key("InventoryAdjustment", natural)
    note = "\n".join([NOTE_PREFIX + key, what, f"reason: {returns.restock_reason}"])
    account = returns.restock_account or options.expense_account
    payload = ctx.render("restock.json.j2", record_key=natural, item=_item_name(sku, options), sku=sku,
                         quantity=quantity, when=when, restock_account=account, private_note=note, posting=options,
                         returns=returns,
                         dimensions=_dimensions(obj, options))
    return PlannedWrite(stream="InventoryAdjustment", key=key, data=payload, source_refs=list(obj.source_refs))


def plan_return(ret: Return, ctx: PlanContext) -> list[PlannedWrite]:
    """A sellable return → the adjustment that restocks it; an unsellable one plans nothing (and is counted as
    not posted), since the unit never comes back on the shelf."""
    options, returns = _options(ctx)
    if not returns.restock or not posting.is_sellable(ret, returns):
        return []
    quantity = posting.restock_quantity(ret)
    if quantity == 0:
        return []
    what = (f"return {ret.return_id} of order {ret.order_id}: {quantity.normalize():f} × {ret.sku} came back "
            f"{ret.disposition or 'sellable'}" + (f" ({ret.reason})" if ret.reason else ""))
    return [_restock(ret.natural_key, ret.sku, quantity, ret.returned_at, what, ret, options, returns, ctx)]
