"""Run history: when each sync ran, what it counted, how long each stage took, how it ended."""

from __future__ import annotations

from typing import Any

from .. import jsonutil
from .database import Database

__all__ = ["Runs"]


class Runs:
    def __init__(self, db: Database):
        self.db = db

    def start(self, pipeline: str, dry_run: bool) -> int:
        run_id = int(self.db.fetchone("SELECT nextval('ll_run_id')")[0])
        self.db.execute("INSERT INTO runs (id, pipeline, started_at, status, dry_run) VALUES (?, ?, now(), 'running', ?)",
                        [run_id, pipeline, dry_run])
        return run_id

    def finish(self, run_id: int, status: str, counts: dict[str, Any], timings: dict[str, float],
               error: str | None = None) -> None:
        self.db.execute("UPDATE runs SET finished_at = now(), status = ?, counts = ?, timings = ?, error = ? WHERE id = ?",
                        [status, jsonutil.dumps(counts), jsonutil.dumps(timings), error, run_id])

    def list(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.db.fetchall("SELECT id, pipeline, started_at, finished_at, status, dry_run, counts, timings, error "
                                "FROM runs ORDER BY id DESC LIMIT ?", [limit])
        names = ("id", "pipeline", "started_at", "finished_at", "status", "dry_run", "counts", "timings", "error")
        out = []
        for row in rows:
            item = dict(zip(names, row))
            item["counts"] = jsonutil.loads(item["counts"]) if item["counts"] else {}
            item["timings"] = jsonutil.loads(item["timings"]) if item["timings"] else {}
            item["started_at"] = str(item["started_at"])
            item["finished_at"] = str(item["finished_at"]) if item["finished_at"] else None
            out.append(item)
        return out
