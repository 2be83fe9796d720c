"""SP-API timestamps, shared by every stream family: ISO 8601 in UTC, and how far behind now a read must end."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

__all__ = ["SETTLE_DELAY", "format_time", "parse_time"]

#: Amazon refuses a LastUpdatedBefore (postedBefore, …) later than two minutes before the request
SETTLE_DELAY = timedelta(minutes=2)


def format_time(when: datetime) -> str:
    """ISO 8601 in UTC with seconds, as SP-API prints it (e.g. 2024-05-01T12:00:00Z)."""
    return when.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """An SP-API timestamp (`Z` or an offset; naive means UTC) as an aware datetime."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
