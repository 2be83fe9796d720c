"""DuckDB hitting its memory limit while staging fails cleanly (a clear error, nothing half-kept) and the store
recovers: the table the rolled-back transaction created is not taken for existing any more."""

from __future__ import annotations

import contextlib
import json

import fakes
import pytest

from ledgerlink.errors import LedgerlinkError
from ledgerlink.runtime import sync
from ledgerlink.store import Store
from ledgerlink.store import database as database_module
from ledgerlink.store import raw as raw_module
from ledgerlink.store.database import StoreOutOfMemory


@contextlib.contextmanager
def _no_headroom(self, largest_value):  # a statement the store gives no extra room: it meets the limit
    yield


@pytest.fixture
def tight_store(tmp_path, monkeypatch):
    """A store at a 16 MB limit whose staging statements get no headroom and are not split."""
    monkeypatch.setenv("LEDGERLINK_DUCKDB_MEMORY", "16MB")
    monkeypatch.setattr(database_module.Database, "headroom", _no_headroom)
    monkeypatch.setattr(raw_module, "STATEMENT_CHARS", 1 << 40)
    store = Store(tmp_path / "tight.duckdb")
    yield store
    store.close()


def _rows(n: int, size: int) -> tuple[list[str], list[str]]:
    return [str(i) for i in range(n)], [json.dumps({"id": i, "blob": "x" * size}) for i in range(n)]


def test_out_of_memory_while_staging_is_a_clear_error_and_the_next_write_works(tight_store):
    pks, data = _rows(300, 100_000)  # 30 MB in one statement, against 16 MB
    with pytest.raises(StoreOutOfMemory) as caught:
        with tight_store.db.transaction():
            tight_store.raw.stage("things", pks, [None] * len(pks), data, [None] * len(pks), 1)
    assert isinstance(caught.value, LedgerlinkError)  # the CLI shows it as an error, not a traceback
    assert "ran out of memory" in caught.value.message and "LEDGERLINK_DUCKDB_MEMORY" in caught.value.hint
    assert not tight_store.raw.exists("things")  # the transaction that created the table was undone
    # the next write creates the table again instead of failing with "Table … does not exist"
    tight_store.raw.stage("things", ["a"], [None], [json.dumps({"id": "a"})], [None], 2)
    assert tight_store.raw.count("things") == 1
    assert tight_store.db.fetchone("SELECT current_setting('memory_limit')")[0] in ("16.0 MiB", "15.2 MiB", "16.0 MB")


def test_a_commit_too_large_for_memory_fails_cleanly_and_the_connection_recovers(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_DUCKDB_MEMORY", "16MB")
    store = Store(tmp_path / "commit.duckdb")
    try:
        pks, data = _rows(300, 100_000)  # each statement fits (the store splits it); the commit does not
        with pytest.raises(StoreOutOfMemory):
            with store.db.transaction():
                store.raw.stage("things", pks, [None] * len(pks), data, [None] * len(pks), 1)
        store.raw.stage("things", ["a"], [None], [json.dumps({"id": "a"})], [None], 2)
        assert store.raw.count("things") == 1
    finally:
        store.close()


def test_a_sync_whose_staging_runs_out_of_memory_fails_cleanly_and_the_next_run_catches_up(
        fake_host, make_pipeline, tmp_path, monkeypatch):
    monkeypatch.setattr(Store, "__init__", _tight_init(Store.__init__))
    monkeypatch.setattr(database_module.Database, "headroom", _no_headroom)
    monkeypatch.setattr(raw_module, "STATEMENT_CHARS", 1 << 40)
    fakes.POISON.append((0, "orders", {"id": "BIG", "updated": "2026-01-01T00:00:00Z", "blob": "x" * 40_000_000}))
    first = sync(make_pipeline(orders=4), plugin_host=fake_host)
    assert first.status == "failed" and "ran out of memory" in first.errors[0]
    store = Store(tmp_path / "state.duckdb")
    try:
        assert store.source_state().get("orders") is None  # nothing was covered, so nothing was skipped
    finally:
        store.close()
    monkeypatch.undo()  # memory as configured: the same records now go through
    fakes.POISON.clear()
    second = sync(make_pipeline(orders=4), plugin_host=fake_host)
    assert second.status == "succeeded", second.errors
    assert len(fakes.REMOTE["Receipt"]) == 4


def _tight_init(init):
    def tight(self, path):
        init(self, path)
        self.db.memory_limit = "16MB"
        self.db.execute("SET memory_limit = '16MB'")
    return tight
