"""A run killed mid-way does not stay "running" for ever: the next process to open the state marks it interrupted,
with what it had committed; and every run has a duration (started → finished, or → found interrupted)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from ledgerlink.runtime import sync
from ledgerlink.store import Store

KILLED_MID_RUN = textwrap.dedent("""
    import os, sys
    from ledgerlink.store import Store
    store = Store(sys.argv[1])
    run = store.runs.start("killed", False)
    store.raw.stage("orders", ["A", "B"], [None, None], ['{"id": "A"}', '{"id": "B"}'], [None, None], run)
    store.dead_letters.add(stage="read", stream="orders", record={"no": "key"}, run_id=run,
                           error=ValueError("record has no primary key"))
    os.kill(os.getpid(), 9)
""")


def test_a_killed_run_is_marked_interrupted_with_what_it_had_done(tmp_path):
    state = tmp_path / "state.duckdb"
    proc = subprocess.run([sys.executable, "-c", KILLED_MID_RUN, str(state)], timeout=120)
    assert proc.returncode == -9
    store = Store(state)  # the next process to open the state
    try:
        [run] = store.runs.list()
        assert run["status"] == "interrupted" and run["finished_at"] is not None
        assert run["counts"]["interrupted"] is True
        assert run["counts"]["read"] == {"orders": 2} and run["counts"]["read_total"] == 2
        assert run["counts"]["dead_letters_open"] == 1
        assert "stopped before it finished" in run["error"]
        assert isinstance(run["seconds"], float) and run["seconds"] >= 0
    finally:
        store.close()
    again = Store(state)  # marked once; opening again changes nothing
    try:
        assert [r["status"] for r in again.runs.list()] == ["interrupted"]
    finally:
        again.close()


def test_a_run_of_this_process_is_not_taken_for_a_killed_one(tmp_path):
    store = Store(tmp_path / "state.duckdb")
    try:
        run = store.runs.start("live", False)
        other = Store(tmp_path / "state.duckdb")  # e.g. a status command inside `serve`, same process
        other.close()
        assert store.runs.list()[0]["status"] == "running"
        store.runs.finish(run, "succeeded", {}, {"read_s": 0.25})
        [row] = store.runs.list()
        assert row["status"] == "succeeded"
    finally:
        store.close()


def test_run_history_gives_durations_as_numbers(fake_host, make_pipeline, tmp_path):
    sync(make_pipeline(orders=3), plugin_host=fake_host)
    store = Store(tmp_path / "state.duckdb")
    try:
        [run] = store.runs.list()
    finally:
        store.close()
    # timings come back as floats (they were Decimals, which `ledgerlink runs` summed as 0.0)
    assert set(run["timings"]) >= {"read_s", "normalise_plan_s", "write_s"}
    assert all(isinstance(v, float) for v in run["timings"].values())
    assert isinstance(run["seconds"], float) and run["seconds"] >= 0
