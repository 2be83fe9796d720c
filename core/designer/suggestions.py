"""Suggestions shown inline in the designer's grids (settlement rows → account roles, channel SKUs → ledger
items), from `ledgerlink.suggest`, over the served pipeline's own state (read through its open store: the state
file has one owner). Accepting one records it where `ledgerlink suggest` keeps what people accepted, so it
teaches the next suggestions at once; rejecting one hides it (kept beside the accepted ones)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..store.raw import table_name
from ..suggest.accepted import AcceptedMappings, accepted_path
from ..suggest.engine import DEFAULT_THRESHOLD, SuggestReport, suggest_from
from ..suggest.model import Suggestion
from ..suggest.staged import Staged, add_ledger_names, add_stream

__all__ = ["staged_from_store", "inline_suggestions", "accept", "reject", "rejected_path", "Rejected"]

#: the kinds the designer's grids show
GRID_KINDS = ("roles", "items")


def staged_from_store(store: Any, *, limit_per_stream: int = 50_000) -> Staged:
    """What `ledgerlink suggest` reads from a state file, read through the pipeline's own open store."""
    staged = Staged()
    for stream in store.raw.streams():
        add_stream(staged, stream, (d for (d,) in store.db.fetchall(
            f"SELECT data FROM {table_name(stream)} LIMIT ?", [limit_per_stream])))
    add_ledger_names(staged, store.db.fetchall("SELECT kind, name FROM refs"))
    return staged


def rejected_path(workspace: str | Path) -> Path:
    return Path(workspace) / ".ledgerlink" / "rejected-suggestions.json"


class Rejected:
    """Suggestion ids a person rejected, per pipeline: they are not offered again."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.ids: dict[str, list[str]] = json.loads(path.read_text()) if path.exists() else {}
        except (ValueError, OSError):
            raise ConfigError("the rejected-suggestions file is damaged", where=str(path),
                              hint="move it aside; it only lists suggestions people turned down") from None

    def of(self, pipeline: str) -> set[str]:
        return set(self.ids.get(pipeline, []))

    def add(self, pipeline: str, suggestion_id: str) -> None:
        ids = self.ids.setdefault(pipeline, [])
        if suggestion_id not in ids:
            ids.append(suggestion_id)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".rejected-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.ids, fh, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)


def inline_suggestions(staged: Staged, options: dict[str, Any], *, pipeline: str, workspace: Path,
                       base_dir: Path) -> SuggestReport:
    """Role and item suggestions for what the pipeline's options do not map yet, less the rejected ones."""
    options = dict(options)
    settlements = dict(options.get("settlements") or {})
    settlements.setdefault("base_dir", str(base_dir))
    options["settlements"] = settlements
    accepted = AcceptedMappings.load(accepted_path(workspace))
    report = suggest_from(staged, options, pipeline=pipeline, accepted=accepted, kinds=GRID_KINDS, limit=3,
                          threshold=DEFAULT_THRESHOLD)
    hidden = Rejected(rejected_path(workspace)).of(pipeline)
    report.suggestions = [s for s in report.suggestions if s.id not in hidden]
    return report


def _find(report: SuggestReport, suggestion_id: str) -> Suggestion:
    found = report.by_id().get(suggestion_id)
    if found is None:
        raise ConfigError(f"no open suggestion {suggestion_id!r} for this pipeline", where="form.suggestion",
                          hint="reload the page: it may have been accepted or rejected already")
    return found


def accept(report: SuggestReport, suggestion_id: str, *, pipeline: str, workspace: Path) -> Suggestion:
    """Record a suggestion as accepted (the next suggestions learn from it); the grid then shows it as the
    row's value, written to the pipeline's files by the next save."""
    chosen = _find(report, suggestion_id)
    accepted = AcceptedMappings.load(accepted_path(workspace))
    accepted.record(pipeline, chosen.kind, chosen.subject, chosen.target,
                    {k: v for k, v in chosen.context.items() if k != "rows"})
    accepted.save()
    return chosen


def reject(report: SuggestReport, suggestion_id: str, *, pipeline: str, workspace: Path) -> Suggestion:
    chosen = _find(report, suggestion_id)
    Rejected(rejected_path(workspace)).add(pipeline, chosen.id)
    return chosen
