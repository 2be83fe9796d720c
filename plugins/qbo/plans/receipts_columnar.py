"""Sales receipts planned from canonical order columns (the columnar fast path, `ledgerlink.columnar`).

`plan_order` is the reference. For an order read as columns (`ColumnarOrder`), this decides its document with the
same shared rules (`posting.decide`, once per distinct status/channel/store combination), adds up its amounts as
`posting.order_amounts` does over plain Decimals, and builds the writes with `orders.plan_sale`, the very code
`plan_order` ends in: same Customer and Item (memoised in the same `ctx.cache`), same receipt payload, key,
dependencies and line refs.

It declines (returns None: the reference path plans the order) everything but a first sales receipt: an order
this pipeline planned anything for before (a second run: payments, voids, revisions), a cancelled order, an
invoice or a receipt that must look for an earlier invoice, and any order the rules cannot decide on columns
alone. It runs only while the destination is QuickBooks Online's own `plan`, the receipt, customer and item
mappings are the default ones (written as Python, `payloads.py`) and customers are per marketplace.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerlink import PlannedWrite, posting, quantize
from ledgerlink.columnar import ColumnarOrder, PreparedPlanner, register_order_planner

from .orders import _options, plan_order, plan_sale

__all__ = ["prepare_receipts", "columnar_amounts"]

#: the mappings a columnar receipt renders: each must be the default one (its Python twin runs)
MAPPINGS = ("sales_receipt.json.j2", "customer.json.j2", "item.json.j2")


def columnar_amounts(order: ColumnarOrder) -> posting.OrderAmounts | None:
    """`posting.order_amounts` over columns; None where the reference raises (it then says why)."""
    cur = order.currency
    lines: list[posting.LineAmount] = []
    for line in order.lines:
        amount = quantize(line.amount, cur)
        qty = line.quantity
        if qty < 0 or not line.sku:
            return None
        if qty == 0 and amount == 0:
            continue
        if qty == 0:
            qty = Decimal(1)
        lines.append(posting.LineAmount(sku=line.sku, title=line.title, qty=qty,
                                        unit_price=posting.unit_price(amount, qty, cur), amount=amount,
                                        tax=quantize(line.tax, cur), line_id=line.line_id, source_ref=line.source_ref))
    tax = quantize(order.total("tax") + order.total("shipping_tax") + order.total("gift_wrap_tax"), cur)
    seller = order.tax_collected_by == "seller"
    marketplace_tax = Decimal(0) if seller else tax
    return posting.OrderAmounts(
        currency=cur, lines=lines,
        shipping=quantize(order.total("shipping"), cur), shipping_tax=quantize(order.total("shipping_tax"), cur),
        gift_wrap=quantize(order.total("gift_wrap"), cur), gift_wrap_tax=quantize(order.total("gift_wrap_tax"), cur),
        discount=quantize(order.total("discount") + order.total("shipping_discount"), cur),
        seller_tax=tax if seller else Decimal(0), marketplace_tax=marketplace_tax,
        total=quantize(order.grand_total() - marketplace_tax, cur))


def prepare_receipts(destination: Any, ctx: Any) -> PreparedPlanner | None:
    """The per-order planner for this run, or None when the run's destination, mappings or options are not the
    ones it reproduces."""
    from ..destination import PLANNERS, QuickBooksOnlineDestination

    if type(destination).plan is not QuickBooksOnlineDestination.plan or PLANNERS.get("order") is not plan_order:
        return None
    engine = getattr(ctx, "engine", None)
    if engine is None or not all(engine.is_native(name) for name in MAPPINGS):
        return None
    memo, options = _options(ctx)
    if options.customer_strategy != "per_marketplace":
        return None
    decisions: dict[tuple[Any, ...], posting.Decision] = {}

    def plan(order: ColumnarOrder, ctx: Any) -> list[PlannedWrite] | None:
        head = (order.status, order.paid, order.channel, order.sales_channel, order.marketplace, order.store,
                order.fulfilment, order.is_business_order)
        decision = decisions.get(head)
        if decision is None:
            decision = decisions[head] = posting.decide(order, options)  # type: ignore[arg-type]
        if decision.cancel:
            return None
        if decision.document is None:
            return []
        if decision.document != "sales_receipt" or decision.earlier is not None or ctx.posted(order.natural_key):
            return None
        amounts = columnar_amounts(order)
        if amounts is None:
            return None
        return plan_sale(order, ctx, memo, options, decision, "SalesReceipt", amounts)

    return plan


register_order_planner("qbo", prepare_receipts)
