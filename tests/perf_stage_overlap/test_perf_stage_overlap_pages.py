"""A paged HTTP stream's records reach staging a page at a time (RecordPage, no RECORD message each) when the
source reads with Source's own loop: the staged rows (keys, cursors, texts, arrival order), the saved state, the
dead letters and the counts are those of the one-message-per-record path, on hypothesis-made pages with
missing keys, repeated keys and older cursors; a stop asked for mid-page stops there, as before."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from ledgerlink import HttpClient, Source, Stream
from ledgerlink.connectors import RecordPage
from ledgerlink.runtime import extract as extract_module
from ledgerlink.runtime.extract import extract
from ledgerlink.store import Store
from paged_things import Paged


class ThingsAsText(Paged):
    stage_text: ClassVar[bool] = True


class PagesConfig(BaseModel):
    pages: list[list[dict[str, Any]]]
    text: bool = False


class PagedSource(Source):
    name: ClassVar[str] = "paged_things"
    config_model: ClassVar[type[BaseModel]] = PagesConfig

    def stream_classes(self) -> list[type[Stream]]:
        return [Paged]

    def streams(self, config: PagesConfig) -> list[Stream]:
        pages = config.pages

        def handle(request: httpx.Request) -> httpx.Response:
            n = int(request.url.params["page"])
            body = {"data": pages[n - 1] if n <= len(pages) else [], "next": n + 1 if n < len(pages) else None}
            return httpx.Response(200, content=json.dumps(body).encode())

        client = HttpClient("https://api.example.com", transport=httpx.MockTransport(handle), sleep=lambda s: None)
        return [(ThingsAsText if config.text else Paged)(config, client)]


class OneByOneSource(PagedSource):
    """The same source with a `read` of its own: the runtime then takes a RECORD message per record."""

    def read(self, config: dict[str, Any], catalog: Any = None, state: Any = None) -> Any:
        yield from super().read(config, catalog, state)


def _staged(store: Store) -> dict[str, Any]:
    rows = store.db.fetchall("SELECT pk, cursor, data FROM raw_things ORDER BY seq") if store.raw.exists("things") \
        else []
    letters = [(d.stream, d.record_key, d.message, d.record) for d in store.dead_letters.list()]
    return {"rows": [(pk, cursor, json.loads(data)) for pk, cursor, data in rows], "state": store.source_state(),
            "letters": letters}


def _run(source: Source, config: dict[str, Any], tmp_path, name: str, **kwargs: Any) -> tuple[dict, dict]:
    store = Store(tmp_path / f"{name}.duckdb")
    try:
        counts = extract(source, config, None, store, 1, **kwargs)
        return counts, _staged(store)
    finally:
        store.close()


record = st.fixed_dictionaries(
    {"id": st.integers(1, 6), "updated": st.sampled_from(["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"]),
     "amount": st.sampled_from(["1.10", "20.00"])},
    optional={"note": st.text(max_size=4)})
missing_key = st.fixed_dictionaries({"updated": st.just("2026-03-01T00:00:00Z")})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pages=st.lists(st.lists(record | missing_key, max_size=5), min_size=1, max_size=4), text=st.booleans())
def test_pages_stage_what_one_record_at_a_time_stages(tmp_path_factory, pages, text):
    tmp_path = tmp_path_factory.mktemp("pages")
    config = {"pages": pages, "text": text}
    paged_counts, paged = _run(PagedSource(), config, tmp_path, "paged")
    one_counts, one = _run(OneByOneSource(), config, tmp_path, "one")
    assert paged == one
    assert {k: v for k, v in paged_counts.items()} == {k: v for k, v in one_counts.items()}
    assert paged_counts["read_dead_letters"] == sum(1 for p in pages for r in p if "id" not in r)


def test_the_runtime_is_handed_pages_and_anyone_else_records(tmp_path, monkeypatch):
    pages = [[{"id": i, "updated": "2026-01-01T00:00:00Z"} for i in range(p * 3, p * 3 + 3)] for p in range(3)]
    seen: list[type] = []
    real = extract_module._stager

    def watching(cls, stream, join_field):
        stage = real(cls, stream, join_field)
        return lambda data: (seen.append(type(data)), stage(data))[1]

    monkeypatch.setattr(extract_module, "_stager", watching)
    source = PagedSource()
    handed: list[Any] = []
    read = source.read

    def spying(*args: Any) -> Any:
        for item in read(*args):
            handed.append(item)
            yield item

    monkeypatch.setattr(source, "read", spying)  # an instance attribute: type(source).read is still Source's
    counts, staged = _run(source, {"pages": pages}, tmp_path, "paged")
    assert counts["read_total"] == 9 and [r[0] for r in staged["rows"]] == [str(i) for i in range(9)]
    assert sum(type(m) is RecordPage for m in handed) == 3
    assert not source.hand_pages  # put back after the read: `read` outside the runtime yields messages
    messages = list(PagedSource().read({"pages": pages}))
    assert not any(type(m) is RecordPage for m in messages)
    assert sum(m.type.value == "RECORD" for m in messages) == 9


def test_a_stop_asked_for_mid_page_stops_there_and_the_next_run_reads_the_page_again(tmp_path, monkeypatch):
    monkeypatch.setattr(extract_module, "FLUSH_ROWS", 2)
    pages = [[{"id": i, "updated": f"2026-01-0{p + 1}T00:00:00Z"} for i in range(p * 4, p * 4 + 4)]
             for p in range(3)]
    store = Store(tmp_path / "state.duckdb")
    try:
        counts = extract(PagedSource(), {"pages": pages}, None, store, 1, should_stop=lambda: True)
        assert counts.get("stopped") and counts["read_total"] == 2  # the first flush, half-way through page 1
        assert store.db.fetchall("SELECT count(*) FROM raw_things") == [(2,)]
        assert store.source_state() == {}  # the first page's STATE never came: the next run reads it again
        again = extract(PagedSource(), {"pages": pages}, None, store, 2)
        assert again["read_total"] == 12
        assert sorted(int(r[0]) for r in store.db.fetchall("SELECT pk FROM raw_things")) == list(range(12))
    finally:
        store.close()
