"""Rate limits of a remote account shared by every worker of the fleet, counted in Postgres.

QuickBooks Online allows a company 500 requests a minute and 10 at once, whichever worker sends them. Each
request first takes a place in the account's sliding window (`account_calls`: at most `burst` requests in any
`burst / rate` seconds, which also keeps every minute within the per-minute allowance) and one of its in-flight
slots (`account_slots`, leased for `slot_ttl_s` so a killed worker's slot comes back by itself). An advisory
lock per bucket serialises the window check, so two workers never both take the last place.
"""

from __future__ import annotations

import math
import os
import socket
import time
import uuid
import zlib
from typing import Callable

from ..http.ratelimit import Limit
from .database import FleetDatabase

__all__ = ["PostgresAccountLimiter"]


class PostgresAccountLimiter:
    """An `ledgerlink.http.AccountLimiter` whose counts live in the fleet's Postgres."""

    def __init__(self, db: FleetDatabase, *, holder: str | None = None, slot_ttl_s: float = 120.0,
                 sleep: Callable[[float], None] = time.sleep, max_wait_s: float = 600.0):
        self.db = db
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self.slot_ttl_s, self._sleep, self.max_wait_s = slot_ttl_s, sleep, max_wait_s
        self.waited_s = 0.0

    def acquire(self, account: str, key: str, limit: Limit, in_flight: int | None) -> Callable[[], None]:
        deadline = time.monotonic() + self.max_wait_s
        slot = self._take_slot(account, in_flight, deadline) if in_flight else None
        try:
            self._take_window_place(key, limit, deadline)
        except BaseException:
            if slot is not None:
                self._free_slot(account, slot)
            raise
        return (lambda: self._free_slot(account, slot)) if slot is not None else (lambda: None)

    # -- the sliding window ------------------------------------------------------------------------------------

    def _take_window_place(self, key: str, limit: Limit, deadline: float) -> None:
        if limit.rate <= 0 or limit.burst < 1:
            return
        places = max(1, int(limit.burst))
        window_s = places / limit.rate
        lock = zlib.crc32(key.encode())
        while True:
            with self.db.connect() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (7001, lock - (1 << 31)))
                now = conn.execute("SELECT clock_timestamp()").fetchone()[0]
                conn.execute("DELETE FROM account_calls WHERE key = %s AND at < %s - make_interval(secs => %s)",
                             (key, now, window_s * 2))
                rows = conn.execute(
                    "SELECT at FROM account_calls WHERE key = %s AND at > %s - make_interval(secs => %s) "
                    "ORDER BY at DESC LIMIT %s", (key, now, window_s, places)).fetchall()
                if len(rows) < places:
                    conn.execute("INSERT INTO account_calls (key, at) VALUES (%s, %s)", (key, now))
                    return
                # the oldest of the last `places` calls leaves the window at `wait`
                wait = (rows[-1][0] - now).total_seconds() + window_s
            self._wait(max(wait, 0.001), deadline, key)

    # -- requests at once ---------------------------------------------------------------------------------------

    def _take_slot(self, account: str, in_flight: int, deadline: float) -> int:
        with self.db.connect() as conn:
            conn.execute("INSERT INTO account_slots (account, slot) SELECT %s, g FROM generate_series(0, %s) g "
                         "ON CONFLICT DO NOTHING", (account, in_flight - 1))
        token = f"{self.holder}:{uuid.uuid4().hex[:8]}"
        pause = 0.005
        while True:
            with self.db.connect() as conn, conn.transaction():
                row = conn.execute(
                    "UPDATE account_slots SET holder = %s, expires_at = clock_timestamp() + make_interval(secs => %s) "
                    "WHERE (account, slot) = (SELECT account, slot FROM account_slots WHERE account = %s AND slot < %s "
                    "AND (holder IS NULL OR expires_at < clock_timestamp()) ORDER BY slot LIMIT 1 "
                    "FOR UPDATE SKIP LOCKED) RETURNING slot",
                    (token, self.slot_ttl_s, account, in_flight)).fetchone()
            if row is not None:
                return int(row[0])
            self._wait(pause, deadline, account)
            pause = min(pause * 2, 0.1)

    def _free_slot(self, account: str, slot: int) -> None:
        try:
            self.db.execute("UPDATE account_slots SET holder = NULL, expires_at = NULL WHERE account = %s AND slot = %s",
                            (account, slot))
        except Exception:  # Postgres away: the slot's own expiry gives it back
            pass

    def _wait(self, seconds: float, deadline: float, what: str) -> None:
        if time.monotonic() + seconds > deadline:
            from ..errors import ThrottledError

            raise ThrottledError(f"waited {self.max_wait_s:.0f} s for a place under {what}'s shared rate limit",
                                 operation="rate limit", retry_after=math.ceil(seconds))
        self._sleep(seconds)
        self.waited_s += seconds
