"""The runtime's write step with several batches in flight (issue 18) gives the one-at-a-time result: every
answer recorded in order, a record waiting on one in flight sent after its answer is recorded, a stop or a
failed batch recording everything already sent, and never more batches in flight than the destination asks."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ledgerlink import Destination, PermanentError, PlannedWrite, WriteResult
from ledgerlink.runtime.load import load
from ledgerlink.store import Store

BOUND_S = 20  # every wait in these tests ends by then: a test that would hang fails instead


class Fake(Destination):
    """Writes `Doc` records (created, Id = key) on the runtime's threads, and says what it saw."""

    name: ClassVar[str] = "fake"
    write_order: ClassVar[list[str]] = ["Ref", "Doc"]
    in_flight_streams: ClassVar[frozenset[str]] = frozenset({"Doc"})
    batch_size = 2

    def __init__(self, store: Store, in_flight: int, fail_batch: int | None = None, overlap: bool = False):
        self.store, self.batches_in_flight, self.fail_batch = store, in_flight, fail_batch
        self.overlap = overlap
        self.lock = threading.Lock()
        self.calls: list[list[str]] = []
        self.now = self.most = 0
        self.done_at_send: dict[str, dict[str, str]] = {}
        self.second_started = threading.Event()

    def open(self, config: Any, context: Any) -> None:
        pass

    def write_batch(self, stream: str, records: list[Any]) -> list[WriteResult]:
        with self.lock:
            self.calls.append([r.key for r in records])
            number = len(self.calls)
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            if number == 2:
                self.second_started.set()
            if number == 1 and self.overlap:
                # the first batch is still being written when the second one starts: they overlap
                assert self.second_started.wait(BOUND_S), "the second batch was not sent while the first was in flight"
            deps = sorted({d for r in records for d in r.data.get("needs", [])})
            self.done_at_send.update({r.key: self.store.outbox.statuses(deps) for r in records})
            if number == self.fail_batch:
                raise PermanentError("the remote refused the whole batch", operation="fake batch")
            return [WriteResult(r.key, destination_id=f"id-{r.key}") for r in records]
        finally:
            with self.lock:
                self.now -= 1


def _outbox(store: Store, writes: list[PlannedWrite]) -> None:
    store.outbox.add("fake", writes, None)


def _docs(n: int, needs: dict[int, int] | None = None) -> list[PlannedWrite]:
    needs = needs or {}
    return [PlannedWrite(stream="Doc", key=f"Doc:{i}", data={"n": i, **(
        {"needs": [f"Doc:{needs[i]}"]} if i in needs else {})},
        depends_on=[f"Doc:{needs[i]}"] if i in needs else []) for i in range(n)]


def _statuses(store: Store) -> dict[str, str]:
    return dict(store.db.fetchall("SELECT key, status FROM outbox"))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "state.duckdb")
    yield s
    s.db.close()


@pytest.mark.parametrize("in_flight", [1, 3])
def test_every_batch_is_recorded_once_in_order(store: Store, in_flight: int):
    _outbox(store, _docs(11))
    fake = Fake(store, in_flight, overlap=in_flight > 1)
    progress: list[int] = []
    counts = load(fake, {}, store, store.runs.start("t", False), progress=lambda _stage, n: progress.append(n))
    assert counts["created"] == {"Doc": 11} and counts["write_error"] is None
    assert [k for call in fake.calls for k in call] == [f"Doc:{i}" for i in range(11)]  # sent in outbox order
    assert [len(c) for c in fake.calls] == [2, 2, 2, 2, 2, 1]
    assert progress == [2, 2, 2, 2, 2, 1]
    assert set(_statuses(store).values()) == {"done"}
    assert dict(store.db.fetchall("SELECT key, destination_id FROM results")) == {
        f"Doc:{i}": f"id-Doc:{i}" for i in range(11)}
    assert fake.most <= in_flight


def test_batches_overlap_but_never_more_than_asked(store: Store):
    _outbox(store, _docs(20))
    fake = Fake(store, 3, overlap=True)
    load(fake, {}, store, store.runs.start("t", False))
    assert 2 <= fake.most <= 3  # the first batch waited for the second: they were in flight together


def test_a_record_waiting_on_one_in_flight_is_sent_after_that_answer_is_recorded(store: Store):
    # Doc:3 (second batch) needs Doc:0 (first batch), Doc:9 (fifth) needs Doc:8 (fifth too: blocked, next pass)
    _outbox(store, _docs(10, needs={3: 0, 9: 8}))
    fake = Fake(store, 4)
    counts = load(fake, {}, store, store.runs.start("t", False))
    assert fake.done_at_send["Doc:3"] == {"Doc:0": "done"}
    assert fake.done_at_send["Doc:9"] == {"Doc:8": "done"}
    assert counts["created"] == {"Doc": 10}
    # as one batch at a time does it: Doc:9 waits for the pass after its own batch
    assert fake.calls[-1] == ["Doc:9"]


def test_a_stop_records_every_batch_already_sent(store: Store):
    _outbox(store, _docs(30))
    fake = Fake(store, 4)
    asked = {"n": 0}

    def should_stop() -> bool:
        asked["n"] += 1
        return asked["n"] > 5

    counts = load(fake, {}, store, store.runs.start("t", False), should_stop=should_stop)
    sent = {k for call in fake.calls for k in call}
    assert counts["stopped"] is True and len(fake.calls) == 5
    assert {k for k, s in _statuses(store).items() if s == "done"} == sent
    assert {k for k, s in _statuses(store).items() if s == "pending"} == {f"Doc:{i}" for i in range(30)} - sent


def test_a_batch_that_fails_whole_stops_the_write_and_the_others_in_flight_are_recorded(store: Store):
    _outbox(store, _docs(30))
    fake = Fake(store, 3, fail_batch=2)
    counts = load(fake, {}, store, store.runs.start("t", False))
    assert "the remote refused the whole batch" in counts["write_error"]
    statuses = _statuses(store)
    failed = set(fake.calls[1])
    sent_ok = {k for call in fake.calls for k in call} - failed
    assert {k for k, s in statuses.items() if s == "done"} == sent_ok
    assert all(statuses[k] == "pending" for k in failed)  # not judged: sent again by the next sync
    assert len(fake.calls) <= 2 + 3  # no batch sent after the failure was seen, beyond those already in flight


def test_streams_not_named_for_flight_go_one_at_a_time(store: Store):
    _outbox(store, [PlannedWrite(stream="Ref", key=f"Ref:{i}", data={}) for i in range(7)])
    fake = Fake(store, 4)
    counts = load(fake, {}, store, store.runs.start("t", False))
    assert counts["created"] == {"Ref": 7} and fake.most == 1
