"""Fee rates per SKU drifting from their own history: the referral fee as a share of the item price, and the
fulfilment fee per unit (a jump there is usually a size-tier or weight change on the channel's side). Computed
from the settlement rows, one observation per order item."""

from __future__ import annotations

from typing import Iterator

from .context import AnomalyContext
from .model import AnomalyFinding, NotApplicable
from .registry import register
from .robust import Drift, drifts, subjects_with_history

__all__ = ["referral_fee_drift", "fulfilment_fee_drift"]

#: one row per order item in a settlement: its price, units, referral and fulfilment fees, and the rows behind it
ORDER_ITEMS = """
    SELECT settlement_id, order_id, sku, currency, min(posted_at) AS ts,
           sum(amount) FILTER (WHERE amount_type = 'ItemPrice' AND description = 'Principal') AS principal,
           sum(amount) FILTER (WHERE amount_type = 'ItemPrice' AND description IN ('Principal', 'Shipping', 'GiftWrap'))
               AS sales,
           sum(quantity) FILTER (WHERE amount_type = 'ItemPrice' AND description = 'Principal') AS units,
           -sum(amount) FILTER (WHERE description = 'Commission') AS referral,
           -sum(amount) FILTER (WHERE description ILIKE 'FBA%Fulfil%Fee%' OR description ILIKE 'FBAWeightBased%')
               AS fulfilment,
           list(row ORDER BY row) AS rows
    FROM settlement_rows
    WHERE tt = 'Order' AND sku IS NOT NULL AND order_id IS NOT NULL
    GROUP BY settlement_id, order_id, sku, currency"""

_REF = "{'settlement_id': settlement_id, 'order_id': order_id, 'sku': sku, 'rows': rows}"

REFERRAL = f"""
    SELECT sku AS subject, settlement_id AS period, coalesce(ts, TIMESTAMP '1970-01-01') AS ts,
           CAST(referral / sales AS DECIMAL(18,6)) AS value, {_REF} AS ref
    FROM ({ORDER_ITEMS}) WHERE sales > 0 AND referral IS NOT NULL"""

FULFILMENT = f"""
    SELECT sku || ' ' || currency AS subject, settlement_id AS period, coalesce(ts, TIMESTAMP '1970-01-01') AS ts,
           CAST(fulfilment / coalesce(nullif(units, 0), 1) AS DECIMAL(18,6)) AS value, {_REF} AS ref
    FROM ({ORDER_ITEMS}) WHERE fulfilment IS NOT NULL AND fulfilment <> 0"""


def _settlement_rows(ctx: AnomalyContext, what: str, filter_sql: str) -> None:
    con = ctx.facts("settlement_rows")
    if not con.execute("SELECT count(*) FROM settlement_rows").fetchone()[0]:
        raise NotApplicable("this pipeline has no settlements staged; fee rates are read from settlement reports")
    if not con.execute(f"SELECT count(*) FROM ({ORDER_ITEMS}) WHERE {filter_sql}").fetchone()[0]:
        raise NotApplicable(f"the staged settlements carry no {what} on order rows")


def _rows(drift: Drift) -> list[dict]:
    return [{"source": "settlement", "settlement_id": r["settlement_id"], "order_id": r["order_id"], "sku": r["sku"],
             "rows": list(r["rows"])} for r in drift.refs]


def _z(drift: Drift) -> str:
    return "no earlier variation" if drift.z is None else f"robust z {drift.z:.1f}"


@register("referral_fee_drift")
def referral_fee_drift(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """The referral fee charged on a SKU as a share of what the buyer paid (price, shipping, gift wrap),
    against that SKU's own history."""
    opts = ctx.options.referral_fee_drift
    _settlement_rows(ctx, "referral fees (Commission)", "referral IS NOT NULL AND sales > 0")
    con = ctx.facts("settlement_rows")
    if not subjects_with_history(con, REFERRAL, opts.min_history):
        raise NotApplicable(f"no SKU has {opts.min_history} earlier sales with a referral fee to compare with yet")
    for d in drifts(con, REFERRAL, threshold=opts.threshold, min_history=opts.min_history, min_change=opts.min_change):
        up = d.change > 0
        yield AnomalyFinding(
            "referral_fee_drift", "warning" if up else "info", f"SKU {d.subject} in settlement {d.settlement}",
            f"Amazon charged SKU {d.subject} a referral fee of {d.value:.2%} of the sale (price, shipping and "
            f"gift wrap) in settlement "
            f"{d.settlement} ({d.count} sale(s)), against {d.median:.2%} over its {d.history} earlier sales "
            f"({'more' if up else 'less'} than it usually varies: {_z(d)}).",
            _rows(d), threshold=f"robust z > {opts.threshold}, change ≥ {opts.min_change:.2%}",
            measured=f"{d.value:.2%} vs median {d.median:.2%} (MAD {d.mad:.2%})",
            what_to_do="check the SKU's category and price band in Seller Central (a re-categorised product pays "
                       "another rate); if the fee is wrong, open a case with Selling Partner Support")


@register("fulfilment_fee_drift")
def fulfilment_fee_drift(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """The fulfilment fee per unit of a SKU against its own history: a jump is usually a new size tier."""
    opts = ctx.options.fulfilment_fee_drift
    _settlement_rows(ctx, "fulfilment fees (FBA fulfilment fee)", "fulfilment IS NOT NULL AND fulfilment <> 0")
    con = ctx.facts("settlement_rows")
    if not subjects_with_history(con, FULFILMENT, opts.min_history):
        raise NotApplicable(f"no SKU has {opts.min_history} earlier sales with a fulfilment fee to compare with yet")
    for d in drifts(con, FULFILMENT, threshold=opts.threshold, min_history=opts.min_history,
                    min_change=opts.min_change):
        sku, currency = d.subject.rsplit(" ", 1)
        up = d.change > 0
        yield AnomalyFinding(
            "fulfilment_fee_drift", "warning" if up else "info", f"SKU {sku} in settlement {d.settlement}",
            f"The fulfilment fee for SKU {sku} was {d.value:.2f} {currency} per unit in settlement {d.settlement} "
            f"({d.count} sale(s)), against {d.median:.2f} {currency} over its {d.history} earlier sales ({_z(d)}). "
            + ("A step like this usually means Amazon measured the product into another size tier or weight band."
               if up else "The fee fell: a smaller size tier, or a fee change."),
            _rows(d), threshold=f"robust z > {opts.threshold}, change ≥ {opts.min_change} per unit",
            measured=f"{d.value:.2f} vs median {d.median:.2f} {currency} (MAD {d.mad:.2f})",
            what_to_do="compare the product's dimensions and weight with the FBA fee preview report; if Amazon "
                       "measured it wrongly, ask for a re-measurement and a reimbursement of the difference")
