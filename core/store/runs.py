"""Run history: when each sync ran, what it counted, how long each stage took, how it ended — including runs
killed mid-way, which the next process to open the state finds and marks interrupted."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from .. import jsonutil
from .database import Database

__all__ = ["Runs"]

#: runs this process is running, by state file: a second Store on the same file in the same process (a test, a
#: status command inside `serve`) must not take them for runs that were killed
_ACTIVE: set[tuple[str, int]] = set()
_ACTIVE_LOCK = threading.Lock()


def _now() -> datetime:
    """UTC wall time, from Python: DuckDB's now() is the start of the open transaction, so a run inside one
    would seem to take no time at all."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Runs:
    def __init__(self, db: Database):
        self.db = db
        self._file = str(db.path.resolve()) if str(db.path) != ":memory:" else f":memory:{id(db)}"

    def start(self, pipeline: str, dry_run: bool) -> int:
        run_id = int(self.db.fetchone("SELECT nextval('ll_run_id')")[0])
        self.db.execute("INSERT INTO runs (id, pipeline, started_at, status, dry_run) VALUES (?, ?, ?, 'running', ?)",
                        [run_id, pipeline, _now(), dry_run])
        with _ACTIVE_LOCK:
            _ACTIVE.add((self._file, run_id))
        return run_id

    def finish(self, run_id: int, status: str, counts: dict[str, Any], timings: dict[str, float],
               error: str | None = None) -> None:
        try:
            self.db.execute("UPDATE runs SET finished_at = ?, status = ?, counts = ?, timings = ?, error = ? WHERE id = ?",
                            [_now(), status, jsonutil.dumps(counts), jsonutil.dumps(timings), error, run_id])
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE.discard((self._file, run_id))

    def mark_interrupted(self) -> list[int]:
        """Runs still 'running' that no process runs any more (killed, or the machine stopped): one process owns
        a state file at a time, so a run left running by another is over. Each is marked 'interrupted', finished
        now, with what it had committed by then (records staged, documents planned and written, dead letters)."""
        with _ACTIVE_LOCK:
            mine = {run for file, run in _ACTIVE if file == self._file}
        stale = [int(r[0]) for r in self.db.fetchall("SELECT id FROM runs WHERE status = 'running' ORDER BY id")
                 if int(r[0]) not in mine]
        for run_id in stale:
            counts = self._done_by(run_id)
            self.db.execute(
                "UPDATE runs SET finished_at = ?, status = 'interrupted', counts = ?, error = coalesce(error, ?) "
                "WHERE id = ? AND status = 'running'",
                [_now(), jsonutil.dumps(counts), "the run stopped before it finished (killed, or the machine "
                                                 "stopped); what it had committed is kept, and the next sync "
                                                 "goes on from there", run_id])
        return stale

    def _done_by(self, run_id: int) -> dict[str, Any]:
        """What a run had committed, counted from the state itself (its own counts are only written at the end)."""
        read: dict[str, int] = {}
        for (table,) in self.db.fetchall("SELECT table_name FROM information_schema.tables "
                                         "WHERE table_name LIKE 'raw_%' ORDER BY table_name"):
            n = int(self.db.fetchone(f'SELECT count(*) FROM "{table}" WHERE run_id = ?', [run_id])[0])
            if n:
                read[table[4:]] = n
        planned = int(self.db.fetchone("SELECT count(*) FROM outbox WHERE planned_run = ?", [run_id])[0])
        created: dict[str, int] = {}
        existing: dict[str, int] = {}
        for stream, was_created, n in self.db.fetchall(
                "SELECT stream, created, count(*) FROM results WHERE run_id = ? GROUP BY ALL ORDER BY ALL", [run_id]):
            (created if was_created else existing)[stream] = int(n)
        dead = int(self.db.fetchone("SELECT count(*) FROM dead_letters WHERE run_id = ? AND status = 'open'",
                                    [run_id])[0])
        return {"interrupted": True, "read": read, "read_total": sum(read.values()), "planned_new": planned,
                "created": created, "already_there": existing, "dead_letters_open": dead}

    def list(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.db.fetchall("SELECT id, pipeline, started_at, finished_at, status, dry_run, counts, timings, error "
                                "FROM runs ORDER BY id DESC LIMIT ?", [limit])
        names = ("id", "pipeline", "started_at", "finished_at", "status", "dry_run", "counts", "timings", "error")
        out = []
        now = _now()
        for row in rows:
            item = dict(zip(names, row))
            item["counts"] = jsonutil.loads(item["counts"]) if item["counts"] else {}
            # seconds as numbers (JSON read back gives Decimals, which summed as 0.0 in `ledgerlink runs`)
            item["timings"] = {k: float(v) if isinstance(v, (int, float, Decimal)) else v
                               for k, v in (jsonutil.loads(item["timings"]) if item["timings"] else {}).items()}
            started, finished = item["started_at"], item["finished_at"]
            # wall time: started → finished (or → found interrupted; → now while it runs)
            item["seconds"] = round(max(0.0, ((finished or now) - started).total_seconds()), 3) if started else None
            item["started_at"] = str(started)
            item["finished_at"] = str(finished) if finished else None
            out.append(item)
        return out
