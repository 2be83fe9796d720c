"""The alerts outbox: a small SQLite file beside the console database (`.ledgerlink/alerts.db`, owner-only).

Every event is written here before anything is sent (never lost), under its fingerprint (never queued twice for a
channel); a message groups a channel's queued events (a digest), is claimed by one sender at a time, and is marked
sent in one statement right after the channel accepted it. A crash between the channel accepting and that mark is
the one window where a message can go out twice: after `LEASE_SECONDS` the claim lapses and it is sent again.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .events import AlertEvent, Condition

__all__ = ["AlertOutbox", "QueuedEvent", "Message", "alerts_db_path", "LEASE_SECONDS"]

#: how long a sender may hold a message before another may take it over (longer than any channel's timeout)
LEASE_SECONDS = 600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_events (
    fingerprint TEXT PRIMARY KEY, kind TEXT NOT NULL, pipeline TEXT NOT NULL, key TEXT NOT NULL,
    title TEXT NOT NULL, detail TEXT NOT NULL, path TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS alert_queue (
    fingerprint TEXT NOT NULL, channel TEXT NOT NULL, queued_at REAL NOT NULL, message_id INTEGER,
    PRIMARY KEY (fingerprint, channel));
CREATE INDEX IF NOT EXISTS alert_queue_waiting ON alert_queue (channel, message_id);
CREATE TABLE IF NOT EXISTS alert_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, events INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, next_attempt_at REAL NOT NULL,
    claimed_at REAL, sent_at REAL, last_error TEXT);
CREATE TABLE IF NOT EXISTS alert_conditions (
    fingerprint TEXT PRIMARY KEY, active INTEGER NOT NULL, episode INTEGER NOT NULL, changed_at REAL NOT NULL);
"""


def alerts_db_path(workspace_root: str | Path) -> Path:
    return Path(workspace_root) / ".ledgerlink" / "alerts.db"


@dataclass(frozen=True)
class QueuedEvent:
    event: AlertEvent
    channel: str
    queued_at: float


@dataclass(frozen=True)
class Message:
    id: int
    channel: str
    status: str
    attempts: int
    created_at: float
    next_attempt_at: float
    sent_at: float | None
    last_error: str | None
    events: list[AlertEvent]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "channel": self.channel, "status": self.status, "attempts": self.attempts,
                "created_at": self.created_at, "next_attempt_at": self.next_attempt_at, "sent_at": self.sent_at,
                "last_error": self.last_error, "events": [e.to_dict() for e in self.events]}


_EVENT_COLUMNS = "e.kind, e.pipeline, e.key, e.title, e.detail, e.path, e.at"


def _event(row: tuple[Any, ...]) -> AlertEvent:
    return AlertEvent(*row[:6], at=row[6])


