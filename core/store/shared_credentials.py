"""A credentials file shared by the pipelines that use one account: two stores posting into one QuickBooks
company hold one OAuth connection, whose refresh token Intuit rotates on use. Kept in each pipeline's own state,
the token one pipeline received would be the one that locks the other out; kept here, every pipeline uses the
newest. SQLite, not DuckDB: several processes (two `sync`s, a `serve`) read and write it, one short transaction
at a time, where DuckDB would let only one of them open it.

The same file is a workspace's credential store (see `ledgerlink.connect`): the accounts connected from the
console are kept here, with a record of who connected which account when."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable

from cryptography.fernet import Fernet, InvalidToken

from ..errors import ConfigError
from ..secrets import make_private, owner_only, register_secret
from .references import Credentials

__all__ = ["SharedCredentials", "share_credentials", "Connection"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS credentials (name TEXT PRIMARY KEY, value_encrypted TEXT NOT NULL, "
    "updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    # one row per connected account: what the console lists (never a secret: the names of the credentials only)
    "CREATE TABLE IF NOT EXISTS connections (connector TEXT NOT NULL, account TEXT NOT NULL, label TEXT NOT NULL, "
    "names TEXT NOT NULL, connected_by TEXT NOT NULL, connected_at REAL NOT NULL, PRIMARY KEY (connector, account))",
)


class Connection(dict):  # a plain dict (JSON-able for the API) with a typed constructor
    """A connected account as the store records it: connector, account, label, names, connected_by/at."""


class SharedCredentials:
    """`save`/`load` as a state file's `Credentials`, in a file of their own (names say whose: `qbo:{realm}:…`).
    A name not there yet is read from `fallback` (the pipeline's own state, where earlier runs kept it).
    The file is created readable by its owner only."""

    def __init__(self, path: str | Path, fallback: Credentials | None = None):
        self.path = Path(path)
        owner_only()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        make_private(self.path)
        self._fernet = Fernet(Credentials._key(self.path.with_suffix(".key")))
        self.fallback = fallback
        con = self._connect()
        try:
            with con:
                for statement in _SCHEMA:
                    con.execute(statement)
        finally:
            con.close()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        """One statement in its own transaction and connection: nothing stays open between runs' calls."""
        con = self._connect()
        try:
            with con:
                return con.execute(sql, params).fetchone()
        finally:
            con.close()

    def _encrypt(self, value: str) -> str:
        register_secret(value)
        return self._fernet.encrypt(value.encode()).decode()

    def save(self, name: str, value: str) -> None:
        self._run("INSERT OR REPLACE INTO credentials (name, value_encrypted) VALUES (?, ?)",
                  (name, self._encrypt(value)))

    def load(self, name: str) -> str | None:
        row = self._run("SELECT value_encrypted FROM credentials WHERE name = ?", (name,))
        if not row:
            return self.fallback.load(name) if self.fallback is not None else None
        try:
            value = self._fernet.decrypt(row[0].encode()).decode()
        except InvalidToken:
            raise ConfigError(f"shared credential {name!r} in {self.path} cannot be decrypted with this key",
                              hint="set LEDGERLINK_SECRET_KEY to the key it was stored with (or the key file it "
                                   "was made with, see docs/guides/security.md), or delete the credential and "
                                   "re-authorise") from None
        register_secret(value)
        return value

    def has(self, name: str) -> bool:
        """Whether this file itself holds `name` (the fallback not asked)."""
        return self._run("SELECT 1 FROM credentials WHERE name = ?", (name,)) is not None

    # -- connected accounts ---------------------------------------------------------------------------------

    def connect(self, connector: str, account: str, label: str, secrets: dict[str, str], by: str) -> None:
        """Store an account's secrets and its record in one transaction: all of them, or (on any error) none."""
        rows = [(name, self._encrypt(value)) for name, value in secrets.items()]
        con = self._connect()
        try:
            with con:
                con.executemany("INSERT OR REPLACE INTO credentials (name, value_encrypted) VALUES (?, ?)", rows)
                con.execute("INSERT OR REPLACE INTO connections VALUES (?, ?, ?, ?, ?, ?)",
                            (connector, account, label, "\n".join(sorted(secrets)), by, time.time()))
        finally:
            con.close()

    def disconnect(self, connector: str, account: str, names: Iterable[str] = ()) -> list[str]:
        """Forget an account: its record and its secrets (the record's names and `names`); the names removed."""
        con = self._connect()
        try:
            with con:
                row = con.execute("SELECT names FROM connections WHERE connector = ? AND account = ?",
                                  (connector, account)).fetchone()
                gone = sorted(set(names) | set(row[0].split("\n") if row and row[0] else []))
                con.executemany("DELETE FROM credentials WHERE name = ?", [(n,) for n in gone])
                con.execute("DELETE FROM connections WHERE connector = ? AND account = ?", (connector, account))
        finally:
            con.close()
        return gone

    def connection(self, connector: str, account: str) -> Connection | None:
        row = self._run("SELECT connector, account, label, names, connected_by, connected_at FROM connections "
                        "WHERE connector = ? AND account = ?", (connector, account))
        if row is None:
            return None
        return Connection(connector=row[0], account=row[1], label=row[2], names=row[3].split("\n"),
                          connected_by=row[4], connected_at=row[5])


def share_credentials(store: object, path: Path | None) -> None:
    """Point a state's credentials at the shared file `path` (once; None: the state keeps its own)."""
    current = getattr(store, "credentials")
    if path is None or (isinstance(current, SharedCredentials) and current.path == path):
        return
    own = current.fallback if isinstance(current, SharedCredentials) else current
    setattr(store, "credentials", SharedCredentials(path, fallback=own))
