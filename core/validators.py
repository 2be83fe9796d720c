"""Checks every connector's config needs, shared through the public API so plugins (which may not import each
other) say the same thing about the same mistake."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

__all__ = ["EARLIEST_DATE", "LATEST_DATE", "http_url", "plausible_date"]

#: the range of a plausible date in a config or a file: no channel or ledger predates 1970, and 2100 is a typo
EARLIEST_DATE = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST_DATE = datetime(2100, 1, 1, tzinfo=timezone.utc)


def http_url(value: str, example: str) -> str:
    """An http(s) URL with a host (http://127.0.0.1:… for a sandbox), without a trailing slash. The value is not
    echoed back: a URL may carry a user and password."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise ValueError(f"must be an http:// or https:// URL with a host, e.g. {example}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in text):
        scheme = f" (this one starts with {parts.scheme}:)" if parts.scheme not in ("", "http", "https") else ""
        raise ValueError(f"must be an http:// or https:// URL with a host, e.g. {example}{scheme}")
    return text.rstrip("/")


def plausible_date(value: datetime) -> datetime:
    """`value` (naive means UTC) when it lies in 1970–2099: remote APIs refuse dates they cannot print, and a
    year-1 or year-9999 date is a typo anyway."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    if not EARLIEST_DATE <= aware < LATEST_DATE:
        raise ValueError(f"must be between {EARLIEST_DATE:%Y-%m-%d} and {LATEST_DATE.year - 1}-12-31, "
                         "e.g. 2024-01-01T00:00:00Z")
    return aware
