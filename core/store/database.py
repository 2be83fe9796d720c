"""Opening a pipeline's DuckDB file: one writer process, a clear error for a second one."""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import threading
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterator

import duckdb

from ..data_dir import duckdb_temp_dir
from ..errors import ConfigError, LedgerlinkError, PipelineBusyError
from ..secrets import make_private, owner_only

__all__ = ["Database", "StoreOutOfMemory"]

SCHEMA_VERSION = "1"
#: copies of a value DuckDB holds at once while checking and storing it as JSON
HEADROOM_FACTOR = 12


class StoreOutOfMemory(LedgerlinkError):
    """DuckDB ran out of the memory it may use for a pipeline's state: the step is undone, the run fails with
    this, and the next run (with more memory if need be) goes on from the last commit."""

    kind = "store"


class Database:
    """A DuckDB connection with nested-safe transactions. Threads share it through `lock`."""

    def __init__(self, path: str | Path, *, memory_limit: str | None = None):
        self.path = Path(path)
        if str(path) != ":memory:":
            owner_only()  # the state (and the WAL DuckDB re-creates) holds buyers' names: owner-only files
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            self.con = duckdb.connect(str(path))
            if str(path) != ":memory:":
                make_private(self.path)  # a state file made before ledgerlink masked group and other bits
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" in text.lower():
                pid = re.search(r"PID (\d+)", text)
                raise PipelineBusyError(
                    f"pipeline is busy: {path} is held by another process"
                    + (f" (PID {pid.group(1)})" if pid else ""),
                    hint="wait for the running sync or `ledgerlink serve` to finish, or stop it; "
                         "one process owns a pipeline's state file at a time") from None
            raise
        # DuckDB caches pages up to its limit; a pipeline's RSS should not grow with its history.
        self.memory_limit = _checked_size(memory_limit or os.environ.get("LEDGERLINK_DUCKDB_MEMORY", "128MB"))
        self.lock = threading.RLock()
        self._depth = 0
        self._on_rollback: list[Callable[[], None]] = []
        try:
            self._settings()
            self.con.execute(resources.files("ledgerlink.store").joinpath("schema.sql").read_text())
            self.con.execute("INSERT OR IGNORE INTO ll_meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
        except (duckdb.OutOfMemoryException, duckdb.FatalException) as exc:  # a limit too small to open it
            self.con.close()
            raise self._out_of_memory(exc) from None

    def set_memory_limit(self, limit: str) -> None:
        """Use `limit` (e.g. '256MB') from now on: what every statement gets, and what the limit comes back to
        after a statement's headroom or a rollback (a bare `SET memory_limit` would be undone by those)."""
        checked = _checked_size(limit)
        with self.lock:
            self.con.execute(f"SET memory_limit = '{checked}'")
            self.memory_limit = checked

    def release_memory(self) -> None:
        """Drop DuckDB's cached pages and hand the memory freed in this process back to the system. Before
        forking the plan helper: a child inherits every resident page of its parent, and staging a run leaves
        DuckDB's cache full and freed memory behind (305 MB of RSS after staging 100,000 orders, 182 MB after
        this; an empty store is 150 MB). The cache refills as the run reads; the limit itself is unchanged.
        Inside a transaction (a dry run) it only trims the heap: a failed statement would abort the transaction."""
        with self.lock:
            if self._depth:
                _trim_heap()
                return
            with contextlib.suppress(duckdb.Error):
                self.con.execute("SET memory_limit = '1MB'")  # evicts what is not pinned
                self.con.execute("SELECT 1").fetchall()
            with contextlib.suppress(duckdb.Error):
                self.con.execute(f"SET memory_limit = '{self.memory_limit}'")
        _trim_heap()

    @property
    def memory_limit_bytes(self) -> int:
        """The configured memory limit in bytes (what a statement gets without headroom)."""
        return _bytes(self.memory_limit)

    def _settings(self) -> None:
        self.con.execute(f"SET memory_limit = '{self.memory_limit}'")
        # timestamps are stored as UTC wall time (TIMESTAMP): no time-zone library needed to read them back
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET preserve_insertion_order = false")
        if (spill := duckdb_temp_dir()) is not None:  # a read-only root: spill into the writable volume
            self.con.execute(f"SET temp_directory = '{spill.replace(chr(39), chr(39) * 2)}'")

    def _recover(self) -> bool:
        """After a fatal error (e.g. out of memory while committing) DuckDB refuses every later statement on this
        connection; the file itself holds what was committed. Reopen it, so a long-running `serve` goes on;
        True when it had to."""
        try:
            self.con.execute("SELECT 1").fetchall()
            return False
        except duckdb.FatalException:
            pass
        except duckdb.Error:
            return False
        with contextlib.suppress(duckdb.Error):
            self.con.close()
        self.con = duckdb.connect(str(self.path))
        self._settings()
        for forget in self._on_rollback:
            forget()
        return True

    @contextlib.contextmanager
    def headroom(self, largest_value: int) -> Iterator[None]:
        """Room for one statement over very large values (a 100,000-row settlement is one 40 MB record): DuckDB
        needs several copies of a value to check and store it as JSON, more than the cache limit that keeps a
        pipeline's RSS flat. The limit rises for the statement by what such values need, and comes back. Values
        small beside the limit (an order of a few kilobytes) get nothing: the configured limit is the limit."""
        configured = _bytes(self.memory_limit)
        if largest_value * HEADROOM_FACTOR <= configured // 8:
            yield
            return
        needed = configured + HEADROOM_FACTOR * largest_value
        with self.lock:
            self.con.execute(f"SET memory_limit = '{needed // (1 << 20)}MB'")
            try:
                yield
            finally:
                with contextlib.suppress(duckdb.Error):  # in an aborted transaction it waits for the next run
                    self.con.execute(f"SET memory_limit = '{self.memory_limit}'")

    # Every statement (and its fetch) holds the lock: `ledgerlink serve` shares this one connection between
    # the sync thread and web handlers, and a DuckDB connection must not run two statements at once.
    def execute(self, sql: str, params: Any = None) -> duckdb.DuckDBPyConnection:
        with self.lock:
            try:
                return self.con.execute(sql, params) if params is not None else self.con.execute(sql)
            except (duckdb.OutOfMemoryException, duckdb.FatalException) as exc:
                raise self._out_of_memory(exc) from exc

    def _out_of_memory(self, exc: duckdb.Error) -> "StoreOutOfMemory":
        """A clear error for DuckDB running out of its memory (the statement, and its transaction, are undone;
        the file keeps what was committed)."""
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if self._depth == 0:
            self._recover()
        return StoreOutOfMemory(
            f"the pipeline's state ({self.path}) ran out of memory (limit {self.memory_limit}): {first}",
            hint="nothing of the failed step was kept and the next run starts from the last commit; if it fails "
                 "again, raise LEDGERLINK_DUCKDB_MEMORY (e.g. 512MB)")

    def fetchall(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self.lock:
            return self.execute(sql, params).fetchall()

    def fetchone(self, sql: str, params: Any = None) -> tuple[Any, ...] | None:
        with self.lock:
            return self.execute(sql, params).fetchone()

    @property
    def in_transaction(self) -> bool:
        """Whether a caller's transaction is open (a dry run holds one for the whole run)."""
        return self._depth > 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Commit on success, roll back on error; an inner transaction joins the outer one."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.con.execute("BEGIN TRANSACTION")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self._rollback()
                raise
            self._depth = 0
            try:
                self.con.execute("COMMIT")
            except duckdb.Error as exc:  # e.g. out of memory while committing: nothing of it was kept
                self._rollback()
                if "memory" in str(exc).lower():
                    raise self._out_of_memory(exc) from exc
                raise

    @contextlib.contextmanager
    def rollback_only(self) -> Iterator[None]:
        """Everything inside is undone at the end (a dry run)."""
        with self.lock:
            self.con.execute("BEGIN TRANSACTION")
            self._depth = 1
            try:
                yield
            finally:
                self._depth = 0
                self._rollback()

    def on_rollback(self, forget: Callable[[], None]) -> None:
        """Call `forget` after every rollback: a cache of what exists (a table created in the transaction)
        must not outlive the transaction that created it."""
        self._on_rollback.append(forget)

    def _rollback(self) -> None:
        """Undo the open transaction (if DuckDB has not already), forget what it made, and bring back the
        configured memory limit (a statement's headroom cannot be taken back inside an aborted transaction)."""
        with contextlib.suppress(duckdb.Error):
            self.con.execute("ROLLBACK")
        for forget in self._on_rollback:
            forget()
        if not self._recover():
            with contextlib.suppress(duckdb.Error):
                self.con.execute(f"SET memory_limit = '{self.memory_limit}'")

    def close(self) -> None:
        self.con.close()


def _trim_heap() -> None:
    """glibc's `malloc_trim`: return freed heap pages to the system (elsewhere, nothing to do)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _checked_size(limit: str) -> str:
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", limit.strip(), re.I):
        raise ConfigError(f"LEDGERLINK_DUCKDB_MEMORY={limit!r} is not a size", hint="e.g. 256MB or 1GB")
    return limit.strip()


def _bytes(size: str) -> int:
    """'128MB' / '1.5GiB' → bytes (DuckDB counts both KB and KiB as 1024)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT])i?B", size.strip(), re.I)
    if not match:
        return 0
    return int(float(match.group(1)) * 1024 ** " KMGT".index(match.group(2).upper()))
