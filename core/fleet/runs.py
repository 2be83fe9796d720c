"""What each sync attempt did, as the fleet reports it (`fleet status`, the console's fleet page)."""

from __future__ import annotations

from typing import Any

from .database import FleetDatabase

__all__ = ["start_run", "finish_run"]


def start_run(db: FleetDatabase, tenant: str, pipeline: str, worker: str, reason: str, workflow_id: str | None) -> int:
    return int(db.execute("INSERT INTO runs (tenant, pipeline, worker, reason, workflow_id) VALUES (%s, %s, %s, %s, %s) "
                          "RETURNING id", (tenant, pipeline, worker, reason, workflow_id))[0][0])


def finish_run(db: FleetDatabase, run_id: int, status: str, *, posted: int | None = None,
               dead_letters: int | None = None, error: str | None = None,
               timings: tuple[float, float, float] | None = None) -> None:
    """`timings`: (step started, epoch seconds; the sync's own seconds; the fleet's seconds around it)."""
    started, sync_s, overhead_s = timings or (None, None, None)
    db.execute("UPDATE runs SET finished_at = clock_timestamp(), status = %s, posted = %s, dead_letters = %s, "
               "error = %s, step_started_at = to_timestamp(%s), sync_s = %s, overhead_s = %s WHERE id = %s",
               (status, posted, dead_letters, error, started, sync_s, overhead_s, run_id))


def posted_count(counts: dict[str, Any]) -> int:
    """Documents the write step sent in this run (the sync report's `written`/`posted` counts)."""
    for key in ("created",):
        value = counts.get(key)
        if isinstance(value, int):
            return value
        if isinstance(value, dict):
            return sum(v for v in value.values() if isinstance(v, int))
    return 0
