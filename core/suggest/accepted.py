"""What this workspace's people accepted: a small JSON file beside the pipeline files
(`.ledgerlink/accepted-suggestions.json`), read by the next suggestions as their nearest neighbours.

Kept out of the pipeline's DuckDB state file on purpose: that file belongs to one process (a running `sync` or
`serve`), and accepting a suggestion must not wait for it."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from ..errors import ConfigError
from .text import plain

__all__ = ["AcceptedMapping", "AcceptedMappings", "accepted_path"]


def accepted_path(workspace: str | Path) -> Path:
    return Path(workspace) / ".ledgerlink" / "accepted-suggestions.json"


@dataclass(frozen=True)
class AcceptedMapping:
    pipeline: str
    kind: str
    subject: str
    target: str
    accepted_at: str
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def day(self) -> str:
        return self.accepted_at[:10]


class AcceptedMappings:
    """The accepted mappings of one workspace (every pipeline in it: a SKU mapped for one store teaches the
    next store's suggestions too; the same pipeline's own choices rank first)."""

    def __init__(self, path: str | Path | None, entries: list[AcceptedMapping] | None = None):
        self.path = Path(path) if path is not None else None
        self.entries = list(entries or [])

    @classmethod
    def load(cls, path: str | Path) -> "AcceptedMappings":
        p = Path(path)
        if not p.exists():
            return cls(p)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            entries = [AcceptedMapping(**{k: e[k] for k in ("pipeline", "kind", "subject", "target", "accepted_at")},
                                       context=dict(e.get("context") or {})) for e in data["accepted"]]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ConfigError(f"the accepted-suggestions file is damaged ({exc})", where=str(p),
                              hint="fix it or move it aside; it only holds what people accepted before") from None
        return cls(p, entries)

    def record(self, pipeline: str, kind: str, subject: str, target: str, context: dict[str, Any] | None = None,
               *, when: datetime | None = None) -> AcceptedMapping:
        """Remember an accepted mapping (a later acceptance of the same subject replaces the earlier one)."""
        stamp = (when or datetime.now(timezone.utc)).isoformat(timespec="seconds")
        entry = AcceptedMapping(pipeline, kind, subject, target, stamp, dict(context or {}))
        self.entries = [e for e in self.entries
                        if not (e.pipeline == pipeline and e.kind == kind and e.subject == subject)]
        self.entries.append(entry)
        return entry

    def save(self) -> None:
        """Write atomically (a temp file renamed over), readable by the owner only like the state file."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"accepted": [asdict(e) for e in self.entries]}, indent=2, ensure_ascii=False)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".accepted-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def of_kind(self, kind: str, pipeline: str | None = None) -> list[AcceptedMapping]:
        rows = [e for e in self.entries if e.kind == kind]
        return sorted(rows, key=lambda e: (e.pipeline != pipeline, e.accepted_at), reverse=False)

    def neighbours(self, kind: str, subject: str, *, pipeline: str | None = None, limit: int = 3,
                   cutoff: float = 85) -> list[tuple[AcceptedMapping, float]]:
        """Accepted mappings whose subject reads like `subject` (rapidfuzz score 0–100, best first)."""
        rows = self.of_kind(kind, pipeline)
        if not rows:
            return []
        choices = [plain(e.subject) for e in rows]
        found = process.extract(plain(subject), choices, scorer=fuzz.token_sort_ratio, limit=limit,
                                score_cutoff=cutoff)
        return [(rows[i], float(score)) for _, score, i in found]
