"""Posting rules for refunds and returns in QuickBooks Desktop.

`plan_refund`: a Refund → a CreditMemoAdd for what the buyer got back, to the sale's customer (qbXML has no
refund receipt: paying the credit out is a cheque or an ARRefundCreditCard against it, which the channel's payout
already did, so the credit memo is what the books need). With `returns.refund_document: refund_receipt` the refund
is paid back by a cheque as well: a CheckAdd from `refund_account` to the customer, its line on accounts
receivable, applied to the credit memo (whose TxnID the bridge fills in once QuickBooks has it). As for sales, marketplace-collected tax is left out and
seller-collected tax is a line on the tax item. Product lines go to a non-stock returns item: a credit memo line on
an inventory item would put the unit back in stock whether it came back sellable or not.

`plan_return`: a Return that came back sellable → an InventoryAdjustmentAdd with QuantityDifference +quantity on
the SKU's item and AccountRef the restock account (cost of goods sold), so the sale's cost reverses. An unsellable
return posts nothing. References the documents use (customer, items) ride along in `_references`, so a company
file that lacks one (3140) gets it created and the document sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerlink import PlanContext, PlannedWrite, RecordError, Refund, Return, idempotency_key, posting, quantize

from ..qbxml import TXN_PLACEHOLDER
from .orders import CUSTOMER_NAME_MAX, ITEM_NAME_MAX, MEMO_PREFIX, fit, parse_options, ref_number

__all__ = ["plan_refund", "plan_return", "CreditLine", "document_total", "sale_of"]

_SALES = ("SalesReceipt", "Invoice")


@dataclass(frozen=True)
class CreditLine:
    item: str
    description: str | None
    qty: Decimal | None
    amount: Decimal
    sku: str | None = None


def _options(ctx: PlanContext) -> tuple[Any, Any]:
    memo: dict[Any, Any] = getattr(ctx, "cache", None)
    if memo is None:
        memo = {}
    cached = memo.get("qbd:returns")
    if cached is None:
        options = memo.get("qbd:options") or parse_options(ctx.options)
        memo["qbd:options"] = options
        cached = memo["qbd:returns"] = (options, posting.parse_returns_options(options.returns))
    return cached


def document_total(payload: dict[str, Any]) -> Decimal:
    """What QuickBooks will compute as a sales document's total: the sum of its line amounts."""
    body = next((v for k, v in payload.items() if not k.startswith("_") and isinstance(v, dict)), {})
    total = Decimal(0)
    for key, lines in body.items():
        if key.endswith("LineAdd") and isinstance(lines, list):
            total += sum((Decimal(str(line.get("Amount", 0))) for line in lines), Decimal(0))
    return total


def sale_of(ctx: PlanContext, order_key: str) -> Any | None:
    """The sale's planned SalesReceiptAdd / InvoiceAdd, when the runtime can tell (`ctx.posted`)."""
    posted = getattr(ctx, "posted", None)
    if posted is None:
        return None
    return next((d for d in posted(order_key) or [] if getattr(d, "stream", None) in _SALES), None)


def _item_name(sku: str, options: Any) -> str:
    item_for = getattr(posting, "item_for", None)
    name = item_for(sku, options).name if item_for is not None and hasattr(options, "items") else sku
    return fit(name, ITEM_NAME_MAX)


def _class_name(obj: Any, options: Any) -> str | None:
    dimensions_for = getattr(posting, "dimensions_for", None)
    if dimensions_for is None or not hasattr(options, "stores"):
        return None
    return dimensions_for(obj, options).class_name


