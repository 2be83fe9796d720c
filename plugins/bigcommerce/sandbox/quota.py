"""BigCommerce's store quota, as the sandbox counts it (the `X-Rate-Limit-*` headers on every reply)."""

from __future__ import annotations

import threading
import time

__all__ = ["Quota"]


class Quota:
    """BigCommerce's store quota: `quota` requests per window; the window starts at its first request."""

    def __init__(self, quota: int, window_s: float):
        self.quota, self.window_s = quota, window_s
        self.start, self.used = time.monotonic(), 0
        self.lock = threading.Lock()

    def take(self) -> tuple[bool, dict[str, str]]:
        with self.lock:
            now = time.monotonic()
            if now - self.start >= self.window_s:
                self.start, self.used = now, 0
            ok = self.used < self.quota
            if ok:
                self.used += 1
            reset_ms = max(1, int((self.window_s - (now - self.start)) * 1000))
            return ok, {"X-Rate-Limit-Time-Window-Ms": str(max(1, int(self.window_s * 1000))),
                        "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
                        "X-Rate-Limit-Requests-Quota": str(self.quota),
                        "X-Rate-Limit-Requests-Left": str(self.quota - self.used)}