class AlertOutbox:
    """The persistent queue of alert events and messages. Safe across threads (one lock) and processes (SQLite's
    own locking: `serve` and `ledgerlink alerts send-pending` may both run; a claim decides who sends)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))  # owner-only before anything is in it
        os.chmod(self.path, 0o600)
        self.lock = threading.RLock()
        self.con = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=10)
        self.con.execute("PRAGMA busy_timeout = 10000")
        self.con.executescript(_SCHEMA)

    def close(self) -> None:
        with self.lock:
            self.con.close()

    def _tx(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[sqlite3.Cursor]:
        with self.lock:
            self.con.execute("BEGIN IMMEDIATE")
            try:
                out = [self.con.execute(sql, params) for sql, params in statements]
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            self.con.execute("COMMIT")
            return out

    # -- events in -----------------------------------------------------------------------------------------------

    def enqueue(self, event: AlertEvent, channels: list[str], now: float) -> int:
        """Record the event and queue it for each channel it was not queued for yet; how many were new."""
        statements: list[tuple[str, tuple[Any, ...]]] = [(
            "INSERT OR IGNORE INTO alert_events (fingerprint, kind, pipeline, key, title, detail, path, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (event.fingerprint, event.kind, event.pipeline, event.key, event.title, event.detail, event.path,
             event.at or now))]
        statements += [("INSERT OR IGNORE INTO alert_queue (fingerprint, channel, queued_at) VALUES (?, ?, ?)",
                        (event.fingerprint, channel, now)) for channel in dict.fromkeys(channels)]
        return sum(c.rowcount for c in self._tx(statements)[1:])

    def observe(self, condition: Condition, now: float) -> int | None:
        """Record whether a condition holds; its new episode number when it has just turned on, else None."""
        with self.lock:
            self.con.execute("BEGIN IMMEDIATE")
            try:
                row = self.con.execute("SELECT active, episode FROM alert_conditions WHERE fingerprint = ?",
                                       (condition.fingerprint,)).fetchone()
                was_active, episode = (bool(row[0]), int(row[1])) if row else (False, 0)
                started = condition.active and not was_active
                if started:
                    episode += 1
                if row is None or was_active != condition.active:
                    self.con.execute("INSERT INTO alert_conditions (fingerprint, active, episode, changed_at) "
                                     "VALUES (?, ?, ?, ?) ON CONFLICT (fingerprint) DO UPDATE SET active = "
                                     "excluded.active, episode = excluded.episode, changed_at = excluded.changed_at",
                                     (condition.fingerprint, int(condition.active), episode, now))
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            self.con.execute("COMMIT")
        return episode if started else None

    # -- digests -------------------------------------------------------------------------------------------------

    def waiting(self, channel: str | None = None) -> list[QueuedEvent]:
        """Events queued for a channel (or every channel) and not yet in a message, oldest first."""
        sql = (f"SELECT {_EVENT_COLUMNS}, q.channel, q.queued_at FROM alert_queue q JOIN alert_events e "
               "USING (fingerprint) WHERE q.message_id IS NULL" + (" AND q.channel = ?" if channel else "")
               + " ORDER BY q.queued_at, e.at, e.fingerprint")
        with self.lock:
            rows = self.con.execute(sql, (channel,) if channel else ()).fetchall()
        return [QueuedEvent(_event(r), r[7], r[8]) for r in rows]

    def compose(self, channel: str, events: list[AlertEvent], now: float) -> int:
        """One message to `channel` carrying `events` (already queued for it), in one transaction."""
        with self.lock:
            self.con.execute("BEGIN IMMEDIATE")
            try:
                cur = self.con.execute("INSERT INTO alert_messages (channel, events, status, created_at, "
                                       "next_attempt_at) VALUES (?, ?, 'pending', ?, ?)",
                                       (channel, len(events), now, now))
                message_id = int(cur.lastrowid or 0)
                for event in events:
                    self.con.execute("UPDATE alert_queue SET message_id = ? WHERE fingerprint = ? AND channel = ? "
                                     "AND message_id IS NULL", (message_id, event.fingerprint, channel))
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            self.con.execute("COMMIT")
        return message_id

    # -- sending -------------------------------------------------------------------------------------------------

    def due(self, now: float) -> list[Message]:
        """Messages to send now: pending and due, or claimed by a sender that has not finished within the lease."""
        return self._messages("WHERE (status = 'pending' AND next_attempt_at <= ?) OR (status = 'sending' AND "
                              "claimed_at <= ?) ORDER BY id", (now, now - LEASE_SECONDS))

    def claim(self, message_id: int, now: float) -> bool:
        """Take a message to send it; False when another sender has it (or it is no longer due)."""
        with self.lock:
            cur = self.con.execute(
                "UPDATE alert_messages SET status = 'sending', claimed_at = ? WHERE id = ? AND "
                "((status = 'pending' AND next_attempt_at <= ?) OR (status = 'sending' AND claimed_at <= ?))",
                (now, message_id, now, now - LEASE_SECONDS))
        return cur.rowcount == 1

    def mark_sent(self, message_id: int, now: float) -> None:
        with self.lock:
            self.con.execute("UPDATE alert_messages SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
                             "last_error = NULL WHERE id = ? AND status = 'sending'", (now, message_id))

    def mark_failed(self, message_id: int, error: str, retry_at: float | None) -> None:
        """One more failed attempt: try again at `retry_at`, or (None) give up until a person asks again."""
        with self.lock:
            self.con.execute("UPDATE alert_messages SET status = ?, attempts = attempts + 1, last_error = ?, "
                             "next_attempt_at = coalesce(?, next_attempt_at), claimed_at = NULL "
                             "WHERE id = ? AND status = 'sending'",
                             ("failed" if retry_at is None else "pending", error[:2000], retry_at, message_id))

    def retry_failed(self, now: float) -> int:
        """Failed messages go back to pending, due now, with a fresh count of attempts."""
        with self.lock:
            cur = self.con.execute("UPDATE alert_messages SET status = 'pending', attempts = 0, next_attempt_at = ? "
                                   "WHERE status = 'failed'", (now,))
        return cur.rowcount

    # -- reading -------------------------------------------------------------------------------------------------

    def message(self, message_id: int) -> Message | None:
        found = self._messages("WHERE id = ?", (message_id,))
        return found[0] if found else None

    def messages(self, status: str | None = None, limit: int = 100) -> list[Message]:
        where = "WHERE status = ?" if status else ""
        return self._messages(f"{where} ORDER BY id DESC LIMIT ?", ((status,) if status else ()) + (limit,))

    def counts(self) -> dict[str, int]:
        with self.lock:
            rows = self.con.execute("SELECT status, count(*) FROM alert_messages GROUP BY status").fetchall()
            waiting = self.con.execute("SELECT count(*) FROM alert_queue WHERE message_id IS NULL").fetchone()[0]
        out = {"waiting": int(waiting), "pending": 0, "sending": 0, "sent": 0, "failed": 0}
        out.update({status: int(n) for status, n in rows})
        return out

    def _messages(self, tail: str, params: tuple[Any, ...]) -> list[Message]:
        with self.lock:
            rows = self.con.execute("SELECT id, channel, status, attempts, created_at, next_attempt_at, sent_at, "
                                    f"last_error FROM alert_messages {tail}", params).fetchall()
            out = []
            for r in rows:
                events = self.con.execute(f"SELECT {_EVENT_COLUMNS} FROM alert_queue q JOIN alert_events e USING "
                                          "(fingerprint) WHERE q.message_id = ? AND q.channel = ? "
                                          "ORDER BY e.at, e.fingerprint", (r[0], r[1])).fetchall()
                out.append(Message(*r, events=[_event(e) for e in events]))
        return out

