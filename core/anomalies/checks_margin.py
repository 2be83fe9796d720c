"""Stock and margin checks: SKUs sold below cost or with no unit cost at all, refunds whose units never came
back (no restock, no return: the cost of the sale is never reversed), and stock the channel lost or damaged
that it has not reimbursed after its usual window. Computed from the staged orders, settlements, refunds,
returns, products and the FBA inventory-ledger and reimbursement reports."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterator

from .checks_fees import ORDER_ITEMS
from .context import AnomalyContext
from .model import AnomalyFinding, NotApplicable
from .registry import register

__all__ = ["negative_margin", "missing_unit_cost", "refund_without_restock", "lost_inventory_unreimbursed",
           "LOST_REASONS"]

CANCELLED = "lower(status) IN ('canceled', 'cancelled')"

#: units sold and the net price per SKU: from the orders, else from the settlements' principal rows
SALES_FROM_ORDERS = f"""
    SELECT sku, currency, sum(quantity) AS units, sum(amount - discount) AS net,
           list(DISTINCT order_id ORDER BY order_id)[:20] AS orders
    FROM order_lines WHERE sku IS NOT NULL AND quantity > 0 AND NOT ({CANCELLED}) GROUP BY sku, currency"""
SALES_FROM_SETTLEMENTS = f"""
    SELECT sku, currency, sum(coalesce(nullif(units, 0), 1)) AS units, sum(principal) AS net,
           list(DISTINCT order_id ORDER BY order_id)[:20] AS orders
    FROM ({ORDER_ITEMS}) WHERE principal > 0 GROUP BY sku, currency"""
FEES_PER_SKU = f"""
    SELECT sku, currency, sum(coalesce(referral, 0) + coalesce(fulfilment, 0)) / sum(coalesce(nullif(units, 0), 1))
           AS fee_per_unit
    FROM ({ORDER_ITEMS}) WHERE principal > 0 GROUP BY sku, currency"""


def _n(quantity: Any) -> str:
    """A quantity as people write it: 2, not 2.0000."""
    text = format(Decimal(str(quantity)).normalize(), "f")
    return text


def _sales(ctx: AnomalyContext) -> tuple[list[tuple[Any, ...]], str]:
    con = ctx.facts("order_lines", "settlement_rows")
    rows = con.execute(SALES_FROM_ORDERS).fetchall()
    if rows:
        return rows, "orders"
    rows = con.execute(SALES_FROM_SETTLEMENTS).fetchall()
    if rows:
        return rows, "settlements"
    raise NotApplicable("this pipeline has no sales staged (no orders, no settlement order rows)")


def _costs(ctx: AnomalyContext) -> dict[str, Decimal]:
    con = ctx.facts("products")
    costs = {sku: Decimal(c) for sku, c in con.execute(
        "SELECT sku, any_value(cost) FROM products WHERE cost IS NOT NULL GROUP BY sku").fetchall()}
    costs.update(ctx.options.unit_costs())
    return costs


@register("negative_margin")
def negative_margin(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """SKUs whose average net price, less the channel's fees per unit, is below their unit cost."""
    opts = ctx.options.negative_margin
    sales, basis = _sales(ctx)
    costs = _costs(ctx)
    if not costs:
        raise NotApplicable("no unit costs are known: the source reads no product costs; give them as "
                            "anomalies.negative_margin.unit_costs or read the ledger's item list")
    fees = {(sku, cur): Decimal(f) for sku, cur, f in ctx.facts("settlement_rows").execute(FEES_PER_SKU).fetchall()}
    for sku, currency, units, net, orders in sales:
        cost = costs.get(sku)
        if cost is None or not units:
            continue
        price = Decimal(net) / Decimal(units)
        fee = fees.get((sku, currency), Decimal(0))
        margin = price - fee - cost
        if margin < opts.min_margin:
            yield AnomalyFinding(
                "negative_margin", "warning", f"SKU {sku} {currency}",
                f"SKU {sku} sold {_n(units)} unit(s) at {price:.2f} {currency} on average (from the {basis}); after "
                f"{fee:.2f} of channel fees per unit and a unit cost of {cost:.2f}, each sale makes {margin:.2f}.",
                [{"source": "order", "order_id": o, "sku": sku} for o in orders],
                threshold=f"unit margin < {opts.min_margin}", measured=f"{margin:.2f} {currency} per unit",
                what_to_do="check the price and the unit cost in the item list; a promotion or a fee change may "
                           "have turned the SKU unprofitable")


