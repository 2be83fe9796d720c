"""Writes handed to a remote that confirms later (the QuickBooks Web Connector polls us): the queue a
plugin's web app reads, and how it settles each item as done, failed, or to be sent again."""

from __future__ import annotations

from ..connectors import OutboundRecord
from ..errors import LedgerlinkError
from .. import jsonutil
from .database import Database
from .dead_letters import DeadLetters

__all__ = ["AwaitingWrites"]


class AwaitingWrites:
    """One destination's writes that wait for the remote's confirmation."""

    def __init__(self, db: Database, destination: str, on_settled=None):
        self.db, self.destination = db, destination
        self._dead_letters = DeadLetters(db)
        self._on_settled = on_settled

    def list(self, stream: str | None = None, limit: int = 100) -> list[OutboundRecord]:
        """The oldest waiting records (optionally of one object type)."""
        sql = ("SELECT key, stream, data, attempts FROM outbox WHERE destination = ? AND status = 'awaiting'"
               + (" AND stream = ?" if stream else "") + " ORDER BY seq LIMIT ?")
        params = [self.destination] + ([stream] if stream else []) + [limit]
        return [OutboundRecord(key=k, stream=s, data=jsonutil.loads(d), attempts=a)
                for k, s, d, a in self.db.fetchall(sql, params)]

    def confirm(self, key: str, destination_id: str | None, version: str | None = None, created: bool = True) -> None:
        """The remote wrote it: record the result, exactly as a synchronous write would."""
        with self.db.transaction():
            stream = self._stream(key)
            self.db.execute("UPDATE outbox SET status = 'done', updated_at = now() WHERE key = ?", [key])
            self.db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, NULL, now())",
                            [key, self.destination, stream, destination_id, version, created])
            self._dead_letters.resolve("write", [key])
        if self._on_settled:
            self._on_settled()

    def fail(self, key: str, error: LedgerlinkError, *, retry: bool = False) -> None:
        """The remote refused it: a dead letter with its message, or (retry) back to pending for the next sync."""
        with self.db.transaction():
            if retry:
                self.db.execute("UPDATE outbox SET status = 'pending', updated_at = now() WHERE key = ?", [key])
            else:
                row = self.db.fetchone("SELECT stream, data FROM outbox WHERE key = ?", [key])
                self.db.execute("UPDATE outbox SET status = 'dead', updated_at = now() WHERE key = ?", [key])
                self._dead_letters.add(stage="write", stream=row[0] if row else None, record_key=key,
                                       record=jsonutil.loads(row[1]) if row else None, error=error)
        if retry and self._on_settled:
            self._on_settled()  # back in the outbox: the next sync sends it again

    def count(self) -> int:
        return int(self.db.fetchone("SELECT count(*) FROM outbox WHERE destination = ? AND status = 'awaiting'",
                                    [self.destination])[0])

    def _stream(self, key: str) -> str | None:
        row = self.db.fetchone("SELECT stream FROM outbox WHERE key = ?", [key])
        return row[0] if row else None
