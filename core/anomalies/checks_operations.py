"""Operational checks an accountant feels at month end: a spike in refunds or cancellations, orders read but not
in the books after a while, a QuickBooks Web Connector that stopped calling, a dead-letter queue that grows.
Computed from the staged orders and refunds (or the settlements' order and refund rows), the outbox and its
audit trail, the reference cache and the dead-letter queue."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterator

from .context import AnomalyContext
from .model import AnomalyFinding, NotApplicable
from .options import SpikeOptions
from .registry import register
from .robust import robust_z

__all__ = ["refund_rate_spike", "cancellation_spike", "unposted_orders", "web_connector_quiet",
           "dead_letter_backlog"]

CANCELLED = "lower(status) IN ('canceled', 'cancelled')"


def _spike(ctx: AnomalyContext, check: str, what: str, events: str, base: str, opts: SpikeOptions,
           ) -> Iterator[AnomalyFinding]:
    """`events` and `base` are SQL queries of (id, at): the rate is events per base item, by period counted back
    from now (period 0 is the latest); the latest is compared with the earlier ones by median and MAD."""
    con = ctx.facts("orders", "refund_lines", "settlement_rows")
    seconds = opts.period_days * 86400
    rows = con.execute(f"""
        WITH b AS (SELECT CAST(floor(epoch(? - ts) / {seconds}) AS BIGINT) AS p, count(DISTINCT id) AS n
                   FROM ({base}) WHERE ts <= ? GROUP BY p),
             e AS (SELECT CAST(floor(epoch(? - ts) / {seconds}) AS BIGINT) AS p, count(DISTINCT id) AS n,
                          list(DISTINCT id ORDER BY id)[:50] AS ids
                   FROM ({events}) WHERE ts <= ? GROUP BY p)
        SELECT b.p, b.n, coalesce(e.n, 0), coalesce(e.ids, []) FROM b LEFT JOIN e ON e.p = b.p ORDER BY b.p""",
                       [ctx.now_naive, ctx.now_naive, ctx.now_naive, ctx.now_naive]).fetchall()
    periods = {p: (Decimal(n_events) / Decimal(n), int(n), int(n_events), ids) for p, n, n_events, ids in rows if n}
    if 0 not in periods:
        raise NotApplicable(f"no {what.split()[0]} base in the latest {opts.period_days} days to judge")
    history = [periods[p][0] for p in periods if p > 0]
    if len(history) < opts.min_periods:
        raise NotApplicable(f"{len(history)} earlier period(s) of {opts.period_days} days with orders; "
                            f"{opts.min_periods} are needed to judge a spike")
    rate, n, count, ids = periods[0]
    history.sort()
    median = _median(history)
    mad = _median(sorted(abs(h - median) for h in history))
    z = robust_z(rate, median, mad)
    if count < opts.min_count or rate - median < Decimal(str(opts.min_change)):
        return
    if z is not None and z <= Decimal(str(opts.threshold)):
        return
    yield AnomalyFinding(
        check, "warning", f"{what} in the week {ctx.now:%G-W%V}",
        f"{count} of {n} orders ({rate:.1%}) had {what} in the last {opts.period_days} days, against a median of "
        f"{median:.1%} over the {len(history)} earlier periods "
        f"({'no earlier variation' if z is None else f'robust z {z:.1f}'}).",
        [{"source": "order", "order_id": i} for i in ids],
        threshold=f"robust z > {opts.threshold}, rise ≥ {opts.min_change:.0%}, at least {opts.min_count}",
        measured=f"{rate:.1%} vs median {median:.1%}",
        what_to_do="look for a common cause in the listed orders (one SKU, a listing error, a carrier, a fraud "
                   "wave) before the refunds reach the books")


def _median(values: list[Decimal]) -> Decimal:
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _orders_base(ctx: AnomalyContext) -> str:
    if ctx.count("orders"):
        return "SELECT order_id AS id, placed_at AS ts FROM orders"
    if ctx.facts("settlement_rows").execute("SELECT count(*) FROM settlement_rows WHERE tt = 'Order'").fetchone()[0]:
        return ("SELECT order_id AS id, min(posted_at) AS ts FROM settlement_rows WHERE tt = 'Order' "
                "AND order_id IS NOT NULL GROUP BY order_id")
    raise NotApplicable("this pipeline has no orders staged (no orders, no settlement order rows)")


@register("refund_rate_spike")
def refund_rate_spike(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """Refunded orders per order placed in the latest period, against the earlier periods."""
    base = _orders_base(ctx)
    if ctx.count("refund_lines"):
        events = "SELECT order_id AS id, min(refunded_at) AS ts FROM refund_lines GROUP BY order_id"
    elif ctx.facts("settlement_rows").execute("SELECT count(*) FROM settlement_rows WHERE tt = 'Refund'").fetchone()[0]:
        events = ("SELECT order_id AS id, min(posted_at) AS ts FROM settlement_rows WHERE tt = 'Refund' "
                  "AND order_id IS NOT NULL GROUP BY order_id")
    else:
        raise NotApplicable("this pipeline has no refunds staged (no refunds, no settlement refund rows)")
    yield from _spike(ctx, "refund_rate_spike", "refunds", events, base, ctx.options.refund_rate_spike)


@register("cancellation_spike")
def cancellation_spike(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """Cancelled orders per order placed in the latest period, against the earlier periods."""
    if not ctx.count("orders"):
        raise NotApplicable("this pipeline has no orders staged; cancellations are read from order statuses")
    yield from _spike(ctx, "cancellation_spike", "cancellations",
                      f"SELECT order_id AS id, placed_at AS ts FROM orders WHERE {CANCELLED}",
                      "SELECT order_id AS id, placed_at AS ts FROM orders", ctx.options.cancellation_spike)


@register("unposted_orders")
def unposted_orders(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """Paid orders read from the channel longer ago than allowed that have no posted document (unpaid and
    cancelled orders are not posted by design)."""
    opts = ctx.options.unposted_orders
    con = ctx.facts("orders")
    if not ctx.count("orders"):
        raise NotApplicable("this pipeline has no orders staged (it reads none, or none yet)")
    streams = sorted({s for (s,) in con.execute("SELECT DISTINCT source_stream FROM orders "
                                                "WHERE source_stream IS NOT NULL").fetchall()})
    marks = ", ".join("?" * len(streams)) or "NULL"
    planned: dict[str, set[str]] = {}
    for key, status in ctx.sql(
            "SELECT a.source_key, o.status FROM audit a JOIN outbox o ON o.key = a.outbox_key "
            f"WHERE a.source_stream IN ({marks})", streams):
        planned.setdefault(key, set()).add(status)
    if not planned:
        raise NotApplicable("this pipeline reads orders but has never planned a document from them (it posts "
                            "something else, e.g. settlements or stock)")
    letters = {key: message for key, message in ctx.sql(
        "SELECT record_key, arg_max(message, id) FROM dead_letters WHERE status = 'open' AND record_key IS NOT NULL "
        "GROUP BY record_key")}
    limit = ctx.now_naive - timedelta(hours=opts.max_age_hours)
    for order_id, key, stream, placed in con.execute(
            f"SELECT order_id, source_key, source_stream, placed_at FROM orders WHERE placed_at <= ? AND paid "
            f"AND NOT ({CANCELLED}) ORDER BY placed_at, order_id", [limit]).fetchall():
        statuses = planned.get(key, set())
        if "done" in statuses:
            continue
        hours = (ctx.now_naive - placed).total_seconds() / 3600
        why = (f"its document is {', '.join(sorted(statuses))}" if statuses else "no document was planned for it")
        letter = letters.get(key) or next((m for k, m in letters.items() if k and key and key in k), None)
        yield AnomalyFinding(
            "unposted_orders", "warning" if hours < 24 * 7 else "critical", f"order {order_id}",
            f"Order {order_id} was placed {hours / 24:.1f} days ago and is not in the books: {why}"
            + (f"; dead letter: {letter}" if letter else "") + ".",
            [{"source": "order", "order_id": order_id, "source_stream": stream, "source_key": key,
              "documents": sorted(k for (k,) in ctx.sql("SELECT DISTINCT outbox_key FROM audit WHERE source_key = ?",
                                                        [key]))}],
            threshold=f"older than {opts.max_age_hours:g} h", measured=f"{hours:.0f} hours",
            what_to_do="see `ledgerlink dlq` and `ledgerlink review` for what holds it; `ledgerlink trace` shows "
                       "the order's path")


    # order records that never became an order (refused when normalised): read, and not in the books either
    for letter_id, stream, key, message, created in ctx.sql(
            "SELECT id, stream, record_key, message, created_at FROM dead_letters WHERE status = 'open' "
            f"AND stage IN ('read', 'normalise') AND stream IN ({marks}) AND created_at <= ? ORDER BY id",
            [*streams, limit]):
        hours = (ctx.now_naive - created).total_seconds() / 3600
        yield AnomalyFinding(
            "unposted_orders", "warning" if hours < 24 * 7 else "critical", f"order record {stream}/{key}",
            f"Order record {key} ({stream}) was read {hours / 24:.1f} days ago and could not be turned into an "
            f"order, so it is not in the books: {message}.",
            [{"source": "dead_letter", "dead_letter_id": letter_id, "source_stream": stream, "source_key": key}],
            threshold=f"older than {opts.max_age_hours:g} h", measured=f"{hours:.0f} hours",
            what_to_do=f"`ledgerlink dlq` explains dead letter {letter_id}; fix the record or the mapping, then retry")


def _parse(value: str) -> datetime | None:
    try:
        found = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return found.astimezone(timezone.utc).replace(tzinfo=None) if found.tzinfo else found


@register("web_connector_quiet")
def web_connector_quiet(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """The QuickBooks Web Connector has not called for longer than allowed (writes wait for it)."""
    opts = ctx.options.web_connector_quiet
    contacts = ctx.sql("SELECT destination, name, ref_id, note FROM refs WHERE kind LIKE '%:contact' ORDER BY 1, 2")
    waiting = ctx.sql("SELECT destination, count(*), min(updated_at) FROM outbox WHERE status = 'awaiting' GROUP BY 1")
    if not contacts and not waiting:
        raise NotApplicable("this pipeline's destination is not reached through a Web Connector (no contact "
                            "recorded, no write waiting to be collected)")
    waits = {d: (int(n), oldest) for d, n, oldest in waiting}
    limit = timedelta(hours=opts.quiet_hours)
    for destination, company, last, event in contacts:
        when = _parse(last)
        if when is None or ctx.now_naive - when <= limit:
            continue
        hours = (ctx.now_naive - when).total_seconds() / 3600
        n = waits.get(destination, (0, None))[0]
        yield AnomalyFinding(
            "web_connector_quiet", "critical" if n else "warning", f"{destination} company file {company}",
            f"The Web Connector for company file {company} last called {hours:.0f} hours ago "
            f"({when:%Y-%m-%d %H:%M} UTC{', ' + event if event else ''}); {n} write(s) wait for it.",
            [{"source": "refs", "destination": destination, "company_file": company, "last_contact": last}],
            threshold=f"quiet > {opts.quiet_hours:g} h", measured=f"{hours:.0f} hours",
            what_to_do="check that the PC with QuickBooks is on, QuickBooks is open on that company file and the "
                       "Web Connector runs with auto-run enabled")
    called = {d for d, *_ in contacts}
    for destination, (n, oldest) in sorted(waits.items()):
        if destination in called or oldest is None or ctx.now_naive - oldest <= limit:
            continue
        hours = (ctx.now_naive - oldest).total_seconds() / 3600
        yield AnomalyFinding(
            "web_connector_quiet", "critical", f"{destination} never called",
            f"{n} write(s) for {destination} have waited {hours:.0f} hours and the Web Connector has never called.",
            [{"source": "outbox", "destination": destination, "waiting": n}],
            threshold=f"quiet > {opts.quiet_hours:g} h", measured=f"{hours:.0f} hours",
            what_to_do="add the .qwc file (`ledgerlink qbd qwc`) to the Web Connector and enter its password")


@register("dead_letter_backlog")
def dead_letter_backlog(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """Open dead letters now against the open ones a window ago: a queue that grows means nobody works it."""
    opts = ctx.options.dead_letter_backlog
    then = ctx.now_naive - timedelta(hours=opts.window_hours)
    now_open = ctx.sql("SELECT count(*) FROM dead_letters WHERE status = 'open'")[0][0]
    then_open = ctx.sql("SELECT count(*) FROM dead_letters WHERE created_at <= ? AND (status = 'open' OR "
                        "updated_at > ?)", [then, then])[0][0]
    growth = int(now_open) - int(then_open)
    if growth < opts.min_growth:
        return
    newest: list[Any] = ctx.sql(
        "SELECT id, stage, stream, record_key, error_kind FROM dead_letters WHERE status = 'open' AND created_at > ? "
        "ORDER BY id DESC LIMIT 50", [then])
    kinds: dict[str, int] = {}
    for *_, kind in newest:
        kinds[kind] = kinds.get(kind, 0) + 1
    yield AnomalyFinding(
        "dead_letter_backlog", "warning" if growth < 5 * opts.min_growth else "critical",
        f"open dead letters, week {ctx.now:%G-W%V}",
        f"The dead-letter queue grew from {then_open} to {now_open} open letters in {opts.window_hours:g} hours "
        f"(most: {', '.join(f'{k} ×{n}' for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:3])}): records "
        "are failing faster than anyone clears them, and they are not in the books.",
        [{"source": "dead_letter", "dead_letter_id": i, "stage": st, "stream": s, "record_key": k}
         for i, st, s, k, _ in newest], threshold=f"growth ≥ {opts.min_growth} in {opts.window_hours:g} h",
        measured=f"+{growth}",
        what_to_do="`ledgerlink dlq PIPELINE` groups them by cause; fix the most common one and retry")
