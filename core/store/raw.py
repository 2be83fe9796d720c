"""Raw staging tables: one per stream, one row per primary key (the newest cursor wins), written in bulk by
appending and superseding, without a key index."""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any, Iterator, Sequence

import duckdb
import pyarrow as pa

from .. import jsonutil
from .database import Database

__all__ = ["RawTables", "table_name", "winners"]

log = logging.getLogger("ledgerlink.store")


#: characters of JSON staged in one statement: DuckDB needs several times a statement's data in memory, and a
#: batch of 5,000 records of 100 KB each would not fit the store's cache limit in one
STATEMENT_CHARS = 4 << 20


def _chunks(pks: Sequence[str], data: Sequence[str]) -> Iterator[list[int]]:
    """Row numbers in groups of about STATEMENT_CHARS of data, every row of one key in the same group (in
    arrival order within it)."""
    if len(set(pks)) == len(pks):  # one row per key: consecutive rows
        start, size = 0, 0
        for i, length in enumerate(map(len, data)):
            size += length
            if size >= STATEMENT_CHARS:
                yield list(range(start, i + 1))
                start, size = i + 1, 0
        if start < len(pks):
            yield list(range(start, len(pks)))
        return
    by_key: dict[str, list[int]] = {}
    for i, pk in enumerate(pks):
        by_key.setdefault(pk, []).append(i)
    group: list[int] = []
    size = 0
    for rows in by_key.values():
        group.extend(rows)
        size += sum(len(data[i]) for i in rows)
        if size >= STATEMENT_CHARS:
            yield sorted(group)
            group, size = [], 0
    if group:
        yield sorted(group)


#: staging a statement's winners (`ll_win`: one row per key, `reset` when an arrival with an unknown cursor
#: came in the batch, so the winner replaces the staged row whatever it was): first the staged rows they supersede
#: go (a hash join of the batch's keys against the table), then the winners with no staged row left are appended.
#: The table keeps one row per key without a primary-key index, whose upkeep was the largest cost of staging
#: (and a third of the state file): see docs/reference/performance.md, "append" (session 6)
_SUPERSEDE = """
    DELETE FROM {name} USING ll_win w
    WHERE {name}.pk = w.pk AND (w.reset OR {name}.cursor IS NULL OR w.cursor >= {name}.cursor)"""
_APPEND = """
    INSERT INTO {name}
    SELECT w.pk, w.cursor, w.data, w.join_key, w.arrival, {run}, now() FROM ll_win w
    ANTI JOIN {name} ON {name}.pk = w.pk"""
#: the columns of a raw table (no key constraint: staging keeps one row per key itself)
_COLUMNS = """pk VARCHAR NOT NULL, cursor VARCHAR, data JSON NOT NULL, join_key VARCHAR,
    seq BIGINT NOT NULL, run_id BIGINT, staged_at TIMESTAMP NOT NULL"""


def winners(pks: Sequence[str], cursors: Sequence[str | None]) -> tuple[list[int], list[bool]]:
    """Per key of a batch (in arrival order), the row of the arrival that wins within it and whether the key had
    an arrival with an unknown cursor (then the winner replaces the staged row unconditionally). Taking each
    arrival in turn: an unknown cursor on either side replaces, else a cursor not older replaces."""
    win: dict[str, int] = {}
    reset: dict[str, bool] = {}
    for i, (pk, cursor) in enumerate(zip(pks, cursors)):
        j = win.get(pk)
        if j is None:
            win[pk], reset[pk] = i, cursor is None
        elif cursor is None:
            win[pk], reset[pk] = i, True
        else:
            held = cursors[j]
            if held is None or cursor >= held:
                win[pk] = i
    rows = sorted(win.values())
    return rows, [reset[pks[i]] for i in rows]


def table_name(stream: str) -> str:
    return "raw_" + re.sub(r"[^a-z0-9_]", "_", stream.lower())


