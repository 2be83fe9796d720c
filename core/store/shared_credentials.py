"""A credentials file shared by the pipelines that use one account: two stores posting into one QuickBooks
company hold one OAuth connection, whose refresh token Intuit rotates on use. Kept in each pipeline's own state,
the token one pipeline received would be the one that locks the other out; kept here, every pipeline uses the
newest. SQLite, not DuckDB: several processes (two `sync`s, a `serve`) read and write it, one short transaction
at a time, where DuckDB would let only one of them open it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from ..errors import ConfigError
from ..secrets import register_secret
from .references import Credentials

__all__ = ["SharedCredentials", "share_credentials"]


class SharedCredentials:
    """`save`/`load` as a state file's `Credentials`, in a file of their own (names say whose: `qbo:{realm}:…`).
    A name not there yet is read from `fallback` (the pipeline's own state, where earlier runs kept it)."""

    def __init__(self, path: str | Path, fallback: Credentials | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fernet = Fernet(Credentials._key(self.path.with_suffix(".key")))
        self.fallback = fallback
        self._run("CREATE TABLE IF NOT EXISTS credentials (name TEXT PRIMARY KEY, value_encrypted TEXT NOT NULL, "
                  "updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)")

    def _run(self, sql: str, params: tuple[str, ...] = ()) -> tuple[str, ...] | None:
        """One statement in its own transaction and connection: nothing stays open between runs' calls."""
        con = sqlite3.connect(self.path, timeout=30)
        try:
            with con:
                return con.execute(sql, params).fetchone()
        finally:
            con.close()

    def save(self, name: str, value: str) -> None:
        register_secret(value)
        token = self._fernet.encrypt(value.encode()).decode()
        self._run("INSERT OR REPLACE INTO credentials (name, value_encrypted) VALUES (?, ?)", (name, token))

    def load(self, name: str) -> str | None:
        row = self._run("SELECT value_encrypted FROM credentials WHERE name = ?", (name,))
        if not row:
            return self.fallback.load(name) if self.fallback is not None else None
        try:
            value = self._fernet.decrypt(row[0].encode()).decode()
        except InvalidToken:
            raise ConfigError(f"shared credential {name!r} in {self.path} cannot be decrypted with this key",
                              hint="set LEDGERLINK_SECRET_KEY to the key it was stored with (or keep the .key file "
                                   "beside it), or delete the credential and re-authorise") from None
        register_secret(value)
        return value


def share_credentials(store: object, path: Path | None) -> None:
    """Point a state's credentials at the shared file `path` (once; None: the state keeps its own)."""
    current = getattr(store, "credentials")
    if path is None or (isinstance(current, SharedCredentials) and current.path == path):
        return
    own = current.fallback if isinstance(current, SharedCredentials) else current
    setattr(store, "credentials", SharedCredentials(path, fallback=own))
