"""The workspace's console database: a small SQLite file, readable by its owner only (it holds password and
token hashes, sessions and the audit log), shared by `serve` and the `users`/`tokens` commands."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

__all__ = ["ConsoleDB", "console_db_path", "open_console_db"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL, last_used_at REAL, revoked_at REAL);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY, user_name TEXT NOT NULL, csrf_token TEXT NOT NULL, created_at REAL NOT NULL,
    expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS login_failures (
    key TEXT PRIMARY KEY, failures INTEGER NOT NULL, first_at REAL NOT NULL, locked_until REAL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    pipeline TEXT, target TEXT, detail TEXT);
"""


def console_db_path(workspace: str | Path) -> Path:
    return Path(workspace) / ".ledgerlink" / "console.db"


class ConsoleDB:
    """One SQLite connection shared by the web handlers' threads (one statement at a time, under `lock`).
    `clock` is injectable so tests can expire sessions and lockouts without waiting."""

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # created owner-only before anything is written into it
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(self.path, 0o600)
        self.clock = clock
        self.lock = threading.RLock()
        self.con = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=10)
        self.con.execute("PRAGMA busy_timeout = 10000")
        self.con.executescript(_SCHEMA)

    def now(self) -> float:
        return self.clock()

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.con.execute(sql, params)

    def fetchall(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            return self.con.execute(sql, params).fetchall()

    def fetchone(self, sql: str, params: Any = ()) -> tuple[Any, ...] | None:
        with self.lock:
            return self.con.execute(sql, params).fetchone()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self.lock:
            self.con.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            self.con.execute("COMMIT")

    def close(self) -> None:
        with self.lock:
            self.con.close()


def open_console_db(workspace: str | Path) -> ConsoleDB:
    """The console database of a workspace folder (for `ledgerlink users` and `tokens`)."""
    from ..errors import ConfigError

    if not Path(workspace).is_dir():
        raise ConfigError(f"workspace {workspace} is not a folder", where="--workspace",
                          hint="name the folder holding your pipeline files")
    return ConsoleDB(console_db_path(workspace))
