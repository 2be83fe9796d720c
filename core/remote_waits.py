"""Waiting for a remote that prepares data (an Amazon report): in this run, or saved in the stream's state for a
later run.

A sync says how long a source may wait in process (`wait_in_run`, set by `ledgerlink sync --wait-in-run-seconds`
and by fleet workers); a source that would wait longer saves what it waits for in its STATE, with the reserved
key `waiting` (see `waiting_state`), and ends the stream. The runtime commits that STATE at once and reports the
stream as waiting, with the time to look again; the next run picks the wait up from the state.
"""

from __future__ import annotations

import contextlib
import contextvars
from datetime import datetime, timezone
from typing import Any, Iterator

__all__ = ["WAITING", "wait_in_run_budget", "wait_in_run", "waiting_state", "waiting_of"]

#: the reserved STATE key of a stream that waits for a remote: {"for": "Amazon report 123", "until": ISO time}
WAITING = "waiting"

_budget: contextvars.ContextVar[float | None] = contextvars.ContextVar("ledgerlink_wait_in_run", default=None)


def wait_in_run_budget() -> float | None:
    """Seconds a source may wait in this run for a remote preparing data; None: as long as its own settings allow
    (what `ledgerlink sync` does by default: a seller at a terminal expects the sync to finish)."""
    return _budget.get()


@contextlib.contextmanager
def wait_in_run(seconds: float | None) -> Iterator[None]:
    """Within the block, sources wait at most `seconds` in process (None: no limit of the sync's own)."""
    token = _budget.set(None if seconds is None else max(0.0, float(seconds)))
    try:
        yield
    finally:
        _budget.reset(token)


def waiting_state(what: str, until: datetime) -> dict[str, str]:
    """The `waiting` value of a stream's STATE: what it waits for and the earliest time worth looking again."""
    return {"for": what, "until": until.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")}


def waiting_of(state: Any) -> dict[str, str] | None:
    """The `waiting` value of a stream's STATE blob, if it says it waits (and says it well enough to report)."""
    value = state.get(WAITING) if isinstance(state, dict) else None
    if isinstance(value, dict) and isinstance(value.get("for"), str) and isinstance(value.get("until"), str):
        return {"for": value["for"], "until": value["until"]}
    return None
