"""What each sync attempt did, as the fleet reports it (`fleet status`, the console's fleet page)."""

from __future__ import annotations

from typing import Any

from .database import FleetDatabase

__all__ = ["start_run", "finish_run", "record_wait"]


def start_run(db: FleetDatabase, tenant: str, pipeline: str, worker: str, reason: str, workflow_id: str | None) -> int:
    return int(db.execute("INSERT INTO runs (tenant, pipeline, worker, reason, workflow_id) VALUES (%s, %s, %s, %s, %s) "
                          "RETURNING id", (tenant, pipeline, worker, reason, workflow_id))[0][0])


def finish_run(db: FleetDatabase, run_id: int, status: str, *, posted: int | None = None,
               dead_letters: int | None = None, error: str | None = None,
               timings: tuple[float, float, float] | None = None,
               waiting: list[dict[str, str]] | None = None) -> None:
    """`timings`: (step started, epoch seconds; the sync's own seconds; the fleet's seconds around it).
    `waiting`: the streams a `waiting` sync waits for (`SyncReport.waiting`): what for, and the earliest time to
    look again, as `fleet status` shows them."""
    started, sync_s, overhead_s = timings or (None, None, None)
    what = "; ".join(w["for"] for w in waiting) if waiting else None
    wake_at = min(w["until"] for w in waiting) if waiting else None
    db.execute("UPDATE runs SET finished_at = clock_timestamp(), status = %s, posted = %s, dead_letters = %s, "
               "error = %s, step_started_at = to_timestamp(%s), sync_s = %s, overhead_s = %s, waiting_for = %s, "
               "wake_at = %s::timestamptz WHERE id = %s",
               (status, posted, dead_letters, error, started, sync_s, overhead_s, what, wake_at, run_id))


def record_wait(db: FleetDatabase, run_id: int, waiter: str) -> None:
    """The delayed sync (DBOS workflow id) that looks again for what the run `run_id` waits for."""
    db.execute("UPDATE runs SET waiter = %s WHERE id = %s", (waiter, run_id))


def posted_count(counts: dict[str, Any]) -> int:
    """Documents the write step sent in this run (the sync report's `written`/`posted` counts)."""
    for key in ("created",):
        value = counts.get(key)
        if isinstance(value, int):
            return value
        if isinstance(value, dict):
            return sum(v for v in value.values() if isinstance(v, int))
    return 0
