"""Tax checks: marketplace-facilitator tax booked as the seller's liability (the marketplace collected and paid
it, so it is not the seller's to owe), and the tax rate charged per region drifting from its own history.
Computed from the settlement rows and the staged orders."""

from __future__ import annotations

from typing import Iterator

from .context import AnomalyContext
from .model import AnomalyFinding, NotApplicable
from .registry import register
from .robust import drifts, subjects_with_history

__all__ = ["facilitator_tax_as_liability", "tax_rate_drift"]

#: per order item: the tax the seller's rows carry and what the marketplace withheld as facilitator tax
TAX_GROUPS = """
    SELECT settlement_id, source_key, order_id, coalesce(sku, '') AS sku, tt, currency,
           coalesce(sum(amount) FILTER (WHERE amount_type = 'ItemPrice'
                                        AND description IN ('Tax', 'ShippingTax', 'GiftWrapTax')), 0) AS seller_tax,
           coalesce(sum(amount) FILTER (WHERE amount_type ILIKE '%WithheldTax%'
                                        OR description ILIKE 'MarketplaceFacilitator%'), 0) AS withheld,
           list(row ORDER BY row) AS rows
    FROM settlement_rows WHERE order_id IS NOT NULL
    GROUP BY settlement_id, source_key, order_id, coalesce(sku, ''), tt, currency"""


@register("facilitator_tax_as_liability")
def facilitator_tax_as_liability(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """Tax the marketplace collected and remitted that the books would carry as the seller's sales tax payable."""
    con = ctx.facts("settlement_rows", "orders", "order_lines")
    withheld_rows = con.execute(f"SELECT count(*) FROM ({TAX_GROUPS}) WHERE withheld <> 0").fetchone()[0]
    marketplace_orders = con.execute("SELECT count(*) FROM orders WHERE tax_collected_by = 'marketplace'").fetchone()[0]
    if not withheld_rows and not marketplace_orders:
        if not ctx.count("settlement_rows") and not ctx.count("orders"):
            raise NotApplicable("this pipeline has neither settlements nor orders staged")
        raise NotApplicable("no marketplace-facilitator tax in the staged settlements or orders (no withheld-tax "
                            "rows, no order whose tax the marketplace collected)")
    # 1. settlement rows: the seller-tax rows of an order item that its withheld rows do not offset stay on the
    #    seller's tax-payable account when the settlement posts
    for sid, key, order_id, sku, tt, currency, seller_tax, withheld, rows in con.execute(
            f"SELECT * FROM ({TAX_GROUPS}) WHERE withheld <> 0 AND seller_tax + withheld <> 0 "
            "ORDER BY settlement_id, order_id, sku").fetchall():
        left = seller_tax + withheld
        yield AnomalyFinding(
            "facilitator_tax_as_liability", "warning", f"order {order_id} SKU {sku or '-'} in settlement {sid}",
            f"In settlement {sid}, order {order_id} ({tt}) carries {seller_tax:.2f} {currency} of tax and Amazon "
            f"withheld {-withheld:.2f} {currency} as marketplace-facilitator tax; they do not offset, so "
            f"{left:.2f} {currency} would be booked as sales tax you owe although the marketplace remitted it.",
            [{"source": "settlement", "settlement_id": sid, "source_key": key, "order_id": order_id, "sku": sku,
              "rows": list(rows)}], threshold="withheld tax not equal to the tax collected",
            measured=f"{left:.2f} {currency} left on tax payable",
            what_to_do="check the role file: the withheld rows should map to marketplace_tax_withheld and the tax "
                       "rows of facilitator states to marketplace_tax; re-post the settlement after fixing it")
    # 2. orders the pipeline posts with the tax as the seller's, while the settlement shows Amazon withheld it
    for order_id, key, stream, tax, currency, sids in con.execute(f"""
            SELECT o.order_id, o.source_key, o.source_stream, sum(l.tax), o.currency, t.sids
            FROM orders o JOIN order_lines l ON l.order_id = o.order_id AND l.source_key = o.source_key
            JOIN (SELECT order_id, list(DISTINCT settlement_id) AS sids FROM ({TAX_GROUPS}) WHERE withheld <> 0
                  GROUP BY order_id) t ON t.order_id = o.order_id
            WHERE o.tax_collected_by = 'seller' GROUP BY ALL HAVING sum(l.tax) <> 0 ORDER BY 1""").fetchall():
        yield AnomalyFinding(
            "facilitator_tax_as_liability", "critical", f"order {order_id}",
            f"Order {order_id} is posted with {tax:.2f} {currency} of tax as sales tax you collected (a liability), "
            f"but settlement {', '.join(sids)} shows the marketplace withheld it as facilitator tax: the tax "
            "payable account is overstated by that much.",
            [{"source": "order", "order_id": order_id, "source_stream": stream, "source_key": key,
              "documents": [k for (k,) in ctx.sql("SELECT DISTINCT outbox_key FROM audit WHERE source_key = ?",
                                                   [key])] if key else []}],
            threshold="seller-collected tax on an order the marketplace withheld tax for",
            measured=f"{tax:.2f} {currency}",
            what_to_do="have the order normaliser mark marketplace-collected tax (tax_collected_by: marketplace), "
                       "then re-post the order; the revision replaces the posted document")


ORDER_RATES = """
    SELECT region AS subject, CAST(floor(epoch(max(placed_at)) / {period}) AS BIGINT) AS period,
           max(placed_at) AS ts, CAST(sum(tax) / sum(amount - discount) AS DECIMAL(18,6)) AS value,
           {{'order_id': order_id, 'source_key': source_key}} AS ref
    FROM order_lines WHERE region IS NOT NULL
    GROUP BY region, order_id, source_key HAVING sum(amount - discount) > 0 AND bool_and(discount = 0)"""


@register("tax_rate_drift")
def tax_rate_drift(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """The tax charged per region (ship-to country/state) as a share of the price, week by week, against that
    region's own history. Orders with a discount are left out: channels differ on whether tax is charged on the
    price before or after it, and either would look like a drift."""
    opts = ctx.options.tax_rate_drift
    con = ctx.facts("order_lines")
    if not ctx.count("order_lines"):
        raise NotApplicable("this pipeline has no orders staged; tax rates are read from orders")
    query = ORDER_RATES.format(period=7 * 86400)
    if not subjects_with_history(con, query, opts.min_history):
        raise NotApplicable(f"no region has {opts.min_history} earlier orders to compare with yet")
    for d in drifts(con, query, threshold=opts.threshold, min_history=opts.min_history, min_change=opts.min_change):
        yield AnomalyFinding(
            "tax_rate_drift", "warning", f"region {d.subject}",
            f"Orders shipped to {d.subject} in the latest week were taxed at {d.value:.2%} of the net price "
            f"({d.count} order(s)), against {d.median:.2%} over its {d.history} earlier orders "
            f"({'no earlier variation' if d.z is None else f'robust z {d.z:.1f}'}).",
            [{"source": "order", **r} for r in d.refs],
            threshold=f"robust z > {opts.threshold}, change ≥ {opts.min_change:.2%}",
            measured=f"{d.value:.2%} vs median {d.median:.2%} (MAD {d.mad:.2%})",
            what_to_do="check the channel's tax settings for the region (a new rate, a lapsed exemption, "
                       "marketplace-facilitator rules) and the tax codes the orders post with")
