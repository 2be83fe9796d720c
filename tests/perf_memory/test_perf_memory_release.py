"""`Database.release_memory` (run before the plan helper is forked): DuckDB drops its cached pages, the
configured limit stays the one in force, and inside a transaction (a dry run) nothing is aborted or lost."""

from __future__ import annotations

import duckdb

from ledgerlink.store import Store


def _shown(limit: str) -> str:
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = '{limit}'")
        return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    finally:
        con.close()


def _cached_blocks(store: Store) -> int:
    return store.db.fetchone("SELECT sum(memory_usage_bytes) FROM duckdb_memory() WHERE tag = 'BASE_TABLE'")[0]


def test_release_drops_the_cache_and_keeps_the_limit(tmp_path):
    store = Store(tmp_path / "state.duckdb", memory_limit="96MB")
    try:
        store.db.execute("CREATE TABLE t AS SELECT range AS i, repeat('x', 200) AS s FROM range(200000)")
        store.db.execute("CHECKPOINT")
        assert store.db.fetchone("SELECT count(*), sum(length(s)) FROM t") == (200_000, 40_000_000)
        cached = _cached_blocks(store)
        store.db.release_memory()
        assert _cached_blocks(store) < cached
        assert store.db.fetchone("SELECT current_setting('memory_limit')")[0] == _shown("96MB")
        assert store.db.fetchone("SELECT count(*) FROM t")[0] == 200_000  # read back from the file
    finally:
        store.close()


def test_release_inside_a_transaction_aborts_nothing(tmp_path):
    store = Store(tmp_path / "state.duckdb")
    try:
        with store.db.transaction():
            store.db.execute("CREATE TABLE t AS SELECT range AS i FROM range(50000)")
            store.db.release_memory()
            store.db.execute("INSERT INTO t VALUES (-1)")
        assert store.db.fetchone("SELECT count(*) FROM t")[0] == 50_001
        assert store.db.fetchone("SELECT current_setting('memory_limit')")[0] == _shown("128MB")
    finally:
        store.close()
