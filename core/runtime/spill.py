"""Per-run memories that would otherwise grow with the run, kept flat: the newest entries in memory, the older
ones in a private SQLite file read back on a miss (issue 18: flat memory to a million orders).

A run remembers some things for its whole length: the first payload of each per-buyer Customer it planned
(`PlanContext.cache`, so one key is one object whichever order planned it first), the records the load found
waiting on a dependency. At a million buyers or blocked records those are a million entries. Here at most
`held` of them stay in memory; evicted ones are written, in bulk, to a temporary SQLite database of this
process (its page cache is bounded, the rest is on disk; the file is unlinked as soon as it is open) and read
back exactly when asked for again, so the answer is the one an unbounded dict or set gives. A scratch file of
the standard library's SQLite rather than a table in the state file: the plan helper never touches the state
file, and the pipeline's transactions (a dry run rolls everything back) must not take the memo with them. A
forked child (the plan helper) opens its own.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sqlite3
import tempfile
import weakref
from collections import OrderedDict
from typing import Any, Iterable

__all__ = ["SpillFile", "RunMemo", "SpilledKeys", "HELD"]

#: entries kept in memory before the oldest are written to the spill file
HELD = 4096


def _close(con: sqlite3.Connection, pid: int) -> None:
    if os.getpid() != pid:  # a forked child's copy of the parent's connection: the parent closes it
        return
    with contextlib.suppress(sqlite3.Error):
        con.close()


class SpillFile:
    """A key → value table in a private SQLite file, opened on first use (per process: a forked child gets its
    own). Values are pickled: what comes back is equal to what went in, types included."""

    def __init__(self) -> None:
        self._con: sqlite3.Connection | None = None
        self._pid = 0
        self.written = 0

    def _connection(self) -> sqlite3.Connection:
        if self._con is None or self._pid != os.getpid():
            # in the temporary folder (`LEDGERLINK_TEMP_DIR`, `TMPDIR`)
            fd, path = tempfile.mkstemp(prefix="ledgerlink-spill-", suffix=".sqlite")
            os.close(fd)
            con = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            con.execute("PRAGMA journal_mode = OFF")  # a scratch file: nothing to recover after a crash
            con.execute("PRAGMA synchronous = OFF")
            con.execute("CREATE TABLE spill (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID")
            # the payloads hold buyers' names: the file (owner-only, from mkstemp) goes from the directory at
            # once, so not even a killed process leaves it behind; the open connection keeps it until closed
            with contextlib.suppress(OSError):
                os.unlink(path)
            self._con, self._pid = con, os.getpid()
            weakref.finalize(self, _close, con, self._pid)
        return self._con

    def put_many(self, items: Iterable[tuple[str, Any]]) -> None:
        """Write entries, replacing what a key had."""
        rows = [(k, pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)) for k, v in items]
        if rows:
            self._connection().executemany("INSERT OR REPLACE INTO spill VALUES (?, ?)", rows)
            self.written += len(rows)

    def get(self, key: str) -> tuple[bool, Any]:
        """(True, value) for a key written before, (False, None) otherwise."""
        if not self.written:
            return False, None
        row = self._connection().execute("SELECT value FROM spill WHERE key = ?", [key]).fetchone()
        return (False, None) if row is None else (True, pickle.loads(row[0]))


class RunMemo(dict):  # type: ignore[type-arg]
    """`PlanContext.cache`: a dict, except that entries under the keys of run-memoised writes (a
    `Destination.run_memoised_streams` stream's idempotency key, `Customer:…`) are held `held` at a time in
    memory, the least recently used going to a spill file. `get`, `[]`, `in`, `setdefault` see them all, as a
    plain dict would; every other entry (parsed options, a cost book) stays in memory, since plans may change
    those in place. Iterating sees what is in memory only (nothing iterates a plan cache)."""

    def __init__(self, streams: Iterable[str] = (), *, held: int | None = None):
        super().__init__()
        self.streams = frozenset(streams)
        self.held = HELD if held is None else held
        self._recent: OrderedDict[str, Any] = OrderedDict()
        self._spill = SpillFile()

    def bound(self, streams: Iterable[str]) -> None:
        """Hold the payloads of these streams' writes `held` at a time (what the run's destination memoises)."""
        self.streams = self.streams | frozenset(streams)

    def _bounded(self, key: Any) -> bool:
        return isinstance(key, str) and key.partition(":")[0] in self.streams and ":" in key

    def _find(self, key: str) -> tuple[bool, Any]:
        if key in self._recent:
            self._recent.move_to_end(key)
            return True, self._recent[key]
        found, value = self._spill.get(key)
        if found:
            self._keep(key, value)
        return found, value

    def _keep(self, key: str, value: Any) -> None:
        self._recent[key] = value
        self._recent.move_to_end(key)
        if len(self._recent) > 2 * self.held:  # evict in bulk: one write of `held` entries, not one per entry
            old = [self._recent.popitem(last=False) for _ in range(len(self._recent) - self.held)]
            self._spill.put_many(old)

    def __getitem__(self, key: Any) -> Any:
        if self._bounded(key):
            found, value = self._find(key)
            if not found:
                raise KeyError(key)
            return value
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        if self._bounded(key):
            found, value = self._find(key)
            return value if found else default
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        if self._bounded(key):
            return self._find(key)[0]  # type: ignore[arg-type]
        return super().__contains__(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        if self._bounded(key):
            self._keep(key, value)  # in memory it shadows an older spilled value; evicted, it replaces it
            return
        super().__setitem__(key, value)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if self._bounded(key):
            found, value = self._find(key)
            if found:
                return value
            self[key] = default
            return default
        return super().setdefault(key, default)

    def __len__(self) -> int:
        """Entries in memory (what the run holds): the bounded ones at most 2 × `held`."""
        return super().__len__() + len(self._recent)

    @property
    def spilled(self) -> int:
        """Entries written to the spill file so far."""
        return self._spill.written


class SpilledKeys:
    """A set of keys (records blocked in a write pass) holding at most `held` in memory, the rest in a spill
    file; `in` answers for all of them, `len` counts them all."""

    def __init__(self, *, held: int | None = None):
        self.held = HELD if held is None else held
        self._recent: set[str] = set()
        self._spill = SpillFile()
        self._count = 0

    def add_many(self, keys: Iterable[str]) -> None:
        for key in keys:
            if key in self:
                continue
            self._recent.add(key)
            self._count += 1
        if len(self._recent) > self.held:
            self._spill.put_many((k, None) for k in self._recent)
            self._recent = set()

    def __contains__(self, key: object) -> bool:
        return key in self._recent or (isinstance(key, str) and self._spill.get(key)[0])

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    @property
    def in_memory(self) -> int:
        return len(self._recent)
