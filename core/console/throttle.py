"""Login throttling: after `limit` failed sign-ins within `window` seconds, for one user name or from one address,
that name or address is locked out for `lockout` seconds (even with the right password), and told how long."""

from __future__ import annotations

from .db import ConsoleDB

__all__ = ["LoginThrottle"]


class LoginThrottle:
    def __init__(self, db: ConsoleDB, *, limit: int = 5, window: float = 900, lockout: float = 900):
        self.db, self.limit, self.window, self.lockout = db, limit, window, lockout

    def locked_for(self, *keys: str) -> float:
        """Seconds until every one of `keys` may try again (0 when none is locked)."""
        now, wait = self.db.now(), 0.0
        for key in keys:
            row = self.db.fetchone("SELECT locked_until FROM login_failures WHERE key = ?", (key,))
            if row and row[0] and row[0] > now:
                wait = max(wait, row[0] - now)
        return wait

    def failed(self, *keys: str) -> None:
        now = self.db.now()
        with self.db.transaction():
            for key in keys:
                row = self.db.fetchone("SELECT failures, first_at FROM login_failures WHERE key = ?", (key,))
                failures, first = (1, now) if row is None or now - row[1] > self.window else (row[0] + 1, row[1])
                locked = now + self.lockout if failures >= self.limit else None
                self.db.execute("INSERT OR REPLACE INTO login_failures VALUES (?, ?, ?, ?)",
                                (key, 0 if locked else failures, now if locked else first, locked))

    def succeeded(self, *keys: str) -> None:
        with self.db.transaction():
            for key in keys:
                self.db.execute("DELETE FROM login_failures WHERE key = ?", (key,))
