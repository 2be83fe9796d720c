"""Sales receipts planned from canonical order columns (the columnar fast path, `ledgerlink.columnar`).

`plan_order` is the reference. For an order read as columns (`columnar.ColumnarOrder`), this decides its document with
the
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

from ledgerlink import PlannedWrite, columnar, posting, quantize

from .orders import _options, plan_order, plan_sale

__all__ = ["prepare_receipts", "columnar_amounts"]

#: the mappings a columnar receipt renders: each must be the default one (its Python twin runs)
MAPPINGS = ("sales_receipt.json.j2", "customer.json.j2", "item.json.j2")
_ZERO = Decimal(0)
_ONE = Decimal(1)


def columnar_amounts(order: columnar.ColumnarOrder) -> posting.OrderAmounts | None:
    """`posting.order_amounts` over columns, each total summed in one pass; None where the reference raises
    (it then says why)."""
    cur = order.currency

    def q(value: Decimal) -> Decimal:
        return quantize(value, cur)

    lines: list[posting.LineAmount] = []
    tax = shipping = shipping_tax = gift_wrap = gift_wrap_tax = discount = shipping_discount = gross = _ZERO
    for line in order.lines:
        amount = q(line.amount)
        qty = line.quantity
        if qty < 0 or not line.sku:
            return None
        tax += line.tax
        shipping += line.shipping
        shipping_tax += line.shipping_tax
        gift_wrap += line.gift_wrap
        gift_wrap_tax += line.gift_wrap_tax
        discount += line.discount
        shipping_discount += line.shipping_discount
        gross += line.amount
        if qty == 0 and amount == 0:
            continue
        if qty == 0:
            qty = _ONE
        lines.append(posting.LineAmount(sku=line.sku, title=line.title, qty=qty,
                                        unit_price=posting.unit_price(amount, qty, cur), amount=amount,
                                        tax=q(line.tax), line_id=line.line_id, source_ref=line.source_ref))
    # `Order.grand_total`: the amount, tax, shipping, shipping tax, gift wrap and gift wrap tax totals in that
    # order, less both discounts (the same additions, so the same Decimal)
    grand = _ZERO + gross + tax + shipping + shipping_tax + gift_wrap + gift_wrap_tax - discount - shipping_discount
    all_tax = q(tax + shipping_tax + gift_wrap_tax)
    seller = order.tax_collected_by == "seller"
    marketplace_tax = _ZERO if seller else all_tax
    return posting.OrderAmounts(
        currency=cur, lines=lines, shipping=q(shipping), shipping_tax=q(shipping_tax), gift_wrap=q(gift_wrap),
        gift_wrap_tax=q(gift_wrap_tax), discount=q(discount + shipping_discount),
        seller_tax=all_tax if seller else _ZERO, marketplace_tax=marketplace_tax, total=q(grand - marketplace_tax))


def prepare_receipts(destination: Any, ctx: Any) -> columnar.PreparedPlanner | None:
    """The per-order planner for this run, or None when the run's destination, mappings or options are not the
    ones it reproduces."""
    from ..destination import PLANNERS, QuickBooksOnlineDestination

    plan_method = type(destination).plan
    if (plan_method is not QuickBooksOnlineDestination.plan or PLANNERS.get("order") is not plan_order
            or getattr(plan_method, "__qualname__", "") != "QuickBooksOnlineDestination.plan"):
        return None  # a subclass's plan, or one patched in (the class attribute itself replaced)
    engine = getattr(ctx, "engine", None)
    if engine is None or not all(engine.is_native(name) for name in MAPPINGS):
        return None
    memo, options = _options(ctx)
    if options.customer_strategy != "per_marketplace":
        return None
    decisions: dict[tuple[Any, ...], posting.Decision] = {}

    def plan(order: columnar.ColumnarOrder, ctx: Any) -> list[PlannedWrite] | None:
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


columnar.register_order_planner("qbo", prepare_receipts)