def plan_refund(refund: Refund, ctx: PlanContext) -> list[PlannedWrite]:
    """The returns item, then the credit memo; a refund of nothing plans nothing."""
    options, returns = _options(ctx)
    amounts = posting.refund_amounts(refund)
    cur = refund.currency
    sale = sale_of(ctx, posting.order_key_of(refund))
    body = next((v for k, v in (sale.data if sale else {}).items() if not k.startswith("_")), {}) if sale else {}
    marketplace_tax = posting.tax_is_marketplace_collected(
        refund, returns, ("marketplace-collected tax" in str(body.get("Memo") or "")) if sale else None)
    seller_tax = Decimal(0) if marketplace_tax else amounts.tax
    total = amounts.total_without_tax() + seller_tax
    if sale is not None:  # with what the order's earlier refunds took back
        posting.check_within_order(refund, total, quantize(document_total(sale.data), cur), stream="CreditMemo",
                                   earlier=quantize(posting.earlier_refunds(ctx, refund, document_total), cur))
    if total == 0:
        return []

    customer = fit(posting.refund_customer_name(refund, returns, (body.get("CustomerRef") or {}).get("FullName")),
                   CUSTOMER_NAME_MAX)
    returns_item = fit(returns.returns_item, ITEM_NAME_MAX)
    lines: list[CreditLine] = []
    for line in amounts.lines:
        if line.amount == 0:
            continue
        item = returns_item if returns.line_items == "returns_item" or not line.sku else _item_name(line.sku, options)
        label = f"{line.sku or 'item'} × {line.quantity.normalize():f} refunded"
        lines.append(CreditLine(item, label, line.quantity if line.quantity > 0 else None, line.amount, line.sku))
    if amounts.shipping:
        lines.append(CreditLine(fit(returns.shipping_item or options.shipping_item, ITEM_NAME_MAX), "Shipping refunded",
                                None, amounts.shipping))
    if seller_tax:
        lines.append(CreditLine(fit(options.tax_item, ITEM_NAME_MAX), "Sales tax refunded", None, seller_tax))

    writes: list[PlannedWrite] = []
    depends: list[str] = []
    references: dict[str, Any] = {f"Customer:{customer}": ctx.render(
        "customer.json.j2", record_key=refund.natural_key, name=customer, buyer=None, currency=cur,
        notes=f"created by ledgerlink for {refund.source} refunds", currency_name=None, posting=options)}
    for item, kind, account in ((fit(returns.shipping_item or options.shipping_item, ITEM_NAME_MAX), "ItemServiceAdd",
                                 options.income_account),
                                (fit(options.tax_item, ITEM_NAME_MAX), "ItemServiceAdd", options.tax_account)):
        if any(line.item == item for line in lines):
            references[f"Item:{item}"] = ctx.render(
                "item.json.j2", record_key=refund.natural_key, kind=kind, name=item, description=None,
                account=account, memo=f"{MEMO_PREFIX}{idempotency_key('Item', item)}", posting=options)
    if any(line.item == returns_item for line in lines):
        item_key = idempotency_key("Item", returns_item)
        data = ctx.render("item.json.j2", record_key=refund.natural_key, kind="ItemNonInventoryAdd", name=returns_item,
                          description="Refunded products (ledgerlink: stock moves only with sellable returns)",
                          account=returns.returns_account or options.income_account, memo=f"{MEMO_PREFIX}{item_key}",
                          posting=options)
        writes.append(PlannedWrite(stream="Item", key=item_key, data=data))
        references[f"Item:{returns_item}"] = data
        depends.append(item_key)

    key = idempotency_key("CreditMemo", refund.natural_key)
    memo = [MEMO_PREFIX + key, f"refund {refund.refund_id} of order {refund.order_id} ({refund.source})"]
    if refund.reason:
        memo.append(f"reason: {refund.reason}")
    if marketplace_tax and amounts.tax:
        memo.append(f"marketplace-collected tax {amounts.tax} {cur} not posted: the marketplace refunds it")
    for line in amounts.lines:
        if line.sku and line.quantity:
            memo.append(f"stock: {line.sku} × {line.quantity.normalize():f} " + (
                "returned sellable, restocked by its return" if line.restock else
                "restocked with this refund" if returns.restock_unreturned_refunds else
                "not restocked (restocked only when a return comes back sellable)"))
    payload = ctx.render("credit_memo.json.j2", record_key=refund.natural_key, refund=refund, posting=options,
                         returns=returns, ref_number=ref_number(posting.number_for(refund, options, refund.refund_id)), memo="\n".join(memo),
                         customer_name=customer, lines=lines, class_name=_class_name(refund, options))
    if quantize(document_total(payload), cur) != total:
        raise RecordError(f"the credit memo adds up to {document_total(payload)} {cur} but the refund is {total} {cur}",
                          stream="CreditMemo", key=refund.natural_key, field="CreditMemoLineAdd",
                          hint="a credit_memo mapping override must keep every amount of the refund")
    payload["_references"] = references
    payload["_ledgerlink"] = {"refund_of": posting.order_key_of(refund)}  # private: the over-refund check's link
    writes.append(PlannedWrite(stream="CreditMemo", key=key, data=payload, depends_on=depends,
                               source_refs=list(refund.source_refs)))
    if returns.refund_document == "refund_receipt":  # paid back by cheque, applied to the credit memo
        writes.append(_refund_cheque(refund, options, returns, customer, total, key, payload))
    if returns.restock and returns.restock_unreturned_refunds:
        for n, line in enumerate(amounts.lines):
            if line.sku and line.quantity > 0 and not line.restock:
                writes.append(_restock(f"{refund.natural_key}/{n}", line.sku, line.quantity, refund.refunded_at,
                                       f"refund {refund.refund_id} of order {refund.order_id}: restocked without a "
                                       "return", refund, options, returns, ctx))
    return writes


