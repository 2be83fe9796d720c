"""When to retry, and how long to wait: exponential backoff with full jitter, honouring Retry-After."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Mapping

import httpx

__all__ = ["RetryPolicy", "parse_retry_after", "default_classify", "TRANSIENT_STATUSES"]

TRANSIENT_STATUSES = frozenset({408, 425, 500, 502, 503, 504})


def _env(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


@dataclass
class RetryPolicy:
    """How hard to retry one request. Defaults can be tuned per machine with LEDGERLINK_RETRY_MAX_ATTEMPTS,
    LEDGERLINK_RETRY_BASE_DELAY and LEDGERLINK_RETRY_MAX_DELAY (seconds), e.g. shorter in test suites."""

    max_attempts: int = field(default_factory=lambda: int(_env("LEDGERLINK_RETRY_MAX_ATTEMPTS", 6)))
    base_delay: float = field(default_factory=lambda: _env("LEDGERLINK_RETRY_BASE_DELAY", 0.5))
    max_delay: float = field(default_factory=lambda: _env("LEDGERLINK_RETRY_MAX_DELAY", 60.0))
    #: give up once this much time has been spent waiting on one request
    max_total_wait: float = 300.0
    jitter: bool = True

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt `attempt + 1`: the server's Retry-After when it gave one,
        else exponential backoff with "equal jitter" (half fixed, half random) so clients spread out."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_total_wait)
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        if not self.jitter:
            return ceiling
        return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date), or None."""
    value = headers.get("retry-after")
    if value is None and not isinstance(headers, httpx.Headers):  # a plain dict keeps the header's own case
        value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def default_classify(response: httpx.Response) -> str:
    """`ok`, `throttled`, `transient` or `permanent`, from the status alone."""
    if response.status_code < 400:
        return "ok"
    if response.status_code == 429:
        return "throttled"
    if response.status_code in TRANSIENT_STATUSES:
        return "transient"
    return "permanent"
