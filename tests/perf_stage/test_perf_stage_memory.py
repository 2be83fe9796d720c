"""DuckDB's memory limit for staging: the configured one is the one in force (a statement over small records
gets no headroom, and nothing resets it to another), and staging that hits it fails cleanly — a clear error, a
failed run, nothing of it kept — then recovers on the next run, in a new process or in the same store."""

from __future__ import annotations

import perf_stage_source
import duckdb
import pytest

from ledgerlink.pipeline import Pipeline
from ledgerlink.plugins import PluginHost
from ledgerlink.runtime import sync
from ledgerlink.runtime.extract import extract
from ledgerlink.store import Store
from ledgerlink.store.database import StoreOutOfMemory

#: 400 records of 50 KB: 20 MB of JSON, far beyond what DuckDB may use at TIGHT
RECORDS, SIZE = 400, 50_000
TIGHT = "8MB"


@pytest.fixture
def host() -> PluginHost:
    plugins = PluginHost(load_entry_points=False)
    plugins.register(perf_stage_source.plugin, name="perf_stage")
    return plugins


def _pipeline(tmp_path) -> Pipeline:
    return Pipeline.model_validate({
        "name": "bulk", "state": str(tmp_path / "state.duckdb"), "base_dir": str(tmp_path),
        "source": {"connector": "perf_stage_bulk", "config": {"records": RECORDS, "size": SIZE, "page": 50}},
        "destination": {"connector": "perf_stage_nothing", "config": {}}})


def _limit(store: Store) -> str:
    return store.db.fetchone("SELECT current_setting('memory_limit')")[0]


def _as_duckdb_shows(limit: str) -> str:
    """How DuckDB shows a limit once set (its MB are 1000², shown in MiB)."""
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = '{limit}'")
        return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    finally:
        con.close()


def test_staging_fails_cleanly_and_recovers_when_duckdb_hits_its_memory_limit(tmp_path, host, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_DUCKDB_MEMORY", TIGHT)
    failed = sync(_pipeline(tmp_path), plugin_host=host)
    assert failed.status == "failed" and failed.exit_code == 1
    assert "ran out of memory" in failed.errors[0] and f"limit {TIGHT}" in failed.errors[0]
    store = Store(tmp_path / "state.duckdb")
    try:  # nothing half-kept: no staged record, no STATE that would skip them, the run recorded as failed
        assert store.raw.count("things") == 0
        assert store.source_state() == {}
        assert store.db.fetchall("SELECT status, error LIKE '%ran out of memory%' FROM runs") == [("failed", True)]
    finally:
        store.close()

    monkeypatch.setenv("LEDGERLINK_DUCKDB_MEMORY", "128MB")
    again = sync(_pipeline(tmp_path), plugin_host=host)
    assert again.status == "succeeded", again.errors
    assert again.counts["read_total"] == RECORDS
    store = Store(tmp_path / "state.duckdb")
    try:
        assert store.raw.count("things") == RECORDS
        assert store.source_state()["things"] == {"updated": "2026-02-01T00:00:00Z"}
    finally:
        store.close()


def test_the_same_store_stages_again_after_running_out_of_memory(tmp_path):
    """A long-running `serve` keeps its store: the table the undone transaction created is not taken for
    existing (no CatalogException), and the next read stages everything."""
    store = Store(tmp_path / "state.duckdb", memory_limit=TIGHT)
    try:
        config = {"records": RECORDS, "size": SIZE, "page": 50}
        first = extract(perf_stage_source.BulkSource(), config, None, store, run_id=1)
        assert "ran out of memory" in first["read_error"]
        assert not store.raw.exists("things") and store.source_state() == {}
        store.db.set_memory_limit("128MB")
        second = extract(perf_stage_source.BulkSource(), config, None, store, run_id=2)
        assert second["read_error"] is None
        assert store.raw.count("things") == RECORDS
        assert _limit(store) == _as_duckdb_shows("128MB")
    finally:
        store.close()


def test_the_configured_limit_is_the_one_in_force_while_staging(tmp_path):
    store = Store(tmp_path / "state.duckdb", memory_limit="64MB")
    configured = _as_duckdb_shows("64MB")
    try:
        assert _limit(store) == configured
        with store.db.headroom(10_000):  # an order of kilobytes: no headroom, the limit stands
            assert _limit(store) == configured
        with store.db.headroom(40 << 20):  # a 40 MB settlement: room for it, then back
            assert float(_limit(store).split()[0]) > 12 * 40
        assert _limit(store) == configured
        extract(perf_stage_source.BulkSource(), {"records": 300, "size": 1000}, None, store, run_id=1)
        assert store.raw.count("things") == 300
        assert _limit(store) == configured
        with pytest.raises(RuntimeError), store.db.transaction():  # a rollback brings back the same limit
            store.db.execute("SET memory_limit = '300MB'")
            raise RuntimeError("undo")
        assert _limit(store) == configured
        store.db.set_memory_limit("96MB")
        assert _limit(store) == _as_duckdb_shows("96MB")
    finally:
        store.close()


def test_a_limit_too_small_to_open_the_state_is_a_clear_error(tmp_path):
    with pytest.raises(StoreOutOfMemory) as caught:
        Store(tmp_path / "state.duckdb", memory_limit="1MB")
    assert "ran out of memory (limit 1MB)" in caught.value.message
    assert "LEDGERLINK_DUCKDB_MEMORY" in caught.value.hint
    Store(tmp_path / "state.duckdb").close()  # and the file opens with a normal limit
