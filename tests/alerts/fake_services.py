"""A served pipeline as the alert sources read it, built by the test (its last run, open dead letters, the last
reconcile): the engine's logic without a sync. The real workspace is used in test_alerts_serve."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any


@dataclass
class FakeRuns:
    rows: list[dict[str, Any]] = field(default_factory=list)

    def list(self, limit: int) -> list[dict[str, Any]]:
        return list(reversed(self.rows))[:limit]


@dataclass
class FakeDeadLetters:
    open: int = 0

    def count_open(self) -> int:
        return self.open


class FakeService:
    def __init__(self, name: str = "shop"):
        self.pipeline = SimpleNamespace(name=name, destination=SimpleNamespace(connector="fake_dest"))
        self.store = SimpleNamespace(runs=FakeRuns(), dead_letters=FakeDeadLetters())
        self.last_error: str | None = None
        self.last_finished_at: float | None = None
        self.last_reconcile: dict[str, Any] | None = None

    def fail_run(self, run_id: int, error: str) -> None:
        self.store.runs.rows.append({"id": run_id, "status": "failed", "error": error})
        self.last_error = error

    def succeed_run(self, run_id: int) -> None:
        self.store.runs.rows.append({"id": run_id, "status": "succeeded", "error": None})
        self.last_error = None
