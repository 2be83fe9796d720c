"""The dead-letter queue: records that could not be read, normalised, planned or written, with why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import jsonutil
from ..errors import LedgerlinkError
from .database import Database
from .record_text import letter_copy, safe_text

__all__ = ["DeadLetters", "DeadLetter"]


@dataclass
class DeadLetter:
    id: int
    run_id: int | None
    stage: str
    stream: str | None
    record_key: str | None
    error_type: str
    error_kind: str
    message: str
    hint: str | None
    detail: dict[str, Any] | None
    record: Any
    status: str
    created_at: Any
    updated_at: Any

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["created_at"] = str(self.created_at)
        out["updated_at"] = str(self.updated_at)
        return out


#: a message or hint longer than this is cut (an exception's text can hold a whole record)
_MESSAGE_CHARS = 8000


def _where(stage: str, stream: str | None, record_key: str | None) -> dict[str, Any] | None:
    """Where the whole record can still be read when the letter keeps only part of it."""
    if record_key is None:
        return None
    if stage == "normalise" and stream:
        return {"staged": {"stream": stream, "key": record_key}}
    if stage in ("write", "verify"):
        return {"outbox": record_key}
    return None


_COLUMNS = ("id, run_id, stage, stream, record_key, error_type, error_kind, message, hint, detail, record, "
            "status, created_at, updated_at")


class DeadLetters:
    def __init__(self, db: Database):
        self.db = db

    def add(self, *, stage: str, error: LedgerlinkError | Exception, stream: str | None = None,
            record_key: str | None = None, record: Any = None, run_id: int | None = None) -> int:
        """File a dead letter; an open one for the same stage and record is updated rather than repeated.
        Whatever the record holds, the letter can be stored: a large or invalid record is kept as a bounded copy
        that says where the whole of it is (its staged row, its outbox row), so a 100,000-row settlement's
        letter is kilobytes, not the 40 MB that would run the store out of memory."""
        if isinstance(error, LedgerlinkError):
            detail: Any = error.to_dict()
            message, hint, kind = error.message, error.hint, error.kind
        else:
            detail, message, hint, kind = {"type": type(error).__name__}, str(error), None, "error"
        stream = None if stream is None else safe_text(stream, 200)
        record_key = None if record_key is None else safe_text(record_key, 2048)
        message = safe_text(message, _MESSAGE_CHARS)
        hint = None if hint is None else safe_text(hint, _MESSAGE_CHARS)
        detail_json = jsonutil.dumps(letter_copy(detail, limit=_MESSAGE_CHARS * 4))
        record_json = None if record is None else jsonutil.dumps(
            letter_copy(record, where=_where(stage, stream, record_key)))
        # a record without a key is told apart by its content (two keyless records are two letters)
        existing = self.db.fetchone(
            "SELECT id FROM dead_letters WHERE stage = ? AND record_key IS NOT DISTINCT FROM ? AND "
            "stream IS NOT DISTINCT FROM ? AND status = 'open' AND (record_key IS NOT NULL OR "
            "record::VARCHAR IS NOT DISTINCT FROM ?::JSON::VARCHAR) ORDER BY id LIMIT 1",
            [stage, record_key, stream, record_json])
        if existing:
            self.db.execute("UPDATE dead_letters SET run_id = ?, error_type = ?, error_kind = ?, message = ?, hint = ?, "
                            "detail = ?, record = coalesce(?, record), updated_at = now() WHERE id = ?",
                            [run_id, type(error).__name__, kind, message, hint, detail_json, record_json,
                             existing[0]])
            return int(existing[0])
        new_id = self.db.fetchone("SELECT nextval('ll_dead_letter_id')")[0]
        self.db.execute(f"INSERT INTO dead_letters ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', now(), now())",
                        [new_id, run_id, stage, stream, record_key, type(error).__name__, kind, message, hint,
                         detail_json, record_json])
        return int(new_id)

    def _row(self, row: tuple[Any, ...]) -> DeadLetter:
        values = list(row)
        values[9] = jsonutil.loads(values[9]) if values[9] else None
        values[10] = jsonutil.loads(values[10]) if values[10] else None
        return DeadLetter(*values)

    def list(self, status: str | None = "open", stage: str | None = None) -> list[DeadLetter]:
        sql, params = f"SELECT {_COLUMNS} FROM dead_letters WHERE 1=1", []
        if status:
            sql += " AND status = ?"
            params.append(status)
        if stage:
            sql += " AND stage = ?"
            params.append(stage)
        return [self._row(r) for r in self.db.fetchall(sql + " ORDER BY id", params)]

    def get(self, dead_letter_id: int) -> DeadLetter | None:
        row = self.db.fetchone(f"SELECT {_COLUMNS} FROM dead_letters WHERE id = ?", [dead_letter_id])
        return self._row(row) if row else None

    def set_status(self, dead_letter_id: int, status: str) -> None:
        self.db.execute("UPDATE dead_letters SET status = ?, updated_at = now() WHERE id = ?", [status, dead_letter_id])

    def resolve(self, stage: str, record_keys: list[str]) -> None:
        """Records that failed before have now gone through: close their dead letters (one statement)."""
        if not record_keys or not self.db.fetchone(
                "SELECT count(*) FROM dead_letters WHERE stage = ? AND status IN ('open', 'retried')", [stage])[0]:
            return
        self.db.execute("UPDATE dead_letters SET status = 'resolved', updated_at = now() WHERE stage = ? "
                        "AND status IN ('open', 'retried') AND record_key IN (SELECT unnest(?))", [stage, record_keys])

    def count_open(self) -> int:
        return int(self.db.fetchone("SELECT count(*) FROM dead_letters WHERE status = 'open'")[0])
