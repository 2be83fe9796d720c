"""Payout checks: a settlement missing from the chain (a gap, or none for too long), two settlements covering the
same days, a settlement held back from posting, a deposit that differs from its settlement, and one payout
counted twice. Computed from the staged settlements, the dead-letter queue and the deposits the pipeline knows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, Iterator

from .context import AnomalyContext
from .model import AnomalyFinding, NotApplicable
from .registry import register

__all__ = ["missing_settlement", "overlapping_settlement", "held_settlement", "deposit_mismatch",
           "payout_counted_twice", "documents_for"]

CHAIN = """
    SELECT coalesce(market, '') AS market, currency, settlement_id, source_key, starts_at, ends_at,
           lag(settlement_id) OVER w AS prev_id, lag(source_key) OVER w AS prev_key, lag(ends_at) OVER w AS prev_end
    FROM (SELECT * FROM settlements QUALIFY row_number() OVER (PARTITION BY settlement_id ORDER BY source_key) = 1)
    WINDOW w AS (PARTITION BY coalesce(market, ''), currency ORDER BY starts_at, settlement_id)"""


def documents_for(ctx: AnomalyContext, source_key: str | None) -> list[str]:
    """The planned documents (outbox keys) a staged row became, for the trail from a finding to the ledger."""
    if not source_key:
        return []
    return [k for (k,) in ctx.sql("SELECT DISTINCT outbox_key FROM audit WHERE source_key = ? ORDER BY 1",
                                  [source_key])]


def _row(ctx: AnomalyContext, settlement_id: str, source_key: str | None, **extra: Any) -> dict[str, Any]:
    return {"source": "settlement", "settlement_id": settlement_id, "source_key": source_key,
            "documents": documents_for(ctx, source_key), **extra}


def _need_settlements(ctx: AnomalyContext) -> None:
    if not ctx.count("settlements"):
        raise NotApplicable("this pipeline has no settlements staged (it reads none, or none yet)")


def _label(market: str, currency: str) -> str:
    return f"{market + ' ' if market else ''}{currency}"


def _consecutive(con: Any) -> list[tuple[Any, ...]]:
    """Each settlement beside the one before it in its marketplace and currency (gaps and overlaps read both)."""
    return con.execute(f"SELECT * EXCLUDE (prev_end), prev_end FROM ({CHAIN}) WHERE prev_end IS NOT NULL "
                       "ORDER BY 1, 2, starts_at").fetchall()


@register("missing_settlement")
def missing_settlement(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """A gap in the chain of settlements of a marketplace and currency, or none since too long."""
    opts = ctx.options.missing_settlement
    _need_settlements(ctx)
    con = ctx.facts("settlements")
    slack = timedelta(hours=opts.slack_hours)
    for market, currency, sid, key, starts, _ends, prev_id, prev_key, prev_end in _consecutive(con):
        if starts - prev_end > slack:
            days = (starts - prev_end).total_seconds() / 86400
            yield AnomalyFinding(
                "missing_settlement", "critical", f"{_label(market, currency)} between {prev_id} and {sid}",
                f"No settlement covers {prev_end:%Y-%m-%d %H:%M} to {starts:%Y-%m-%d %H:%M} ({days:.1f} days) "
                f"for {_label(market, currency)}: settlement {prev_id} ends there and {sid} starts later, so a "
                "payout between them was never read and its sales, fees and deposit are missing from the books.",
                [_row(ctx, prev_id, prev_key), _row(ctx, sid, key)], threshold=f"gap > {opts.slack_hours:g} h",
                measured=f"{days:.1f} days",
                what_to_do="download the missing settlement report (Seller Central → Payments → All statements) "
                           "and add it to the pipeline's settlement files, then sync")
    overdue = timedelta(days=opts.overdue_days)
    for market, currency, sid, key, last_end in con.execute(
            "SELECT coalesce(market, ''), currency, arg_max(settlement_id, ends_at), arg_max(source_key, ends_at), "
            "max(ends_at) FROM settlements GROUP BY ALL ORDER BY 1, 2").fetchall():
        if ctx.now_naive - last_end > overdue:
            days = (ctx.now_naive - last_end).total_seconds() / 86400
            yield AnomalyFinding(
                "missing_settlement", "warning", f"{_label(market, currency)} after {sid}",
                f"The last settlement for {_label(market, currency)} ({sid}) ended {last_end:%Y-%m-%d}, "
                f"{days:.0f} days ago; Amazon settles every 14 days, so at least one settlement has not been read.",
                [_row(ctx, sid, key)], threshold=f"none for {opts.overdue_days:g} days", measured=f"{days:.0f} days",
                what_to_do="check that the settlement reports are still downloaded (credentials, report schedule) "
                           "or that a payout was held by Amazon (Seller Central → Payments)")


@register("overlapping_settlement")
def overlapping_settlement(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """Two settlements of one marketplace and currency covering the same days."""
    opts = ctx.options.overlapping_settlement
    _need_settlements(ctx)
    con = ctx.facts("settlements")
    slack = timedelta(hours=opts.slack_hours)
    for market, currency, sid, key, starts, _ends, prev_id, prev_key, prev_end in _consecutive(con):
        if prev_end - starts > slack:
            hours = (prev_end - starts).total_seconds() / 3600
            yield AnomalyFinding(
                "overlapping_settlement", "critical", f"{_label(market, currency)} {prev_id} and {sid}",
                f"Settlements {prev_id} and {sid} both cover {starts:%Y-%m-%d %H:%M} to {prev_end:%Y-%m-%d %H:%M} "
                f"({hours:.0f} hours) for {_label(market, currency)}: the same sales and fees may be in the books "
                "twice.",
                [_row(ctx, prev_id, prev_key), _row(ctx, sid, key)], threshold=f"overlap > {opts.slack_hours:g} h",
                measured=f"{hours:.0f} hours",
                what_to_do="check whether one of them is a re-issued report of the other; keep one and void the "
                           "other's journal in the ledger")


@register("held_settlement")
def held_settlement(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """A settlement kept from posting (on hold in the dead-letter queue) for longer than allowed."""
    opts = ctx.options.held_settlement
    streams = sorted(s for s in ctx.streams if "settlement" in s)
    if not streams and not ctx.count("settlements"):
        raise NotApplicable("this pipeline reads no settlements")
    limit = ctx.now_naive - timedelta(hours=opts.max_age_hours)
    marks = ", ".join("?" * len(streams)) or "NULL"
    for letter_id, stream, key, message, hint, created in ctx.sql(
            "SELECT id, stream, record_key, message, hint, created_at FROM dead_letters WHERE status = 'open' "
            f"AND (stream IN ({marks}) OR message LIKE 'settlement on hold%') AND created_at <= ? ORDER BY id",
            [*streams, limit]):
        hours = (ctx.now_naive - created).total_seconds() / 3600
        yield AnomalyFinding(
            "held_settlement", "critical", f"settlement {key or letter_id}",
            f"Settlement {key or '?'} has been on hold for {hours:.0f} hours and nothing of it is in the books: "
            f"{message}", [{"source": "dead_letter", "dead_letter_id": letter_id, "stream": stream, "record_key": key}],
            threshold=f"held > {opts.max_age_hours:g} h", measured=f"{hours:.0f} hours",
            what_to_do=(hint or "fix the cause named above") + "; then `ledgerlink dlq retry`")


def _known_deposits(ctx: AnomalyContext) -> dict[str, Decimal]:
    given = dict(ctx.settlement_options.get("deposits") or {})
    given.update(ctx.options.deposit_mismatch.deposits)
    return {str(k): Decimal(str(v)) for k, v in given.items()}


@register("deposit_mismatch")
def deposit_mismatch(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """What reached the bank (or what the settlement's own rows add up to) against the settlement's total."""
    opts = ctx.options.deposit_mismatch
    _need_settlements(ctx)
    con = ctx.facts("settlements")
    converted = bool(ctx.settlement_options.get("convert"))
    deposits = _known_deposits(ctx)
    for sid, key, currency, total, rows_sum, count in con.execute(
            "SELECT settlement_id, source_key, currency, total, rows_sum, row_count FROM settlements "
            "WHERE row_count > 0 AND abs(total - rows_sum) > ? ORDER BY settlement_id", [opts.tolerance]).fetchall():
        yield AnomalyFinding(
            "deposit_mismatch", "critical", f"settlement {sid} rows",
            f"Settlement {sid} says {total:.2f} {currency} is deposited, but its {count} rows add up to "
            f"{rows_sum:.2f} {currency} (difference {total - rows_sum:.2f}): the report is incomplete or damaged.",
            [_row(ctx, sid, key)], threshold=f"difference > {opts.tolerance}", measured=f"{total - rows_sum:.2f}",
            what_to_do="download the settlement report again; if it still differs, ask Amazon for a corrected one")
    if not deposits:
        return
    for sid, key, currency, total in con.execute(
            "SELECT settlement_id, source_key, currency, total FROM settlements ORDER BY settlement_id").fetchall():
        bank = deposits.get(sid)
        if bank is None or converted:  # converted: the bank amount is in the home currency, tied by the posting
            continue
        if abs(bank - total) > opts.tolerance:
            yield AnomalyFinding(
                "deposit_mismatch", "critical", f"settlement {sid} deposit",
                f"The bank received {bank:.2f} {currency} for settlement {sid}, but the settlement's total is "
                f"{total:.2f} {currency} (difference {bank - total:.2f}).",
                [_row(ctx, sid, key, deposit=str(bank))], threshold=f"difference > {opts.tolerance}",
                measured=f"{bank - total:.2f}",
                what_to_do="match the bank line to the settlement in the ledger; a difference is usually a payout "
                           "split across two transfers, a bank fee, or a deposit matched to the wrong settlement")


@register("payout_counted_twice")
def payout_counted_twice(ctx: AnomalyContext) -> Iterator[AnomalyFinding]:
    """One payout staged twice: the same settlement id from two reports, or two ids with the same amount,
    currency and deposit day."""
    opts = ctx.options.payout_counted_twice
    _need_settlements(ctx)
    con = ctx.facts("settlements")
    for sid, keys, origins in con.execute(
            "SELECT settlement_id, list(DISTINCT source_key ORDER BY source_key), list(DISTINCT origin) "
            "FROM settlements "
            "GROUP BY settlement_id HAVING count(*) > 1 ORDER BY 1").fetchall():
        yield AnomalyFinding(
            "payout_counted_twice", "critical", f"settlement {sid}",
            f"Settlement {sid} was read {len(keys)} times, from "
            f"{', '.join(str(o) for o in origins if o) or 'two reports'}:"
            " posted from both, its deposit would be counted twice.",
            [_row(ctx, sid, k) for k in keys], threshold="the same settlement id more than once",
            measured=f"{len(keys)} copies",
            what_to_do="remove the duplicate file from the settlement files (a V1 and a V2 report of the same "
                       "settlement are one payout), then `ledgerlink reconcile`")
    if not opts.same_day_same_amount:
        return
    for currency, total, day, pairs in con.execute(
            "SELECT currency, total, CAST(deposit_at AS DATE), list({'id': settlement_id, 'key': source_key} "
            "ORDER BY settlement_id, source_key) FROM settlements WHERE deposit_at IS NOT NULL "
            "AND total <> 0 GROUP BY ALL HAVING count(DISTINCT settlement_id) > 1 ORDER BY 3, 1").fetchall():
        ids = list(dict.fromkeys(p["id"] for p in pairs))
        yield AnomalyFinding(
            "payout_counted_twice", "warning", f"{currency} {total:.2f} deposited {day} as {', '.join(ids)}",
            f"Settlements {', '.join(ids)} each deposit {total:.2f} {currency} on {day}: two ids for one payout "
            "(a re-issued report) would put the money in the books twice.",
            [_row(ctx, p["id"], p["key"]) for p in pairs],
            threshold="same amount, currency and deposit day under different ids",
            measured=f"{len(ids)} settlements",
            what_to_do="compare the two reports; if they are the same payout, keep one and void the other's journal")
