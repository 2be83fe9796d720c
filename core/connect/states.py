"""The `state` of a pending connection: random, stored only as a hash, single use, expiring, and bound to the
signed-in session (or API token) that started it. A callback whose state is unknown, used, expired or started
by someone else is refused before anything is exchanged."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from .flows import ConnectRefused

__all__ = ["PendingConnect", "ConnectStates", "STATE_LIFETIME_S"]

#: how long a user has to answer the consent page (the vendors' codes live 5 to 10 minutes after that)
STATE_LIFETIME_S = 15 * 60

_SCHEMA = ("CREATE TABLE IF NOT EXISTS connect_states (state_hash TEXT PRIMARY KEY, binding TEXT NOT NULL, "
           "actor TEXT NOT NULL, pipeline TEXT NOT NULL, role TEXT NOT NULL, redirect_uri TEXT NOT NULL, "
           "created_at REAL NOT NULL, expires_at REAL NOT NULL, used_at REAL)")


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


def binding_of(session_cookie: str | None, actor: str) -> str:
    """What a state is bound to: the session (its cookie's hash) or, for API tokens, the actor."""
    return "session:" + _hash(session_cookie) if session_cookie else "actor:" + actor


@dataclass(frozen=True)
class PendingConnect:
    pipeline: str
    role: str
    actor: str
    redirect_uri: str


class ConnectStates:
    """Pending connections in the console database (`ledgerlink.console.db.ConsoleDB`: `execute`, `fetchone`,
    `transaction`, `now`)."""

    def __init__(self, db: Any, lifetime_s: float = STATE_LIFETIME_S):
        self.db, self.lifetime_s = db, lifetime_s
        self.db.execute(_SCHEMA)

    def issue(self, *, binding: str, actor: str, pipeline: str, role: str, redirect_uri: str) -> str:
        state = secrets.token_urlsafe(32)
        now = self.db.now()
        self.db.execute("DELETE FROM connect_states WHERE expires_at <= ?", (now - 86400,))
        self.db.execute("INSERT INTO connect_states VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                        (_hash(state), binding, actor, pipeline, role, redirect_uri, now, now + self.lifetime_s))
        return state

    def consume(self, state: str | None, binding: str) -> PendingConnect:
        """The pending connection `state` names, used up; ConnectRefused when it cannot be trusted."""
        if not state or len(state) > 200:
            raise ConnectRefused("the callback carries no state", where="query parameter state",
                                 hint="start again from the Connections page (only a connection started there "
                                      "can finish); nothing was stored")
        with self.db.transaction():
            row = self.db.fetchone("SELECT binding, actor, pipeline, role, redirect_uri, expires_at, used_at "
                                   "FROM connect_states WHERE state_hash = ?", (_hash(state),))
            if row is None:
                raise ConnectRefused("the callback's state matches no connection started here (a forged or "
                                     "mistyped callback, or one from another console)", where="query parameter state",
                                     hint="start again from the Connections page; nothing was stored")
            if row[6] is not None:
                raise ConnectRefused("this callback was already used (a replayed or reloaded callback)",
                                     where="query parameter state",
                                     hint="the connection it started has finished or failed; start again from "
                                          "the Connections page if the account is not connected; nothing was "
                                          "stored")
            if not hmac.compare_digest(row[0], binding):
                raise ConnectRefused("this connection was started by another sign-in session",
                                     where="query parameter state",
                                     hint="finish it in the browser that started it, or start again here; "
                                          "nothing was stored")
            if row[5] <= self.db.now():
                raise ConnectRefused(f"the connection was started more than {int(self.lifetime_s // 60)} minutes "
                                     "ago and has expired", where="query parameter state",
                                     hint="start again from the Connections page; nothing was stored")
            # used up before the code is exchanged: a replay is refused even while the first is still running
            self.db.execute("UPDATE connect_states SET used_at = ? WHERE state_hash = ?",
                            (self.db.now(), _hash(state)))
        return PendingConnect(pipeline=row[2], role=row[3], actor=row[1], redirect_uri=row[4])
