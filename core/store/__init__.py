"""A pipeline's state: staged raw records, source state, outbox, results, dead letters, runs and audit,
in one DuckDB file owned by one process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import jsonutil
from .awaiting import AwaitingWrites
from .database import Database
from .dead_letters import DeadLetter, DeadLetters
from .outbox import Outbox, PlanOutcome
from .raw import RawTables, table_name
from .references import Credentials, References
from .runs import Runs

__all__ = ["Store", "PipelineState", "AwaitingWrites", "DeadLetter", "PlanOutcome", "table_name"]


class Store:
    def __init__(self, path: str | Path, *, memory_limit: str | None = None):
        """`memory_limit`: DuckDB's (e.g. '256MB'; default LEDGERLINK_DUCKDB_MEMORY, else 128MB)."""
        self.path = Path(path)
        self.db = Database(path, memory_limit=memory_limit)
        self.raw = RawTables(self.db)
        self.outbox = Outbox(self.db)
        self.dead_letters = DeadLetters(self.db)
        self.runs = Runs(self.db)
        # one process owns a state file: a run another left 'running' was killed; say so, with what it did
        self.runs.mark_interrupted()
        key_file = None if str(path) == ":memory:" else self.path.with_suffix(".key")
        self.credentials = Credentials(self.db, key_file)

    def awaiting(self, destination: str, on_settled=None) -> AwaitingWrites:
        return AwaitingWrites(self.db, destination, on_settled)

    def references(self, destination: str) -> References:
        return References(self.db, destination)

    # source state ----------------------------------------------------------------------------------
    def source_state(self) -> dict[str, dict[str, Any]]:
        return {s: jsonutil.loads(v) for s, v in self.db.fetchall("SELECT stream, state FROM source_state")}

    def save_source_state(self, stream: str, state: dict[str, Any]) -> None:
        self.db.execute("INSERT OR REPLACE INTO source_state VALUES (?, ?, now())", [stream, jsonutil.dumps(state)])

    # normalise cursors -----------------------------------------------------------------------------
    def normalise_cursor(self, stream: str) -> int:
        row = self.db.fetchone("SELECT seq FROM normalise_cursor WHERE stream = ?", [stream])
        return int(row[0]) if row else 0

    def save_normalise_cursor(self, stream: str, seq: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO normalise_cursor VALUES (?, ?)", [stream, seq])

    # dead letters ------------------------------------------------------------------------------------
    def requeue(self, letter: DeadLetter) -> str:
        """Send a dead letter through again on the next sync, from the stage where it failed; says what happens."""
        with self.db.transaction():
            if letter.stage == "write":
                self.db.execute("UPDATE outbox SET status = 'pending', attempts = 0, updated_at = now() WHERE key = ?",
                                [letter.record_key])
                what = "will be written again on the next sync"
            elif letter.stage == "normalise" and letter.stream and self.raw.touch(letter.stream, letter.record_key):
                what = "will be normalised again on the next sync"
            elif letter.stage == "plan" and isinstance(letter.record, dict) and letter.record.get("source_refs"):
                ref = letter.record["source_refs"][0]
                self.raw.touch(ref["stream"], ref["key"])
                what = "will be planned again on the next sync"
            else:
                what = "cannot be replayed from staging; it is retried when the source sends it again"
            self.dead_letters.set_status(letter.id, "retried")
        return what

    # audit -------------------------------------------------------------------------------------------
    def trace(self, source_stream: str, source_key: str) -> list[dict[str, Any]]:
        """Forward trace: a source row to the planned documents (and lines) and what they became."""
        rows = self.db.fetchall(
            "SELECT a.outbox_key, a.line, o.stream, o.status, r.destination_id, r.version FROM audit a "
            "JOIN outbox o ON o.key = a.outbox_key LEFT JOIN results r ON r.key = a.outbox_key "
            "WHERE a.source_stream = ? AND a.source_key = ? ORDER BY a.outbox_key, a.line", [source_stream, source_key])
        names = ("key", "line", "stream", "status", "destination_id", "version")
        return [dict(zip(names, r)) for r in rows]

    def sources_of(self, outbox_key: str) -> list[dict[str, Any]]:
        """Backward trace: a planned document to the staged rows it came from."""
        rows = self.db.fetchall("SELECT line, source_stream, source_key FROM audit WHERE outbox_key = ? "
                                "ORDER BY line NULLS FIRST", [outbox_key])
        return [dict(zip(("line", "stream", "key"), r)) for r in rows]

    def close(self) -> None:
        self.db.close()


class PipelineState:
    """A pipeline's state file as plugin commands see it (e.g. `ledgerlink qbd status`): its destination
    reference cache and the writes waiting for a remote's confirmation; nothing else of the store's insides."""

    def __init__(self, path: str | Path):
        self._store = Store(path)
        self._owned = True

    @classmethod
    def over(cls, store: Store) -> "PipelineState":
        """The view over a store someone else has open (and closes)."""
        state = cls.__new__(cls)
        state._store, state._owned = store, False
        return state

    def references(self, destination: str) -> References:
        return self._store.references(destination)

    def awaiting(self, destination: str) -> AwaitingWrites:
        return self._store.awaiting(destination)

    def close(self) -> None:
        if self._owned:
            self._store.close()

    def __enter__(self) -> "PipelineState":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
