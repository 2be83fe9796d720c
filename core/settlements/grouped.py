"""A settlement's lines summed by role and month in groups instead of one line at a time.

A 100,000-row report repeats a few dozen (transaction type, amount type, description) combinations over a
few months: the role is looked up once per combination and month, and each (role, month) sum adds its lines'
amounts in report order. The result is exactly what `posting.classify` then `posting.parts_by_line` (the
reference, one line at a time) give: the same parts, the same sums (added in the same order), the same rows in
the same order, the same holds naming the same rows; `tests/perf_settle/` holds the two together.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any, Callable

from ..commerce import Settlement
from ..suggest.hints import role_hint
from .hold import SettlementOnHold
from .journal import row_ranges
from .role_table import RoleTable
from .roles import ORDER_FLOW_ROLES, Role

__all__ = ["grouped_parts"]

_TAX_ROLES = (Role.TAX_COLLECTED, Role.MARKETPLACE_TAX_WITHHELD)


def grouped_parts(settlement: Settlement, table: RoleTable, final: date, split: bool, per_order: bool,
                  new_part: Callable[[str, date], Any], month_end: Callable[[int, int], date]) -> list[Any]:
    """The settlement's parts (one per month it posts in, sorted), as the reference builds them; `new_part`
    makes an empty part (period, txn date), `month_end` a month's last day."""
    lines = settlement.lines
    # one pass over the lines: their indices by (transaction type, amount type, description, month)
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, line in enumerate(lines):
        at = line.amount_type or line.amount_column  # V1: the column says it
        posted = line.posted_at
        groups[(line.transaction_type, at, line.amount_description,
                None if posted is None else (posted.year, posted.month))].append(i)

    roles: dict[tuple[Any, ...], Role | None] = {}
    unknown: dict[tuple[str, str, str], list[int]] = {}
    for key, members in groups.items():
        tt, at, desc, _ = key
        role = roles[key] = table.role_of(tt, at, desc)
        if role is None:
            unknown.setdefault((tt or "", at or "", desc or ""), []).extend(members)
    if unknown:
        # as the reference lists them: each combination in the order it first appears, its rows in report order
        ordered = sorted(unknown.items(), key=lambda kv: min(kv[1]))
        held = {combo: [lines[i].row for i in sorted(members)] for combo, members in ordered}
        reasons = [f"no role for transaction-type {tt!r}, amount-type {at!r}, amount-description {desc!r} "
                   f"(rows {row_ranges(rows)})" for (tt, at, desc), rows in held.items()]
        raise SettlementOnHold(settlement.natural_key, reasons, field="lines",
                               hint="add a rule for it to your role file (destination.options.settlements.roles) "
                                    "naming the role it is; see ledgerlink/settlements/default_roles.yaml."
                                    + role_hint(held))

    moved = _facilitator_tax(lines, {m: roles[key] for key, members in groups.items() if roles[key] in _TAX_ROLES
                                     for m in members})

    final_period = f"{final.year:04d}-{final.month:02d}"
    periods: dict[tuple[int, int], str] = {}
    buckets: dict[tuple[str, Role], list[int]] = defaultdict(list)
    for key, members in groups.items():
        role = roles[key]
        assert role is not None
        month = key[3]
        period = final_period
        if split and month is not None:
            period = periods.get(month) or periods.setdefault(month, min(f"{month[0]:04d}-{month[1]:02d}",
                                                                         final_period))
        effective = Role.CLEARING if per_order and role in ORDER_FLOW_ROLES else role
        if moved and role == Role.TAX_COLLECTED:
            stays = [i for i in members if i not in moved]
            goes = [i for i in members if i in moved]
            if goes:
                buckets[(period, Role.MARKETPLACE_TAX)].extend(goes)
            if stays:
                buckets[(period, effective)].extend(stays)
            continue
        buckets[(period, effective)].extend(members)

    # each part's roles in the order their first line appears, each sum added in report order
    parts: dict[str, Any] = {}
    for (period, role), members in sorted(buckets.items(), key=lambda kv: min(kv[1])):
        members.sort()
        part = parts.get(period)
        if part is None:
            year, month = int(period[:4]), int(period[5:])
            part = parts[period] = new_part(period, final if period == final_period else month_end(year, month))
        part.sums[role] = sum([lines[i].amount.amount for i in members], Decimal(0))
        part.rows[role] = [lines[i].row for i in members]
    # the reference creates parts in the order their first line appears; only the sorted list is returned
    if final_period not in parts:
        parts[final_period] = new_part(final_period, final)
    return [parts[p] for p in sorted(parts)]


def _facilitator_tax(lines: list[Any], candidates: dict[int, Role | None]) -> set[int]:
    """The seller-tax lines that are marketplace-facilitator tax (see `posting._facilitator_tax`): within one
    order item's tax rows, collected rows that the withheld rows exactly offset. `candidates`: the lines whose
    role is seller tax collected or facilitator tax withheld, with that role."""
    found: set[int] = set()
    if not candidates:
        return found
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for i in sorted(candidates):
        line = lines[i]
        if line.order_id:
            groups[(line.order_id, line.transaction_type, line.sku or "")].append(i)
    for members in groups.values():
        collected = [i for i in members if candidates[i] == Role.TAX_COLLECTED]
        if not collected or len(collected) == len(members):  # only collected rows, or only withheld rows
            continue
        if sum((lines[i].amount.amount for i in members), Decimal(0)) == 0:
            found.update(collected)
    return found
