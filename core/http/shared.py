"""Rate limits that belong to a remote account and hold across processes (a fleet of workers).

A token bucket in one process (`ratelimit.py`) keeps that process within a QuickBooks company's 500 requests a
minute; three workers posting to the same company would each keep within it and together triple it. An
`AccountLimiter` installed here is asked before every request as well, keyed the same way (`rate_key/bucket`),
so the fleet can share one count per account through its database. The core only defines the interface: the
fleet (ledgerlink.fleet) installs a Postgres-backed one in each worker; a plain `sync` installs none.
"""

from __future__ import annotations

from typing import Callable, Protocol

from .ratelimit import Limit

__all__ = ["AccountLimiter", "install_account_limiter", "account_limiter"]


class AccountLimiter(Protocol):
    def acquire(self, account: str, key: str, limit: Limit, in_flight: int | None) -> Callable[[], None]:
        """Block until one more request under `key` (an account's bucket) keeps within `limit` (at most
        `limit.burst` requests in any `limit.burst / limit.rate` seconds) and the `account` has fewer than
        `in_flight` requests under way (None: no such limit); return the function that ends the request (frees
        its in-flight place)."""
        ...


_installed: AccountLimiter | None = None


def install_account_limiter(limiter: AccountLimiter | None) -> None:
    """Make every HttpClient of this process (created before or after) ask `limiter` too; None removes it."""
    global _installed
    _installed = limiter


def account_limiter() -> AccountLimiter | None:
    return _installed
