"""The review queue's filter as the API reads it: query parameters (list) or body fields (approve, reject), each
checked on its own so a bad one is a 400 naming it (`query parameter min_total`, `body.date_from`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from ..errors import ConfigError
from ..review import ReviewFilter
from .errors import ApiError

__all__ = ["FILTER_FIELDS", "review_filter", "has_filter"]

#: the filter's fields, by the names the API takes (the same as ReviewFilter's)
FILTER_FIELDS = ("kind", "date_from", "date_to", "customer", "min_total", "max_total", "text")
STATUSES = ("awaiting", "approved", "rejected")


def _date(raw: Any, where: str) -> date:
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise ApiError(400, f"{raw!r} is not a day (YYYY-MM-DD)", where=where, hint="e.g. 2026-03-31") from None


def _amount(raw: Any, where: str) -> Decimal:
    if isinstance(raw, (bool, float)):  # a float is already rounded: amounts are sent as strings or whole numbers
        raise ApiError(400, f"{raw!r} must be an amount as a string (e.g. \"12.50\") or a whole number", where=where)
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ApiError(400, f"{raw!r} is not an amount", where=where, hint="e.g. 12.50") from None
    if not amount.is_finite():
        raise ApiError(400, f"{raw!r} is not an amount", where=where, hint="e.g. 12.50")
    return amount


def has_filter(values: Mapping[str, Any]) -> bool:
    return any(values.get(name) not in (None, "") for name in FILTER_FIELDS)


def review_filter(values: Mapping[str, Any], *, where: str, status: Any = "awaiting") -> ReviewFilter:
    """A ReviewFilter from `values` (query params or a JSON body); `where` prefixes the parameter's name."""
    given: dict[str, Any] = {}
    for name in FILTER_FIELDS:
        raw = values.get(name)
        if raw is None or raw == "":
            continue
        at = f"{where}{name}"
        if name in ("date_from", "date_to"):
            given[name] = _date(raw, at)
        elif name in ("min_total", "max_total"):
            given[name] = _amount(raw, at)
        else:
            if not isinstance(raw, str):
                raise ApiError(400, f"must be text, not {type(raw).__name__}", where=at)
            if len(raw) > 500:
                raise ApiError(400, "is longer than 500 characters", where=at)
            given[name] = raw
    if status not in STATUSES:
        raise ApiError(400, f"{status!r} is not one of {', '.join(STATUSES)}", where=f"{where}status")
    try:
        return ReviewFilter(status=status, **given)
    except ConfigError as exc:  # an empty range: say which parameters
        raise ApiError(400, exc.message, where=f"{where}{'date_from' if 'date' in exc.message else 'min_total'}",
                       hint=exc.hint) from None
