"""Raw staging without a primary-key index: each batch is appended and the versions it supersedes go in the same
transaction. The table always holds exactly the newest version of each key (the one-arrival-at-a-time rule),
across batches, statements and runs; a failure half-way through a flush undoes the superseding too; a state file
written with the old keyed tables migrates on open and goes on working."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerlink.store import Store
from ledgerlink.store import raw as raw_module
from ledgerlink.store.raw import winners

CURSORS = [None, "2026-01-01", "2026-01-02", "2026-01-03"]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

#: the raw table as state files before this change created it
OLD_TABLE = """CREATE TABLE raw_things (
    pk VARCHAR PRIMARY KEY, cursor VARCHAR, data JSON NOT NULL, join_key VARCHAR,
    seq BIGINT NOT NULL, run_id BIGINT, staged_at TIMESTAMP NOT NULL)"""

arrival = st.tuples(st.integers(0, 5), st.sampled_from(CURSORS))
#: runs (each a Store opened afresh) of batches (each a flush) of arrivals (key, cursor)
runs = st.lists(st.lists(st.lists(arrival, max_size=8), min_size=1, max_size=4), min_size=1, max_size=3)


def _model(history: list[tuple[int, str, str | None]]) -> dict[str, tuple[str | None, int]]:
    """The staging rule, one arrival at a time: replace when either cursor is unknown or the new one is not
    older. Values: (cursor, arrival number)."""
    out: dict[str, tuple[str | None, int]] = {}
    for n, key, cursor in history:
        old = out.get(key)
        if old is None or cursor is None or old[0] is None or cursor >= old[0]:
            out[key] = (cursor, n)
    return out


def _staged(store: Store) -> dict[str, tuple[str | None, int]]:
    if not store.raw.exists("things"):
        return {}
    rows = store.db.fetchall("SELECT pk, cursor, data FROM raw_things")
    assert len(rows) == len({r[0] for r in rows}), "a key staged twice"
    return {pk: (cursor, json.loads(data)["n"]) for pk, cursor, data in rows}


def _stage(store: Store, batch: list[tuple[int, str, str | None]], run: int) -> None:
    with store.db.transaction():
        store.raw.stage("things", [k for _, k, _ in batch], [c for _, _, c in batch],
                        [json.dumps({"id": k, "n": n}) for n, k, _ in batch], [None] * len(batch), run)


@SETTINGS
@given(runs=runs, statement_chars=st.sampled_from([1, 40, 4 << 20]))
def test_the_newest_version_wins_across_flushes_statements_and_runs(tmp_path_factory, monkeypatch, runs,
                                                                    statement_chars):
    monkeypatch.setattr(raw_module, "STATEMENT_CHARS", statement_chars)
    path = tmp_path_factory.mktemp("newest") / "state.duckdb"
    history: list[tuple[int, str, str | None]] = []
    for run, batches in enumerate(runs, start=1):
        store = Store(path)
        try:
            for batch in batches:
                arrivals = [(len(history) + i, str(k), c) for i, (k, c) in enumerate(batch)]
                history.extend(arrivals)
                if arrivals:
                    _stage(store, arrivals, run)
                # superseded versions never stay behind: exactly the newest of each key, after every flush
                assert _staged(store) == _model(history)
            # the staging sequence follows the order in which the winning versions arrived (normalise's order)
            if store.raw.exists("things"):
                order = [json.loads(d)["n"] for (d,) in store.db.fetchall("SELECT data FROM raw_things ORDER BY seq")]
                assert order == sorted(order)
        finally:
            store.close()


@given(st.lists(arrival, max_size=12))
def test_winners_within_a_batch_fold_arrival_by_arrival(batch):
    pks, cursors = [str(k) for k, _ in batch], [c for _, c in batch]
    rows, reset = winners(pks, cursors)
    model = _model([(i, pk, c) for i, (pk, c) in enumerate(zip(pks, cursors))])
    assert {pks[i]: (cursors[i], i) for i in rows} == model
    assert rows == sorted(rows)
    assert reset == [None in [c for p, c in zip(pks, cursors) if p == pks[i]] for i in rows]


def test_a_re_read_record_replaces_its_staged_version_and_normalise_sees_it_again(tmp_path):
    store = Store(tmp_path / "state.duckdb")
    try:
        _stage(store, [(0, "A", "2026-01-01"), (1, "B", "2026-01-01")], 1)
        seen = max(seq for *_, seq in next(store.raw.changed("things", 0)))
        store.save_normalise_cursor("things", seen)
        _stage(store, [(2, "A", "2026-01-02"), (3, "B", "2025-12-31")], 2)  # A changed; B's older copy loses
        changed = [(pk, json.loads(data)["n"]) for rows in store.raw.changed("things", seen) for pk, data, _ in rows]
        assert changed == [("A", 2)]
        assert store.raw.get("things", "A") == {"id": "A", "n": 2}
        assert store.raw.count("things") == 2
    finally:
        store.close()


def test_a_flush_failing_after_superseding_undoes_it(tmp_path, monkeypatch):
    """The staged version is deleted before the new one is appended: a failure between the two (or at commit)
    rolls both back, with the flush's STATE, so no key is ever lost."""
    store = Store(tmp_path / "state.duckdb")
    try:
        with store.db.transaction():
            _stage(store, [(0, "A", "2026-01-01")], 1)
            store.save_source_state("things", {"updated": "2026-01-01"})
        monkeypatch.setattr(raw_module, "_APPEND", "SELECT error('the disk is full')")
        with pytest.raises(duckdb.Error):
            with store.db.transaction():
                _stage(store, [(1, "A", "2026-01-02"), (2, "B", "2026-01-02")], 2)
                store.save_source_state("things", {"updated": "2026-01-02"})
        monkeypatch.undo()
        assert _staged(store) == {"A": ("2026-01-01", 0)}
        assert store.source_state()["things"] == {"updated": "2026-01-01"}
        _stage(store, [(1, "A", "2026-01-02"), (2, "B", "2026-01-02")], 3)  # the next run stages it all
        assert _staged(store) == {"A": ("2026-01-02", 1), "B": ("2026-01-02", 2)}
    finally:
        store.close()