def _refund_cheque(refund: Refund, options: Any, returns: Any, customer: str, total: Decimal, memo_key: str,
                   memo_payload: dict[str, Any]) -> PlannedWrite:
    """The cheque that pays a refund's credit memo out: from `refund_account`, its one line on accounts
    receivable for the customer (so A/R nets to zero with the credit memo), applied to the credit memo."""
    key = idempotency_key("Check", refund.natural_key)
    body = memo_payload["CreditMemoAdd"]
    ar = options.ar_account or "Accounts Receivable"
    check = {
        "AccountRef": {"FullName": returns.refund_account},
        "PayeeEntityRef": {"FullName": customer},
        "RefNumber": body.get("RefNumber"),
        "TxnDate": body.get("TxnDate"),
        "Memo": "\n".join([MEMO_PREFIX + key, f"refund cheque of {memo_key} (refund {refund.refund_id} of order "
                                              f"{refund.order_id})"]),
        "ApplyCheckToTxnAdd": [{"TxnID": TXN_PLACEHOLDER + memo_key, "Amount": total}],
        "ExpenseLineAdd": [{"AccountRef": {"FullName": ar}, "Amount": total, "CustomerRef": {"FullName": customer}}],
    }
    return PlannedWrite(stream="Check", key=key, data={"CheckAdd": {k: v for k, v in check.items() if v is not None},
                                                       "_references": memo_payload.get("_references") or {}},
                        depends_on=[memo_key], source_refs=list(refund.source_refs))


def _restock(natural: str, sku: str, quantity: Decimal, when: Any, what: str, obj: Any, options: Any, returns: Any,
             ctx: PlanContext) -> PlannedWrite:
    key = idempotency_key("InventoryAdjustment", natural)
    memo = "\n".join([MEMO_PREFIX + key, what, f"reason: {returns.restock_reason}"])
    account = returns.restock_account or options.cogs_account
    payload = ctx.render("restock.json.j2", record_key=natural, item=_item_name(sku, options), sku=sku,
                         quantity=quantity, when=when, restock_account=account, memo=memo, posting=options,
                         returns=returns,
                         class_name=_class_name(obj, options))
    item = _item_name(sku, options)  # created as an inventory item should the company file lack it (3140)
    payload["_references"] = {f"Item:{item}": ctx.render(
        "item.json.j2", record_key=natural, kind="ItemInventoryAdd", name=item, description=None,
        account=options.income_account, memo=f"{MEMO_PREFIX}{idempotency_key('Item', item)}", posting=options)}
    return PlannedWrite(stream="InventoryAdjustment", key=key, data=payload, source_refs=list(obj.source_refs))


def plan_return(ret: Return, ctx: PlanContext) -> list[PlannedWrite]:
    """A sellable return → the adjustment that restocks it; an unsellable one plans nothing."""
    options, returns = _options(ctx)
    if not returns.restock or not posting.is_sellable(ret, returns):
        return []
    quantity = posting.restock_quantity(ret)
    if quantity == 0:
        return []
    what = (f"return {ret.return_id} of order {ret.order_id}: {quantity.normalize():f} × {ret.sku} came back "
            f"{ret.disposition or 'sellable'}" + (f" ({ret.reason})" if ret.reason else ""))
    return [_restock(ret.natural_key, ret.sku, quantity, ret.returned_at, what, ret, options, returns, ctx)]
