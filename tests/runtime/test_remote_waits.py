"""A stream that waits for a remote (an Amazon report) says so in its STATE (`remote_waits.WAITING`): the runtime
commits that STATE before the source goes on (a run killed while it waits keeps what it waits for), lists the
stream as waiting while its newest STATE says so, and forgets it once a later STATE does not."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator

from ledgerlink import protocol, waiting_state
from ledgerlink.remote_waits import wait_in_run, wait_in_run_budget
from ledgerlink.runtime import extract as extract_module
from ledgerlink.store import Store

from fakes import FakeSource

UNTIL = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


class WaitingSource(FakeSource):
    """Orders, then a STATE that waits for report 42; `then_done` adds a later STATE whose wait is over."""

    def __init__(self, events: list[str], then_done: bool = False):
        super().__init__()
        self.events, self.then_done = events, then_done

    def read(self, config: dict[str, Any], catalog: Any = None, state: Any = None) -> Iterator[protocol.Message]:
        yield protocol.record("orders", {"id": "O-1", "updated": "2026-01-01T00:00:00Z"})
        yield protocol.state_for_stream("orders", {"updated": "2026-01-01T00:00:00Z",
                                                   "waiting": waiting_state("report 42", UNTIL)})
        self.events.append("source resumed after the waiting STATE")
        if self.then_done:
            yield protocol.state_for_stream("orders", {"updated": "2026-01-02T00:00:00Z"})


def test_a_waiting_state_is_committed_before_the_source_goes_on(tmp_path, monkeypatch):
    events: list[str] = []
    submit = extract_module._Flusher.submit

    def recording_submit(self: Any, batch: Any) -> None:
        for message in batch.states.values():
            if "waiting" in (message.state.stream.stream_state.__pydantic_extra__ or {}):
                events.append("waiting STATE handed to the flusher")
        submit(self, batch)

    monkeypatch.setattr(extract_module._Flusher, "submit", recording_submit)
    store = Store(tmp_path / "state.duckdb")
    try:
        counts = extract_module.extract(WaitingSource(events), {}, ["orders"], store, 1)
        saved = store.source_state()
    finally:
        store.close()
    assert events == ["waiting STATE handed to the flusher", "source resumed after the waiting STATE"]
    assert counts["waiting"] == {"orders": {"for": "report 42", "until": "2026-03-01T12:00:00Z"}}
    assert "waiting" in str(saved) and counts["read"] == {"orders": 1}


def test_a_wait_that_ends_in_the_same_run_is_not_reported(tmp_path):
    store = Store(tmp_path / "state.duckdb")
    try:
        counts = extract_module.extract(WaitingSource([], then_done=True), {}, ["orders"], store, 1)
    finally:
        store.close()
    assert "waiting" not in counts and counts["read_error"] is None


def test_the_wait_budget_is_the_syncs_within_and_none_outside():
    assert wait_in_run_budget() is None
    with wait_in_run(2.5):
        assert wait_in_run_budget() == 2.5
        with wait_in_run(-1):
            assert wait_in_run_budget() == 0.0
    assert wait_in_run_budget() is None
