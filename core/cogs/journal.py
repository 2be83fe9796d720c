"""A settlement's cost-of-goods journals: the units it moved, costed, between inventory asset and cost of goods.

One journal per settlement (or per month its rows span, `per: month`), keyed `JournalEntry:<settlement>/cogs`
(`/cogs/<yyyy-mm>`), so it posts exactly once and a change (a new cost, a corrected row) is a revision like
any journal's. Each line is one kind of movement of one SKU and names its units, unit cost, how it was costed
and the settlement rows it sums:

    sold               Dr cost_of_goods      Cr inventory_asset
    refunded (restock) Dr inventory_asset    Cr cost_of_goods
    lost/damaged/disposed  Dr inventory_loss Cr inventory_asset

Inventory sellers (`inventory: quickbooks`) get only the lost, damaged and disposed lines: QuickBooks books the
cost of what it sold and took back itself.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from ..commerce import Settlement
from ..connectors import idempotency_key
from ..money import quantize
from ..posting.run_cache import once_per_run
from ..settlements.accounts import AccountMap
from ..settlements.journal import Journal, JournalLine, row_ranges
from ..settlements.roles import Role
from .costs import CostBook, load_costs_file
from .history import history_for
from .hold import CostsOnHold
from .movements import ADJUSTMENT_KINDS, KINDS, settlement_movements
from .options import CogsOptions, parse_cogs_options
from .valuation import Valued, missing_costs, value_movements

__all__ = ["build_cogs_journals", "plan_cogs", "cost_book", "COGS_MARK"]

#: what a COGS journal's key adds to its settlement's natural key
COGS_MARK = "/cogs"
_SIDES: dict[str, tuple[Role, Role]] = {  # kind → (debited, credited)
    "sold": (Role.COST_OF_GOODS, Role.INVENTORY_ASSET),
    "refunded": (Role.INVENTORY_ASSET, Role.COST_OF_GOODS),
    "lost": (Role.INVENTORY_LOSS, Role.INVENTORY_ASSET),
    "damaged": (Role.INVENTORY_LOSS, Role.INVENTORY_ASSET),
    "disposed": (Role.INVENTORY_LOSS, Role.INVENTORY_ASSET),
}
_WORDS = {"sold": "sold", "refunded": "refunded and restocked", "lost": "lost", "damaged": "damaged",
          "disposed": "disposed"}


def cost_book(options: CogsOptions) -> CostBook:
    """The options' costs: the costs file first, then inline `unit_costs` for SKUs the file does not name."""
    from .costs import CostEntry

    inline = CostBook.of(CostEntry(sku=sku, unit_cost=cost, origin="destination.options.cogs.unit_costs")
                         for sku, cost in options.unit_costs.items())
    path = options.costs_path()
    return load_costs_file(path).merged(inline) if path is not None else inline


