"""Web Connector login throttling: a failure budget per user name and per client address.

Each wrong password costs a PBKDF2 computation (a good fraction of a second of CPU). So a name or an address
that keeps failing is refused *before* the password is checked: after `free_failures` failures, each further
attempt must wait twice as long as the last (1 s, 2 s, 4 s … up to `max_delay_s`), and `lockout_failures`
failures within `window_s` lock it out for `lockout_s`, the right password included. A success clears the
name's and the address's failures. Memory is bounded: at most `max_tracked` names and addresses are remembered.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

__all__ = ["ThrottlePolicy", "LoginThrottle"]


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 3
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    lockout_failures: int = 10
    window_s: float = 900.0
    lockout_s: float = 900.0


@dataclass
class _Record:
    failures: deque = field(default_factory=deque)  # clock times of failures within the window
    next_allowed: float = 0.0
    locked_until: float = 0.0
    last_failure_wall: str | None = None
    last_address: str | None = None


class LoginThrottle:
    """Thread-safe. `refusal(user, address)` before checking a password; `failed` / `succeeded` after."""

    def __init__(self, policy: ThrottlePolicy | None = None, *, clock: Callable[[], float],
                 max_tracked: int = 10_000):
        self.policy, self._clock, self.max_tracked = policy or ThrottlePolicy(), clock, max_tracked
        self._records: OrderedDict[tuple[str, str], _Record] = OrderedDict()
        self._lock = threading.Lock()

    def _prune(self, record: _Record, now: float) -> None:
        while record.failures and now - record.failures[0] > self.policy.window_s:
            record.failures.popleft()

    def _get(self, key: tuple[str, str], create: bool) -> _Record | None:
        record = self._records.get(key)
        if record is None and create:
            record = self._records[key] = _Record()
            while len(self._records) > self.max_tracked:
                self._records.popitem(last=False)
        if record is not None:
            self._records.move_to_end(key)
        return record

    @staticmethod
    def _keys(user: str, address: str | None) -> list[tuple[str, str]]:
        return [("user", user[:200])] + ([("address", address)] if address else [])

    def refusal(self, user: str, address: str | None) -> str | None:
        """Why this attempt is refused without checking its password, or None when it may be checked."""
        now = self._clock()
        with self._lock:
            for kind, name in self._keys(user, address):
                record = self._get((kind, name), create=False)
                if record is None:
                    continue
                who = f"user {name!r}" if kind == "user" else f"address {name}"
                if now < record.locked_until:
                    return (f"{who} is locked out after {self.policy.lockout_failures} failed logins; try again in "
                            f"{_minutes(record.locked_until - now)}")
                if now < record.next_allowed:
                    return f"too many failed logins for {who}; try again in {record.next_allowed - now:.0f} s"
        return None

    def failed(self, user: str, address: str | None) -> None:
        now, wall = self._clock(), datetime.now(timezone.utc).isoformat(timespec="seconds")
        p = self.policy
        with self._lock:
            for key in self._keys(user, address):
                record = self._get(key, create=True)
                assert record is not None
                self._prune(record, now)
                record.failures.append(now)
                record.last_failure_wall, record.last_address = wall, address
                n = len(record.failures)
                if n >= p.lockout_failures:
                    record.locked_until = now + p.lockout_s
                    record.failures.clear()
                elif n > p.free_failures:
                    record.next_allowed = now + min(p.max_delay_s, p.base_delay_s * 2 ** (n - p.free_failures - 1))

    def succeeded(self, user: str, address: str | None) -> None:
        with self._lock:
            for key in self._keys(user, address):
                self._records.pop(key, None)

    def user_report(self, user: str) -> dict[str, Any]:
        """What `qbd status` shows for one user: failures in the window, the last one, and a lockout."""
        now = self._clock()
        with self._lock:
            record = self._get(("user", user), create=False) or _Record()
            self._prune(record, now)
            locked = now < record.locked_until
            return {"recent_failures": len(record.failures), "window_minutes": round(self.policy.window_s / 60),
                    "last_failure_at": record.last_failure_wall, "last_failure_from": record.last_address,
                    "locked_until": _wall(record.locked_until - now) if locked else None}

    def restore_user(self, user: str, report: dict[str, Any]) -> None:
        """A lockout recorded before a restart stays in force (so restarting `serve` does not reset an attack)."""
        until = report.get("locked_until")
        if not until:
            return
        try:
            remaining = (datetime.fromisoformat(until) - datetime.now(timezone.utc)).total_seconds()
        except (TypeError, ValueError):
            return
        if remaining > 0:
            with self._lock:
                record = self._get(("user", user), create=True)
                assert record is not None
                record.locked_until = self._clock() + min(remaining, self.policy.lockout_s)
                record.last_failure_wall, record.last_address = report.get("last_failure_at"), report.get(
                    "last_failure_from")

    def summary(self) -> dict[str, Any]:
        """Locked-out names and addresses and failures in the window, for the service's status endpoint."""
        now = self._clock()
        with self._lock:
            locked = [{"who": f"{kind} {name}", "locked_until": _wall(r.locked_until - now)}
                      for (kind, name), r in self._records.items() if now < r.locked_until]
            for r in self._records.values():
                self._prune(r, now)
            recent = sum(len(r.failures) for (kind, _), r in self._records.items() if kind == "user")
        return {"locked_out": locked[:100], "recent_failures": recent,
                "window_minutes": round(self.policy.window_s / 60)}


def _wall(seconds_from_now: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds_from_now)).isoformat(timespec="seconds")


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
