"""The bulk staging path stages what the page-by-page path did: the same rows, the same newest-version rule, the
same STATE; and however records are cut into flushes and statements, the result is the one of taking each
arrival in turn. Also: the fast RECORD message is the pydantic one, and HttpStream's orjson reading is
`response.json()`."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
import perf_stage_source
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerlink import protocol
from ledgerlink.connectors import _response_json
from ledgerlink.runtime import extract as extract_module
from ledgerlink.runtime.extract import _stager, extract
from ledgerlink.store import Store
from ledgerlink.store import raw as raw_module

CURSORS = [None, "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

#: the page-by-page path as it was (39c3228): one upsert and one commit per page, with the page's STATE
_OLD_UPSERT = """
    INSERT INTO {name}
    SELECT pk, cursor, data, join_key, nextval('ll_seq'), 1, now() FROM ll_batch
    QUALIFY row_number() OVER (PARTITION BY pk ORDER BY cursor DESC NULLS LAST) = 1
    ON CONFLICT (pk) DO UPDATE SET cursor = excluded.cursor, data = excluded.data,
        join_key = excluded.join_key, seq = excluded.seq, run_id = excluded.run_id,
        staged_at = excluded.staged_at
    WHERE excluded.cursor IS NULL OR {name}.cursor IS NULL OR excluded.cursor >= {name}.cursor"""


def _old_path(source: Any, config: dict[str, Any], store: Store) -> None:
    stage = _stager(perf_stage_source.Scripted, "things", None)
    name = "raw_things"  # the table as it was then: keyed by its primary key
    store.db.execute(f"""CREATE TABLE IF NOT EXISTS {name} (
        pk VARCHAR PRIMARY KEY, cursor VARCHAR, data JSON NOT NULL, join_key VARCHAR,
        seq BIGINT NOT NULL, run_id BIGINT, staged_at TIMESTAMP NOT NULL)""")
    rows: list[Any] = []
    for message in source.read(config, None, store.source_state()):
        if message.type == protocol.MessageType.RECORD:
            rows.append(stage(message.record.data))
        elif message.type == protocol.MessageType.STATE:
            with store.db.transaction():
                if rows:
                    batch = pa.table({"pk": [r.key for r in rows], "cursor": pa.array([r.cursor for r in rows],
                                                                                      pa.string()),
                                      "data": [r.text for r in rows], "join_key": pa.array([None] * len(rows),
                                                                                           pa.string())})
                    store.db.con.register("ll_batch", batch)
                    store.db.execute(_OLD_UPSERT.format(name=name))
                    store.db.con.unregister("ll_batch")
                st_ = message.state.stream
                store.save_source_state(st_.stream_descriptor.name, st_.stream_state.model_dump())
            rows = []


def _staged(store: Store) -> dict[str, tuple[Any, Any]]:
    if not store.raw.exists("things"):
        return {}
    return {pk: (cursor, json.loads(data)) for pk, cursor, data in
            store.db.fetchall("SELECT pk, cursor, data FROM raw_things")}


def _record(key: int, cursor: str | None, n: int) -> dict[str, Any]:
    return {"id": key, "updated": cursor, "arrival": n}


@st.composite
def distinct_key_pages(draw: Any) -> list[list[dict[str, Any]]]:
    """Pages in which a key appears at most once (where the old path's pick within a page was defined)."""
    pages, n = [], 0
    for _ in range(draw(st.integers(1, 6))):
        keys = draw(st.lists(st.integers(0, 6), unique=True, max_size=5))
        page = []
        for key in keys:
            page.append(_record(key, draw(st.sampled_from(CURSORS)), n))
            n += 1
        pages.append(page)
    return pages


@st.composite
def any_pages(draw: Any) -> list[list[dict[str, Any]]]:
    pages, n = [], 0
    for _ in range(draw(st.integers(1, 5))):
        page = []
        for _ in range(draw(st.integers(0, 8))):
            page.append(_record(draw(st.integers(0, 4)), draw(st.sampled_from(CURSORS)), n))
            n += 1
        pages.append(page)
    return pages


def _staged_text(cursor: str | None) -> str | None:
    return None if cursor is None else extract_module.staged_cursor(perf_stage_source.Scripted, cursor)


def _one_at_a_time(pages: list[list[dict[str, Any]]]) -> dict[str, tuple[Any, Any]]:
    """The staging rule, arrival by arrival: replace when either cursor is unknown or the new one is not older."""
    out: dict[str, tuple[Any, Any]] = {}
    for rec in (r for page in pages for r in page):
        key, cursor = str(rec["id"]), _staged_text(rec["updated"])
        old = out.get(key)
        if old is None or cursor is None or old[0] is None or cursor >= old[0]:
            out[key] = (cursor, rec)
    return out


@pytest.mark.slow
@SETTINGS
@given(first=distinct_key_pages(), second=distinct_key_pages())
def test_bulk_staging_equals_the_page_by_page_path(tmp_path_factory, first, second):
    """Two runs (the second resuming from the first's STATE) stage the same rows and STATE either way."""
    work = tmp_path_factory.mktemp("equal")
    old, new = Store(work / "old.duckdb"), Store(work / "new.duckdb")
    try:
        source = perf_stage_source.ScriptedSource()
        for run, pages in enumerate((first, second), start=1):
            _old_path(source, {"pages": pages}, old)
            report = extract(source, {"pages": pages}, None, new, run_id=run)
            assert report["read_error"] is None
            assert _staged(new) == _staged(old)
            assert new.source_state() == old.source_state()
    finally:
        old.close()
        new.close()


@pytest.mark.slow
@SETTINGS
@given(pages=any_pages(), flush_rows=st.integers(1, 12), statement_chars=st.sampled_from([1, 80, 300, 4 << 20]))
def test_however_records_are_cut_into_batches_the_result_is_one_arrival_at_a_time(
        tmp_path_factory, pages, flush_rows, statement_chars):
    work = tmp_path_factory.mktemp("fold")
    store = Store(work / "state.duckdb")
    with _patched(extract_module, "FLUSH_ROWS", flush_rows), _patched(raw_module, "STATEMENT_CHARS", statement_chars):
        try:
            report = extract(perf_stage_source.ScriptedSource(), {"pages": pages}, None, store, run_id=1)
            assert report["read_error"] is None
            assert _staged(store) == _one_at_a_time(pages)
            # normalise goes through staged records in the order their winning versions arrived
            order = [json.loads(d)["arrival"] for (d,) in store.db.fetchall("SELECT data FROM raw_things ORDER BY seq")] \
                if store.raw.exists("things") else []
            assert order == sorted(order)
        finally:
            store.close()


@pytest.mark.slow
@SETTINGS
@given(pages=distinct_key_pages(), fail_after=st.integers(0, 20), flush_rows=st.integers(1, 6))
def test_a_source_crashing_mid_read_never_commits_a_state_past_what_is_staged(
        tmp_path_factory, pages, fail_after, flush_rows):
    work = tmp_path_factory.mktemp("crash")
    store = Store(work / "state.duckdb")
    with _patched(extract_module, "FLUSH_ROWS", flush_rows):
        try:
            extract(perf_stage_source.ScriptedSource(), {"pages": pages, "fail_after": fail_after}, None, store, 1)
            staged = _staged(store)
            sent = [r for page in pages for r in page][:fail_after]
            # everything sent before the crash is staged (a record is never lost) …
            assert staged == _one_at_a_time([sent])
            # … and the saved STATE is one the source sent after a page whose records are all staged
            saved = store.source_state().get("things")
            covered, states = 0, [None, {}]  # nothing saved, or a STATE before any cursor was seen
            for page in pages:
                covered += len(page)
                if covered > fail_after:
                    break
                known = [c for c in [r["updated"] for p in pages for r in p][:covered] if c is not None]
                if known:
                    states.append({"updated": max(known)})
            assert saved in states
        finally:
            store.close()


@contextlib.contextmanager
def _patched(module: Any, name: str, value: Any):
    before = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, before)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(1 << 70), 1 << 70) | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(value=_json_values)
def test_http_bodies_read_with_orjson_are_what_response_json_reads(value):
    body = json.dumps(value).encode()
    response = httpx.Response(200, content=body)
    assert repr(_response_json(response)) == repr(response.json())


@settings(max_examples=100, deadline=None)
@given(stream=st.text(min_size=1, max_size=10), data=st.dictionaries(st.text(max_size=5), st.integers(-(1 << 63), (1 << 63) - 1) | st.text()),
       emitted_at=st.integers(0, 1 << 45))
def test_the_fast_record_message_is_the_pydantic_one(stream, data, emitted_at):
    fast = protocol.record(stream, data, emitted_at)
    built = protocol.Message.model_construct(type=protocol.MessageType.RECORD, record=protocol.Record.model_construct(
        stream=stream, data=data, emitted_at=emitted_at))
    assert fast == built
    assert fast.model_fields_set == built.model_fields_set and fast.record.model_fields_set == built.record.model_fields_set
    assert protocol.dumps(fast) == protocol.dumps(built)
    assert fast.model_dump(mode="json", exclude_none=True) == built.model_dump(mode="json", exclude_none=True)
    assert protocol.loads(protocol.dumps(fast)).record.data == data
