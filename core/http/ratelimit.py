"""Token buckets, one per rate-limit key (e.g. `seller/region/getOrders`, `realm 123`, `store abc`)."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable

__all__ = ["TokenBucket", "RateLimiter", "Limit", "MAX_RATE", "MAX_BURST"]

#: the most requests a second (and at once) any bucket allows: beyond it a limit means "unlimited" in practice,
#: and a number like 1e30 (or inf, from a config or a remote's header) would only break the arithmetic
MAX_RATE = 1_000_000.0
MAX_BURST = 1_000_000.0


def _bounded(value: float, upper: float) -> float:
    """`value` within [0, upper]; not a number is 0."""
    value = float(value)
    if math.isnan(value):
        return 0.0
    return min(max(value, 0.0), upper)


@dataclass(frozen=True)
class Limit:
    """A usage plan: `rate` requests per second refilled continuously, up to `burst` at once."""

    rate: float
    burst: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", _bounded(self.rate, MAX_RATE))
        object.__setattr__(self, "burst", _bounded(self.burst, MAX_BURST))


class TokenBucket:
    def __init__(self, limit: Limit, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self._clock = clock
        self._tokens = float(limit.burst)
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.limit.burst, self._tokens + (now - self._stamp) * self.limit.rate)
        self._stamp = now

    def reserve(self) -> float:
        """Take a token; return how long the caller must wait before using it (0 when one was free)."""
        self._refill()
        self._tokens -= 1
        if self._tokens >= 0 or self.limit.rate <= 0:
            return 0.0 if self._tokens >= 0 else float("inf")
        return -self._tokens / self.limit.rate

    def drain(self) -> None:
        """The remote said we are throttled: whatever we thought we had, we have nothing."""
        self._refill()
        self._tokens = min(self._tokens, 0.0)

    def set_limit(self, limit: Limit) -> None:
        self._refill()
        self.limit = limit
        self._tokens = min(self._tokens, limit.burst)


class RateLimiter:
    """Keyed token buckets; unknown keys use `default` (None: unlimited)."""

    def __init__(self, limits: dict[str, Limit] | None = None, default: Limit | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._limits = dict(limits or {})
        self._default = default
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep
        self.waited = 0.0

    def _bucket(self, key: str, operation: str) -> TokenBucket | None:
        bucket = self._buckets.get(key)
        if bucket is None:
            limit = self._limits.get(operation, self._default)
            if limit is None:
                return None
            bucket = self._buckets[key] = TokenBucket(limit, self._clock)
        return bucket

    def limit_for(self, operation: str) -> Limit | None:
        """The usage plan `operation`'s bucket follows (None: unlimited)."""
        return self._limits.get(operation, self._default)

    def acquire(self, key: str, operation: str = "") -> float:
        """Block until a request under `key` may go; returns the seconds waited."""
        with self._lock:
            bucket = self._bucket(key, operation or key)
            wait = bucket.reserve() if bucket else 0.0
        if wait > 0:
            self._sleep(wait)
            self.waited += wait
        return wait

    def update(self, key: str, operation: str, limit: Limit) -> None:
        """Adopt the limit a remote reported (e.g. `x-amzn-RateLimit-Limit`). A rate of 0 (or a header that said
        nan or a negative number) is ignored: it would make every later request wait forever."""
        if limit.rate <= 0:
            return
        with self._lock:
            bucket = self._bucket(key, operation)
            if bucket is None:
                self._buckets[key] = TokenBucket(limit, self._clock)
            elif bucket.limit.rate != limit.rate:
                bucket.set_limit(Limit(limit.rate, bucket.limit.burst if limit.burst <= 0 else limit.burst))

    def throttled(self, key: str, operation: str = "") -> None:
        with self._lock:
            bucket = self._bucket(key, operation or key)
            if bucket:
                bucket.drain()