def _month_end(d: date) -> date:
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def _fmt(value: Decimal) -> str:
    text = format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def build_cogs_journals(settlement: Settlement, *, options: CogsOptions, book: CostBook, accounts: AccountMap,
                        final_date: date, currency: str, history: object = None,
                        mode: str = "summary") -> list[Journal]:
    """The COGS journals of `settlement`, or CostsOnHold naming every SKU without a cost (never a zero)."""
    key = settlement.natural_key
    movements, problems = settlement_movements(settlement, restock_refunds=options.restock_refunds)
    if options.inventory == "quickbooks":
        movements = [m for m in movements if m.kind in ADJUSTMENT_KINDS]
    others = history.others(key) if history is not None else []  # type: ignore[attr-defined]
    everything = sorted([(m.on, k, i, m) for k, i, m in others] + [(m.on, key, i, m) for i, m in enumerate(movements)],
                        key=lambda t: (t[0], t[1], t[2]))
    valued, unvalued = value_movements([t[3] for t in everything], book, options.method)
    mine = {id(m) for m in movements}
    valued = [v for v in valued if id(v.movement) in mine]
    missing = missing_costs((m, r) for m, r in unvalued if id(m) in mine)
    if missing or problems:
        raise CostsOnHold(key, missing, problems, costs_file=options.costs)
    if history is not None:
        history.record(key, movements)  # type: ignore[attr-defined]
    if not valued:
        return []
    unmapped = accounts.missing({_SIDES[v.movement.kind][i] for v in valued for i in (0, 1)})
    if unmapped:
        accounts.account(unmapped[0])  # raises the ConfigError naming the role and the account map

    final_period = f"{final_date.year:04d}-{final_date.month:02d}"
    parts: dict[str, list[Valued]] = defaultdict(list)
    for v in valued:
        period = f"{v.movement.on.year:04d}-{v.movement.on.month:02d}" if options.per == "month" else final_period
        parts[min(period, final_period)].append(v)
    periods = sorted(parts)
    sid = settlement.settlement_id
    keys = [idempotency_key("JournalEntry", f"{key}{COGS_MARK}" if options.per == "settlement"
                            else f"{key}{COGS_MARK}/{p}") for p in periods]
    journals = []
    for n, period in enumerate(periods):
        lines = _lines(parts[period], accounts, sid, currency)
        if not lines:
            continue
        when = final_date if period == final_period else _month_end(date(int(period[:4]), int(period[5:]), 1))
        units = sum((abs(v.movement.quantity) for v in parts[period]), Decimal(0))
        memo = (f"Cost of goods - settlement {sid} ({settlement.starts_at.date()} to {settlement.ends_at.date()})"
                + (f", {period}" if options.per == "month" else "")
                + f": {_fmt(units)} units costed by {options.method.replace('_', ' ')}"
                + (" (QuickBooks tracks the items: adjustments only)" if options.inventory == "quickbooks" else ""))
        journals.append(Journal(key=keys[n], settlement_id=sid, natural_key=key, mode=mode,  # type: ignore[arg-type]
                                txn_date=when, currency=currency, part=n + 1, parts=len(periods), period=period,
                                links=[k for k in keys if k != keys[n]], memo=memo, lines=lines))
    return journals


def _lines(valued: list[Valued], accounts: AccountMap, sid: str, currency: str) -> list[JournalLine]:
    groups: dict[tuple[str, str], list[Valued]] = defaultdict(list)
    for v in valued:
        groups[(v.movement.kind, v.movement.sku)].append(v)
    out: list[JournalLine] = []
    for (kind, sku) in sorted(groups, key=lambda g: (KINDS.index(g[0]), g[1])):
        members = groups[(kind, sku)]
        amount = quantize(sum((v.amount for v in members), Decimal(0)), currency)
        if amount == 0:
            continue
        units = sum((abs(v.movement.quantity) for v in members), Decimal(0))
        rows = sorted(int(v.movement.ref) for v in members if v.movement.ref.isdigit())
        bases = sorted({v.basis for v in members})
        unit = quantize(amount / units, currency) if units else Decimal(0)
        text = (f"Cost of goods {_WORDS[kind]}: {_fmt(units)} x {sku} @ {unit} ({'; '.join(bases)}) - settlement "
                f"{sid}" + (f" rows {row_ranges(rows)}" if rows else ""))[:4000]
        debit, credit = _SIDES[kind]
        out.append(JournalLine(role=debit, account=accounts.account(debit), amount=amount, rows=rows,
                               settlement_id=sid, description=text))
        out.append(JournalLine(role=credit, account=accounts.account(credit), amount=-amount, rows=rows,
                               settlement_id=sid, description=text))
    return out


def plan_cogs(settlement: Settlement, ctx: object) -> list[Journal]:
    """`build_cogs_journals` with a destination's PlanContext: the options, cost book and account map are read
    once per run (in `ctx.cache`); nothing when `destination.options.cogs.enabled` is false."""
    from ..settlements.options import parse_settlement_options

    def read() -> tuple[Any, Any, CostBook, AccountMap]:
        raw = getattr(ctx, "options", None)
        options = parse_cogs_options(raw)
        settlement_options = parse_settlement_options(raw)
        book = cost_book(options) if options.enabled else CostBook()
        return options, settlement_options, book, settlement_options.account_map()

    options, settlement_options, book, accounts = once_per_run(ctx, "cogs:options", read)
    if not options.enabled or not settlement.lines:
        return []
    when = settlement.deposit_at if settlement_options.date == "deposit" and settlement.deposit_at \
        else settlement.ends_at
    currency = (settlement_options.home_currency or settlement.total.currency).upper()
    return build_cogs_journals(settlement, options=options, book=book, accounts=accounts, final_date=when.date(),
                               currency=currency, history=history_for(ctx), mode=settlement_options.mode)