def _old_state_file(path: Path) -> None:
    """A state file as the keyed version wrote it: the store's own tables, and a keyed raw table with rows."""
    Store(path).close()
    con = duckdb.connect(str(path))
    con.execute(OLD_TABLE)
    con.execute("CREATE TABLE raw_others (pk VARCHAR PRIMARY KEY, cursor VARCHAR, data JSON NOT NULL, "
                "join_key VARCHAR, seq BIGINT NOT NULL, run_id BIGINT, staged_at TIMESTAMP NOT NULL)")
    for n, (key, cursor) in enumerate([("A", "2026-01-01"), ("B", None), ("C", "2026-01-03")]):
        con.execute("INSERT INTO raw_things VALUES (?, ?, ?, NULL, nextval('ll_seq'), 1, now())",
                    [key, cursor, json.dumps({"id": key, "n": n})])
    con.execute("INSERT INTO raw_others VALUES ('x', NULL, '{\"id\": \"x\"}', 'A', nextval('ll_seq'), 1, now())")
    con.close()


def _keyed(store: Store) -> list[str]:
    return [r[0] for r in store.db.fetchall(
        "SELECT table_name FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' "
        "AND starts_with(table_name, 'raw_') ORDER BY 1")]


def test_an_old_state_file_with_keyed_raw_tables_migrates_on_open_and_works(tmp_path):
    path = tmp_path / "state.duckdb"
    _old_state_file(path)
    con = duckdb.connect(str(path))
    before = con.execute("SELECT pk, cursor, data, join_key, seq, run_id, staged_at FROM raw_things ORDER BY pk").fetchall()
    con.close()
    store = Store(path)
    try:
        assert _keyed(store) == []  # both raw tables rebuilt without their key …
        after = store.db.fetchall("SELECT pk, cursor, data, join_key, seq, run_id, staged_at FROM raw_things ORDER BY pk")
        assert after == before  # … with the same rows, cursors and staging sequence numbers
        assert store.raw.related("others", ["A"]) == {"A": [("x", {"id": "x"})]}
        assert store.raw.streams() == ["others", "things"]
        # staging goes on under the same rule: newer replaces, older loses, unknown replaces, new keys append
        _stage(store, [(10, "A", "2026-01-02"), (11, "C", "2026-01-02"), (12, "B", "2026-01-01"), (13, "D", None)], 2)
        assert _staged(store) == {"A": ("2026-01-02", 10), "B": ("2026-01-01", 12), "C": ("2026-01-03", 2),
                                  "D": (None, 13)}
        assert store.raw.unkey() == []  # once only
    finally:
        store.close()
    store = Store(path)  # and it opens again as it is
    try:
        assert _keyed(store) == [] and store.raw.count("things") == 4
    finally:
        store.close()


def test_a_migration_that_fails_leaves_the_old_file_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "state.duckdb"
    _old_state_file(path)
    real = raw_module.RawTables.largest

    def failing(self: Any, stream: str) -> int:
        if stream == "things":
            raise duckdb.IOException("the disk is full")
        return real(self, stream)

    monkeypatch.setattr(raw_module.RawTables, "largest", failing)
    with pytest.raises(duckdb.IOException):
        Store(path)
    monkeypatch.undo()
    con = duckdb.connect(str(path))
    try:
        keyed = con.execute("SELECT table_name FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' "
                            "AND starts_with(table_name, 'raw_') ORDER BY 1").fetchall()
        assert keyed == [("raw_others",), ("raw_things",)]  # raw_others was rebuilt, then undone with the rest
        assert con.execute("SELECT count(*) FROM raw_things").fetchone() == (3,)
    finally:
        con.close()


def test_a_sync_over_a_migrated_state_file_stages_re_read_records_by_the_same_rule(tmp_path):
    """End to end through `extract`: an old file's keyed table migrates, a run re-reads every record with a newer
    cursor and adds new ones; each key keeps its newest version once, and the STATE commits with them."""
    import perf_stage_source

    from ledgerlink.runtime.extract import extract

    path = tmp_path / "state.duckdb"
    Store(path).close()
    con = duckdb.connect(str(path))
    con.execute(OLD_TABLE)
    for i in range(30):  # staged by the keyed version: revision 0
        record = perf_stage_source.bulk_record(i, 10)
        con.execute("INSERT INTO raw_things VALUES (?, ?, ?, NULL, nextval('ll_seq'), 1, now())",
                    [str(i), "2026-02-01T00:00:00.000000", json.dumps(record)])
    con.close()
    store = Store(path)
    try:
        counts = extract(perf_stage_source.BulkSource(), {"records": 40, "size": 10, "page": 7, "revision": 5},
                         None, store, run_id=2)
        assert counts["read_total"] == 40 and counts["read_error"] is None
        rows = store.db.fetchall("SELECT pk, data, run_id FROM raw_things ORDER BY seq")
        assert [r[0] for r in rows] == [str(i) for i in range(40)]  # one row per key, in the order read
        assert {json.loads(r[1])["updated"] for r in rows} == {"2026-02-01T00:05:00Z"} and {r[2] for r in rows} == {2}
        assert store.source_state()["things"]["updated"] == "2026-02-01T00:05:00Z"
    finally:
        store.close()
