"""HttpStream fetches the next page while this page's records are handed on: the same requests (built from the
state this page's records leave), the same records, checkpoints and state as reading one page at a time, and a
failing page fails where it did (after the page before it was handed on whole)."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerlink import CHECKPOINT, HttpClient
from ledgerlink.errors import PermanentError
from ledgerlink.http.retry import RetryPolicy
from paged_things import Paged


class OnePageAtATime(Paged):
    prefetch_pages: ClassVar[bool] = False


def _server(pages: list[list[dict[str, Any]]], fail_page: int | None = None):
    seen: list[tuple[str, str]] = []
    threads: set[str] = set()

    def handle(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        seen.append((request.url.params["page"], request.url.params["since"]))
        threads.add(threading.current_thread().name)
        if page == fail_page:
            return httpx.Response(404, json={"errors": [{"code": "NotFound", "message": "no such page"}]})
        body = {"data": pages[page - 1], "next": page + 1 if page < len(pages) else None}
        return httpx.Response(200, json=body)

    return handle, seen, threads


def _read(cls: type[Paged], handle: Any) -> tuple[list[Any], dict[str, Any]]:
    client = HttpClient("https://api.example.com", transport=httpx.MockTransport(handle),
                        retry=RetryPolicy(max_attempts=1), sleep=lambda s: None)
    stream = cls(None, client)
    out = []
    try:
        for item in stream.read_records({}):
            out.append("checkpoint" if item is CHECKPOINT else item)
            if item is CHECKPOINT:
                out.append(dict(stream.state))
    except PermanentError as exc:
        out.append(f"error: {exc.status}")
    return out, stream.state


_record = st.fixed_dictionaries({"id": st.integers(0, 50),
                                 "updated": st.sampled_from(["2026-01-01", "2026-01-03", "2026-01-02"])})


@settings(max_examples=40, deadline=None)
@given(pages=st.lists(st.lists(_record, max_size=4), min_size=1, max_size=6), fail=st.none() | st.integers(1, 6))
def test_reading_ahead_sends_the_same_requests_and_yields_the_same_items(pages, fail):
    ahead, ahead_seen, _ = _server(pages, fail)
    plain, plain_seen, _ = _server(pages, fail)
    assert _read(Paged, ahead) == _read(OnePageAtATime, plain)
    assert ahead_seen == plain_seen


def test_the_next_page_travels_on_another_thread_while_this_one_is_handed_on():
    pages = [[{"id": i, "updated": "2026-01-01"}] for i in range(3)]
    handle, seen, threads = _server(pages)
    client = HttpClient("https://api.example.com", transport=httpx.MockTransport(handle), sleep=lambda s: None)
    items = Paged(None, client).read_records({})
    assert next(items) == {"id": 0, "updated": "2026-01-01"}
    # page 2 was asked for before page 1's first record was taken
    for _ in range(200):
        if len(seen) == 2:
            break
        threading.Event().wait(0.01)
    assert [p for p, _ in seen] == ["1", "2"]
    rest = list(items)
    assert rest.count(CHECKPOINT) == 3 and len(seen) == 3
    assert any(name != threading.main_thread().name for name in threads)


def test_a_post_stream_is_read_one_page_at_a_time():
    class Posted(Paged):
        http_method: ClassVar[str] = "POST"

    pages = [[{"id": 1, "updated": "2026-01-01"}], [{"id": 2, "updated": "2026-01-01"}]]
    handle, seen, threads = _server(pages)
    client = HttpClient("https://api.example.com", transport=httpx.MockTransport(handle), sleep=lambda s: None)
    items = Posted(None, client).read_records({})
    next(items)
    assert len(seen) == 1
    list(items)
    assert threads == {threading.main_thread().name}


def test_request_soon_raises_the_requests_error_when_asked():
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"errors": [{"code": "Unauthorized", "message": "denied"}]})

    client = HttpClient("https://api.example.com", transport=httpx.MockTransport(handle), sleep=lambda s: None)
    pending = client.request_soon("GET", "/x", operation="listThings")
    with pytest.raises(PermanentError, match="denied"):
        pending.result()
