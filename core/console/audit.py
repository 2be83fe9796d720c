"""The audit log: who retried, discarded, applied, approved, triggered or changed what, and when. It lives in the
workspace's console.db, never in a pipeline's state file (which belongs to its pipeline)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from .db import ConsoleDB

__all__ = ["AuditLog", "cli_actor"]


def cli_actor() -> str:
    """How the audit log names someone acting from this machine's command line."""
    import getpass

    return f"cli:{getpass.getuser()}"


class AuditLog:
    def __init__(self, db: ConsoleDB):
        self.db = db

    def record(self, actor: str, action: str, *, pipeline: str | None = None, target: str | None = None,
               detail: Any = None) -> None:
        self.db.execute("INSERT INTO audit (at, actor, action, pipeline, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
                        (self.db.now(), actor, action, pipeline, target,
                         None if detail is None else json.dumps(detail, default=str)))

    def list(self, *, limit: int = 100, pipeline: str | None = None, actor: str | None = None) -> list[dict[str, Any]]:
        rows = self.db.fetchall(
            "SELECT id, at, actor, action, pipeline, target, detail FROM audit WHERE (? IS NULL OR pipeline = ?) "
            "AND (? IS NULL OR actor = ?) ORDER BY id DESC LIMIT ?", (pipeline, pipeline, actor, actor, limit))
        return [{"id": i, "at": datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="seconds"),
                 "actor": who, "action": action, "pipeline": p, "target": target,
                 "detail": json.loads(detail) if detail else None}
                for i, at, who, action, p, target, detail in rows]
