"""Signed-in sessions: a random id in an HttpOnly cookie (stored here only as a hash), an absolute expiry, and
the session's CSRF token, which every unsafe request made with the cookie must echo back."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from .db import ConsoleDB

__all__ = ["Session", "Sessions", "DEFAULT_SESSION_SECONDS"]

DEFAULT_SESSION_SECONDS = 8 * 3600


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Session:
    user_name: str
    csrf_token: str
    expires_at: float


class Sessions:
    def __init__(self, db: ConsoleDB, lifetime: float = DEFAULT_SESSION_SECONDS):
        self.db, self.lifetime = db, lifetime

    def start(self, user_name: str) -> tuple[str, Session]:
        """A new session's cookie value and its record."""
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self.db.now()
        self.db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
        self.db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                        (_hash(session_id), user_name, csrf, now, now + self.lifetime))
        return session_id, Session(user_name, csrf, now + self.lifetime)

    def get(self, session_id: str) -> Session | None:
        """The live session for this cookie value; None when unknown or expired."""
        row = self.db.fetchone("SELECT user_name, csrf_token, expires_at FROM sessions WHERE id_hash = ?",
                               (_hash(session_id),))
        if row is None or row[2] <= self.db.now():
            return None
        return Session(*row)

    def end(self, session_id: str) -> None:
        self.db.execute("DELETE FROM sessions WHERE id_hash = ?", (_hash(session_id),))