@register("missing_unit_cost")
def missing_unit_cost(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """SKUs sold that have no unit cost: their cost of goods (and margin) cannot be known."""
    sales, basis = _sales(ctx)
    costs = _costs(ctx)
    if not costs and not ctx.count("products"):
        raise NotApplicable("no unit costs are known and no product list is read, so none can be missing: "
                            "give unit costs as anomalies.missing_unit_cost.unit_costs to check every SKU sold")
    for sku, currency, units, _net, orders in sales:
        if sku in costs:
            continue
        yield AnomalyFinding(
            "missing_unit_cost", "info", f"SKU {sku}",
            f"SKU {sku} sold {_n(units)} unit(s) (from the {basis}) but has no unit cost, so its cost of goods sold "
            "and margin are unknown.", [{"source": "order", "order_id": o, "sku": sku} for o in orders],
            threshold="any SKU sold without a unit cost", measured="no cost",
            what_to_do="enter the purchase cost on the item in the ledger (or in anomalies.missing_unit_cost."
                       "unit_costs)")


@register("refund_without_restock")
def refund_without_restock(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """Refunded units that neither came back (no return) nor were restocked after the usual return window: the
    refund reverses the sale but nothing reverses its cost."""
    opts = ctx.options.refund_without_restock
    con = ctx.facts("refund_lines", "returns")
    if not ctx.count("refund_lines"):
        raise NotApplicable("this pipeline has no refunds staged (it reads none, or none yet)")
    evidence = con.execute("SELECT (SELECT count(*) FROM returns) + "
                           "(SELECT count(*) FROM refund_lines WHERE restock)").fetchone()[0]
    if not evidence:
        raise NotApplicable("nothing in this pipeline says whether refunded units came back: no returns report "
                            "is read and no refund carries a restock flag")
    limit = ctx.now_naive - timedelta(days=opts.window_days)
    for refund_id, key, order_id, sku, units, amount, currency, refunded in con.execute("""
            SELECT r.refund_id, r.source_key, r.order_id, r.sku, sum(r.quantity), sum(r.amount), r.currency,
                   min(r.refunded_at)
            FROM refund_lines r
            WHERE r.sku IS NOT NULL AND r.quantity > 0 AND NOT r.restock AND r.refunded_at <= ?
              AND NOT EXISTS (SELECT 1 FROM returns t WHERE t.order_id = r.order_id AND t.sku = r.sku)
            GROUP BY ALL ORDER BY 8, 1""", [limit]).fetchall():
        days = (ctx.now_naive - refunded).days
        yield AnomalyFinding(
            "refund_without_restock", "warning", f"refund {refund_id} SKU {sku}",
            f"Refund {refund_id} (order {order_id}) gave back {amount:.2f} {currency} for {_n(units)} unit(s) of {sku} "
            f"{days} days ago; no return arrived and the units were not restocked, so the cost of the sale was "
            "never reversed.",
            [{"source": "refund", "refund_id": refund_id, "order_id": order_id, "sku": sku, "source_key": key}],
            threshold=f"older than {opts.window_days:g} days", measured=f"{days} days",
            what_to_do="if the buyer kept the item, leave it (the cost stays an expense); if it came back, record "
                       "the return or restock it; for FBA, open a reimbursement case if Amazon refunded without "
                       "a return")


#: FBA inventory-ledger adjustment reasons for units Amazon lost (M, 5) or damaged (E, 6, D, H, K, Q, U)
LOST_REASONS = {"M": "lost in the warehouse", "5": "unrecoverable", "E": "damaged at the fulfilment centre",
                "6": "damaged inbound", "D": "destroyed", "H": "damaged by the customer or carrier", "K": "damaged",
                "Q": "damaged (miscellaneous)", "U": "damaged (other)"}
_DAMAGED_RETURNS = ("CARRIER_DAMAGED", "DISTRIBUTOR_DAMAGED", "WAREHOUSE_DAMAGED")


def _date(value: Any) -> datetime | None:
    try:
        found = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        try:
            found = datetime.strptime(str(value)[:10], "%m/%d/%Y")
        except ValueError:
            return None
    return found if found.tzinfo is None else found.astimezone(timezone.utc).replace(tzinfo=None)


@register("lost_inventory_unreimbursed")
def lost_inventory_unreimbursed(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """Units Amazon lost or damaged (inventory-ledger adjustments, carrier-damaged returns) that it has not
    reimbursed, in units, within its usual window."""
    opts = ctx.options.lost_inventory_unreimbursed
    ledger = ctx.raw_rows("fba_inventory_ledger")
    reimbursements = ctx.raw_rows("fba_reimbursements")
    con = ctx.facts("returns")
    damaged_returns = con.execute(
        f"SELECT count(*) FROM returns WHERE upper(disposition) IN {_DAMAGED_RETURNS}").fetchone()[0]
    if ledger is None and not damaged_returns:
        raise NotApplicable("this pipeline reads no FBA inventory ledger (fba_inventory_ledger) and no damaged "
                            "returns, so lost or damaged units are unknown")
    if reimbursements is None:
        raise NotApplicable("this pipeline does not read the FBA reimbursements report (fba_reimbursements), so "
                            "what Amazon paid back is unknown")
    con.execute("CREATE OR REPLACE TEMP TABLE lost (sku VARCHAR, order_id VARCHAR, ts TIMESTAMP, units DECIMAL(18,4), "
                "why VARCHAR, ref VARCHAR)")
    con.execute("CREATE OR REPLACE TEMP TABLE paid (sku VARCHAR, order_id VARCHAR, ts TIMESTAMP, "
                "units DECIMAL(18,4), ref VARCHAR)")
    lost = []
    for key, rec in ledger or []:
        reason = str(rec.get("Reason") or "").strip().upper()
        if str(rec.get("EventType") or "") != "Adjustments" or reason not in LOST_REASONS:
            continue
        units = -Decimal(str(rec.get("Quantity") or 0))
        at = _date(rec.get("Date"))
        if units > 0 and at is not None:
            lost.append((rec.get("MSKU"), None, at, units, LOST_REASONS[reason], key))
    for rid, order_id, sku, units, at, disposition in con.execute(
            f"SELECT return_id, order_id, sku, quantity, returned_at, disposition FROM returns "
            f"WHERE upper(disposition) IN {_DAMAGED_RETURNS}").fetchall():
        lost.append((sku, order_id, at, units, f"returned {disposition.lower().replace('_', ' ')}", rid))
    paid = []
    for key, rec in reimbursements:
        at = _date(rec.get("approval-date"))
        units = Decimal(str(rec.get("quantity-reimbursed-total") or 0))
        if at is not None:
            paid.append((rec.get("sku"), rec.get("amazon-order-id") or None, at, units, key))
    if lost:
        con.executemany("INSERT INTO lost VALUES (?, ?, ?, ?, ?, ?)", lost)
    if paid:
        con.executemany("INSERT INTO paid VALUES (?, ?, ?, ?, ?)", paid)
    limit = ctx.now_naive - timedelta(days=opts.window_days)
    # per SKU: units lost before the window closed, against units reimbursed after the first of them
    for sku, lost_units, first, events, paid_units in con.execute("""
            SELECT l.sku, sum(l.units), min(l.ts), list({'why': l.why, 'ref': l.ref, 'order_id': l.order_id,
                                                         'at': CAST(l.ts AS VARCHAR)} ORDER BY l.ts),
                   coalesce((SELECT sum(p.units) FROM paid p
                             WHERE p.sku = l.sku AND p.ts >= min(l.ts) - INTERVAL 1 DAY), 0)
            FROM lost l WHERE l.ts <= ? AND l.sku IS NOT NULL GROUP BY l.sku ORDER BY l.sku""", [limit]).fetchall():
        missing = Decimal(lost_units) - Decimal(paid_units)
        if missing <= 0:
            continue
        yield AnomalyFinding(
            "lost_inventory_unreimbursed", "warning", f"SKU {sku}",
            f"Amazon lost or damaged {_n(lost_units)} unit(s) of {sku} since {first:%Y-%m-%d} "
            f"({', '.join(sorted({e['why'] for e in events}))}) and has reimbursed {_n(paid_units)}: "
            f"{_n(missing)} unit(s) "
            f"are still unpaid more than {opts.window_days:g} days on.",
            [{"source": "fba_inventory_ledger" if e["order_id"] is None else "return", "key": e["ref"],
              "order_id": e["order_id"], "date": e["at"], "reason": e["why"]} for e in events],
            threshold=f"unreimbursed after {opts.window_days:g} days", measured=f"{_n(missing)} unit(s)",
            what_to_do="open a reimbursement case in Seller Central (Help → Fulfilment by Amazon → Lost and damaged "
                       "inventory) naming these dates and units")
