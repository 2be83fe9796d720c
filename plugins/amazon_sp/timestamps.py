"""SP-API timestamps, shared by every stream family: ISO 8601 in UTC, and how far behind now a read must end."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

__all__ = ["SETTLE_DELAY", "format_time", "parse_time"]

#: Amazon refuses a LastUpdatedBefore (postedBefore, …) later than two minutes before the request
SETTLE_DELAY = timedelta(minutes=2)


def format_time(when: datetime) -> str:
    """ISO 8601 in UTC with seconds, as SP-API prints it (e.g. 2024-05-01T12:00:00Z). The year always has four
    digits: `strftime("%Y")` prints year 1 as `1`, which Amazon refuses. A naive time is taken as UTC."""
    utc = (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    return (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z")


def parse_time(text: str) -> datetime:
    """An SP-API timestamp (`Z` or an offset; naive means UTC) as an aware datetime."""
    when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