class RawTables:
    def __init__(self, db: Database):
        self.db = db
        self._known: set[str] = set()
        self._largest: dict[str, int] = {}
        db.on_rollback(self.forget)
        self.unkey()

    def unkey(self) -> list[str]:
        """Migrate a state file written before raw tables lost their primary key: each keyed raw table is
        rebuilt without it (same rows, same sequence numbers), all in one transaction, once. Returns the tables
        rebuilt. DuckDB cannot drop a primary key in place."""
        keyed = [r[0] for r in self.db.fetchall(
            "SELECT DISTINCT table_name FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' "
            "AND starts_with(table_name, 'raw_') ORDER BY 1")]
        if not keyed:
            return []
        with self.db.transaction():
            for name in keyed:
                largest = self.largest(name[4:]) if name == table_name(name[4:]) else 0
                with self.db.headroom(largest):
                    self.db.execute(f"CREATE TABLE {name}__unkeyed ({_COLUMNS})")
                    self.db.execute(f"INSERT INTO {name}__unkeyed SELECT pk, cursor, data, join_key, seq, run_id, "
                                    f"staged_at FROM {name}")
                    self.db.execute(f"DROP TABLE {name}")
                    self.db.execute(f"ALTER TABLE {name}__unkeyed RENAME TO {name}")
        log.info("state file migrated: raw tables %s rebuilt without their primary key", ", ".join(keyed))
        return keyed

    def forget(self) -> None:
        """After a rollback: the tables (and largest sizes) this remembered may have been undone with it, so the
        next stage asks DuckDB again instead of writing to a table that is not there."""
        self._known.clear()
        self._largest.clear()

    def largest(self, stream: str) -> int:
        """The largest record staged for `stream`, in characters (a settlement of 100,000 rows is one record of
        ~40 MB): statements over such records get memory headroom and read them one at a time."""
        if stream not in self._largest:
            # fetchall, not fetchone: a result left open blocks `register` on this connection
            rows = self.db.fetchall("SELECT value FROM ll_meta WHERE key = ?", [f"largest_record:{stream}"])
            self._largest[stream] = int(rows[0][0]) if rows else 0
        return self._largest[stream]

    def _note_largest(self, stream: str, size: int) -> None:
        if size > self.largest(stream):
            self.db.fetchall("INSERT OR REPLACE INTO ll_meta VALUES (?, ?)", [f"largest_record:{stream}", str(size)])
            self._largest[stream] = size

    def ensure(self, stream: str) -> str:
        name = table_name(stream)
        if name not in self._known:
            self.db.execute(f"CREATE TABLE IF NOT EXISTS {name} ({_COLUMNS})")
            self._known.add(name)
        return name

    def exists(self, stream: str) -> bool:
        return bool(self.db.fetchone(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table_name(stream)])[0])

    def stage(self, stream: str, pks: Sequence[str], cursors: Sequence[str | None], data: Sequence[str],
              join_keys: Sequence[str | None], run_id: int | None) -> None:
        """Stage one batch (in arrival order), a statement per few megabytes (every version of one key in the
        same statement). The result is the same however arrivals are cut into batches: each arrival in turn
        replaces the staged row when its cursor is not older, when either cursor is unknown (None) — so a late
        page never rolls a record back — and, between equal cursors, the later arrival wins."""
        if not pks:
            return
        name = self.ensure(stream)
        with self.db.lock:
            # staging sequence numbers follow arrival order across the statements of the batch
            first = int(self.db.fetchall("SELECT min(nextval('ll_seq')) FROM range(?)", [len(pks)])[0][0])
            if sum(map(len, data)) < STATEMENT_CHARS:
                self._stage_rows(stream, name, pks, cursors, data, join_keys, range(first, first + len(pks)), run_id)
                return
            for rows in _chunks(pks, data):
                self._stage_rows(stream, name, [pks[i] for i in rows], [cursors[i] for i in rows],
                                 [data[i] for i in rows], [join_keys[i] for i in rows], [first + i for i in rows],
                                 run_id)

    def _stage_rows(self, stream: str, name: str, pks: Sequence[str], cursors: Sequence[str | None],
                    data: Sequence[str], join_keys: Sequence[str | None], seqs: Sequence[int],
                    run_id: int | None) -> None:
        """One statement: `seqs` are the rows' staging sequence numbers, in arrival order."""
        if len(set(pks)) == len(pks):  # one arrival per key (the common case): every row wins within the batch
            batch = pa.table({"pk": pa.array(pks, pa.string()), "cursor": pa.array(cursors, pa.string()),
                              "data": pa.array(data, pa.string()), "join_key": pa.array(join_keys, pa.string()),
                              "arrival": pa.array(seqs, pa.int64()),
                              "reset": pa.array([c is None for c in cursors], pa.bool_())})
        else:
            rows, reset = winners(pks, cursors)
            batch = pa.table({"pk": pa.array([pks[i] for i in rows], pa.string()),
                              "cursor": pa.array([cursors[i] for i in rows], pa.string()),
                              "data": pa.array([data[i] for i in rows], pa.string()),
                              "join_key": pa.array([join_keys[i] for i in rows], pa.string()),
                              "arrival": pa.array([seqs[i] for i in rows], pa.int64()),
                              "reset": pa.array(reset, pa.bool_())})
        biggest = max(map(len, data))
        with self.db.lock, self.db.headroom(biggest):
            self._note_largest(stream, biggest)
            self.db.con.register("ll_win", batch)
            try:
                self.db.execute(_SUPERSEDE.format(name=name))
                self.db.execute(_APPEND.format(name=name, run=int(run_id or 0)))
            finally:
                with contextlib.suppress(duckdb.Error):  # in an aborted transaction: the error above is the news
                    self.db.con.unregister("ll_win")

    def changed(self, stream: str, after_seq: int, batch: int = 2000) -> Iterator[list[tuple[str, str, int]]]:
        """Rows staged after `after_seq`, oldest first, in batches (pk, data json, seq)."""
        if not self.exists(stream):
            return
        name = table_name(stream)
        biggest = self.largest(stream)
        if biggest > (1 << 20):  # records of megabytes: a few at a time, with room to read them
            batch = max(1, min(batch, (64 << 20) // biggest))
        while True:
            with self.db.headroom(biggest * batch if biggest > (1 << 20) else 0):
                rows = self.db.fetchall(f"SELECT pk, data, seq FROM {name} WHERE seq > ? ORDER BY seq LIMIT ?",
                                        [after_seq, batch])
            if not rows:
                return
            yield rows
            after_seq = rows[-1][2]

    def related(self, stream: str, join_keys: list[str]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
        """Rows of `stream` whose join key is in `join_keys`, grouped by it, in primary-key order."""
        out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        if not join_keys or not self.exists(stream):
            return out
        rows = self.db.fetchall(
            f"SELECT join_key, pk, data FROM {table_name(stream)} WHERE join_key IN (SELECT unnest(?)) ORDER BY pk",
            [join_keys])
        for jk, pk, data in rows:
            out.setdefault(jk, []).append((pk, jsonutil.loads(data)))
        return out

    def get(self, stream: str, pk: str) -> dict[str, Any] | None:
        if not self.exists(stream):
            return None
        with self.db.headroom(self.largest(stream)):
            row = self.db.fetchone(f"SELECT data FROM {table_name(stream)} WHERE pk = ?", [pk])
        return jsonutil.loads(row[0]) if row else None

    def touch(self, stream: str, pk: str) -> bool:
        """Mark a row as changed so the next normalise picks it up again (dead-letter retry)."""
        if not self.exists(stream):
            return False
        name = table_name(stream)
        self.db.execute(f"UPDATE {name} SET seq = nextval('ll_seq') WHERE pk = ?", [pk])
        return True

    def count(self, stream: str) -> int:
        return self.db.fetchone(f"SELECT count(*) FROM {table_name(stream)}")[0] if self.exists(stream) else 0

    def streams(self) -> list[str]:
        rows = self.db.fetchall("SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'raw_%'")
        return sorted(r[0][4:] for r in rows)
