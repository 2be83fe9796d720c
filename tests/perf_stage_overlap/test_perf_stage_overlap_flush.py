"""Flushes committed on a worker thread while the source reads on: a failed flush commits nothing after it (no
later STATE skips its records), the run says so, and the next run stages everything; dead letters filed while a
flush is in flight are kept; the result equals one flush at a time."""

from __future__ import annotations

import threading
from typing import Any

import perf_stage_source
import pytest

from ledgerlink.runtime import extract as extract_module
from ledgerlink.runtime.extract import extract
from ledgerlink.store import Store
from ledgerlink.store.database import StoreOutOfMemory


def _pages(n_pages: int, size: int, start: int = 0) -> list[list[dict[str, Any]]]:
    return [[{"id": start + p * size + i, "updated": f"2026-01-{p + 1:02d}T00:00:00Z"} for i in range(size)]
            for p in range(n_pages)]


def _staged_ids(store: Store) -> list[int]:
    if not store.raw.exists("things"):
        return []
    return sorted(int(r[0]) for r in store.db.fetchall("SELECT pk FROM raw_things"))


@pytest.fixture
def small_flushes(monkeypatch):
    monkeypatch.setattr(extract_module, "FLUSH_ROWS", 3)


def test_flushes_run_on_a_worker_thread_one_at_a_time_in_order(tmp_path, small_flushes, monkeypatch):
    threads: set[str] = set()
    in_flight = []
    real = extract_module._flush

    def watched(pending, store, run_id, count_dead):
        in_flight.append(1)
        assert len(in_flight) == 1, "two flushes at once"
        threads.add(threading.current_thread().name)
        try:
            real(pending, store, run_id, count_dead)
        finally:
            in_flight.pop()

    monkeypatch.setattr(extract_module, "_flush", watched)
    store = Store(tmp_path / "state.duckdb")
    try:
        pages = _pages(5, 4)
        counts = extract(perf_stage_source.ScriptedSource(), {"pages": pages}, None, store, 1)
        assert counts["read_total"] == 20 and counts["read_error"] is None
        assert _staged_ids(store) == list(range(20))
        assert store.source_state()["things"] == {"updated": "2026-01-05T00:00:00Z"}
        assert threads and threading.main_thread().name not in threads
        # staging sequence numbers follow arrival order across flushes
        seqs = [int(r[0]) for r in store.db.fetchall("SELECT pk FROM raw_things ORDER BY seq")]
        assert seqs == list(range(20))
    finally:
        store.close()


def test_a_failed_flush_commits_nothing_after_it_and_the_next_run_stages_everything(tmp_path, small_flushes,
                                                                                     monkeypatch):
    real = extract_module._flush
    calls = []

    def second_fails(pending, store, run_id, count_dead):
        calls.append(1)
        if len(calls) == 2:
            raise StoreOutOfMemory("the pipeline's state ran out of memory (test)")
        real(pending, store, run_id, count_dead)

    monkeypatch.setattr(extract_module, "_flush", second_fails)
    store = Store(tmp_path / "state.duckdb")
    pages = _pages(6, 2)
    try:
        counts = extract(perf_stage_source.ScriptedSource(), {"pages": pages}, None, store, 1)
        assert "ran out of memory" in counts["read_error"]
        assert len(calls) == 2  # nothing was flushed after the failed one
        staged = _staged_ids(store)
        saved = store.source_state().get("things")
        # only the first flush committed: its records and a STATE none of whose records are missing
        assert staged and staged == list(range(len(staged))) and len(staged) < 12
        assert saved is not None
        covered = {r["id"] for p in pages for r in p if r["updated"] <= saved["updated"]}
        assert covered <= set(staged)
        monkeypatch.setattr(extract_module, "_flush", real)
        again = extract(perf_stage_source.ScriptedSource(), {"pages": pages}, None, store, 2)
        assert again["read_error"] is None
        assert _staged_ids(store) == list(range(12))
        assert store.source_state()["things"] == {"updated": "2026-01-06T00:00:00Z"}
    finally:
        store.close()


def test_a_source_crash_while_a_flush_is_in_flight_stages_what_came_before(tmp_path, small_flushes, monkeypatch):
    release = threading.Event()
    real = extract_module._flush

    def slow(pending, store, run_id, count_dead):
        release.wait(10)  # the source goes on reading (and crashes) while this flush waits
        real(pending, store, run_id, count_dead)

    monkeypatch.setattr(extract_module, "_flush", slow)
    store = Store(tmp_path / "state.duckdb")
    try:
        pages = _pages(4, 2)
        threading.Timer(0.2, release.set).start()
        counts = extract(perf_stage_source.ScriptedSource(), {"pages": pages, "fail_after": 7}, None, store, 1)
        release.set()
        assert counts["read_error"] and "failed while reading" in counts["read_error"]
        assert _staged_ids(store) == list(range(7))  # every record sent before the crash
        assert store.source_state()["things"] == {"updated": "2026-01-03T00:00:00Z"}
    finally:
        store.close()


def test_dead_letters_filed_while_a_flush_is_in_flight_are_kept(tmp_path, small_flushes):
    store = Store(tmp_path / "state.duckdb")
    try:
        pages = _pages(4, 3)
        pages[1][1] = {"updated": "2026-01-02T00:00:00Z"}  # no primary key: a dead letter
        pages[3][0] = {"id": {"not": "a key"}, "updated": "2026-01-04T00:00:00Z"}
        counts = extract(perf_stage_source.ScriptedSource(), {"pages": pages}, None, store, 1)
        assert counts["read_dead_letters"] == 2 and counts["read_total"] == 10
        assert len(store.dead_letters.list()) == 2
        assert store.source_state()["things"] == {"updated": "2026-01-04T00:00:00Z"}
    finally:
        store.close()
