"""Load: drain the outbox into the destination, batch by batch, recording results and dead letters."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Iterator

from ..connectors import Destination, WriteContext, WriteResult
from ..errors import LedgerlinkError, RecordError, TransientError
from ..review.gate import hold_for_review
from ..store import Store
from .progress import NO_PROGRESS
from . import spill
from .stop import NEVER, shielded

__all__ = ["load", "MAX_ATTEMPTS"]

log = logging.getLogger("ledgerlink.load")

#: a transient failure is retried on this many syncs before the record becomes a dead letter
MAX_ATTEMPTS = 5


#: write passes per run: the second and third only for records that waited on one written in the pass before
MAX_PASSES = 3


def load(destination: Destination, config: Any, store: Store, run_id: int,
         progress: Callable[..., None] = NO_PROGRESS, review: str = "never",
         should_stop: Callable[[], bool] = NEVER) -> dict[str, Any]:
    """Send what is pending; under the pipeline's `review` mode, documents awaiting approval (or rejected), and
    the references only they need, stay in the outbox. When `should_stop()` turns true, the batches being written
    are recorded and the write ends (`stopped` in the counts); the rest stays pending for the next sync."""
    counts: Counter[str] = Counter()
    created: Counter[str] = Counter()
    existing: Counter[str] = Counter()
    refs = store.references(destination.name)
    context = WriteContext(references=refs, save_credential=store.credentials.save,
                           load_credential=store.credentials.load)
    gate = hold_for_review(store, destination.name, review, run_id)
    counts["awaiting_approval"] = gate.awaiting
    if gate.rejected:
        counts["rejected_in_review"] = gate.rejected
    pending = store.outbox.streams_pending(destination.name)
    order = list(destination.write_order) + sorted(s for s in pending if s not in destination.write_order)
    error: str | None = None
    destination.open(config, context)
    sender = _Sender(destination, store, run_id, counts, created, existing, progress)
    try:
        # a second pass sends what waited on a document written in the first (a journal's reversal before its
        # new version, in one stream); only those, so a record that failed is not tried twice in one run
        only: spill.SpilledKeys | None = None
        for _pass in range(MAX_PASSES):
            blocked = spill.SpilledKeys()  # held a few thousand at a time: a million blocked records spill to disk
            written_before = sum(created.values()) + sum(existing.values())
            for stream in order:
                window = sender.window(stream)
                # dependencies seen done while writing this stream (a receipt's customer and items, shared by
                # thousands of receipts) are not asked about again for every batch
                done_deps: set[str] = set()
                for batch in _batches(store.outbox.pending(destination.name, stream, destination.batch_size * window,
                                                           held=gate.held), destination.batch_size):
                    if only is not None:
                        batch = [(r, ds) for r, ds in batch if r.key in only]
                        if not batch:
                            continue
                    deps = sorted({d for _, ds in batch for d in ds})
                    if sender.waits_on(deps):  # a record needs one still in flight: its answer decides
                        error = sender.drain()
                        if error is not None:
                            return _finish(counts, created, existing, refs, error)
                    statuses = dict.fromkeys([d for d in deps if d in done_deps], "done")
                    statuses.update(store.outbox.statuses([d for d in deps if d not in done_deps]))
                    if len(done_deps) > spill.HELD:  # a cache, not a record: per-buyer customers would grow it with N
                        done_deps.clear()
                    done_deps.update(d for d, status in statuses.items() if status == "done")
                    ready = [r for r, ds in batch if all(statuses.get(d) == "done" for d in ds)]
                    blocked.add_many(r.key for r, ds in batch if not all(statuses.get(d) == "done" for d in ds))
                    if not ready:
                        continue
                    if should_stop():
                        error = sender.drain()
                        counts["stopped"] = True
                        log.warning("write stopped early, as asked: every batch sent is recorded; the rest is sent "
                                    "by the next sync")
                        return _finish(counts, created, existing, refs, error)
                    error = sender.send(stream, ready, window)
                    if error is not None:
                        return _finish(counts, created, existing, refs, error)
                # the next stream refers to this one's objects (a receipt to its customer): all recorded first
                error = sender.drain()
                if error is not None:
                    return _finish(counts, created, existing, refs, error)
            counts["blocked"] = len(blocked)
            if not blocked or sum(created.values()) + sum(existing.values()) == written_before:
                break
            only = blocked
    finally:
        try:
            sender.close()
        finally:
            destination.close()
    return _finish(counts, created, existing, refs, error)


def _batches(pages: Iterator[list[Any]], size: int) -> Iterator[list[Any]]:
    """Pages of the outbox cut into batches of `size` (a page holds as many batches as may be in flight)."""
    for page in pages:
        for start in range(0, len(page), size):
            yield page[start:start + size]


class _Sender:
    """Batches on their way to the destination, recorded in the order they were sent.

    One at a time unless the destination asks for more (`batches_in_flight`, and `in_flight_streams` naming
    the streams it can write concurrently): then up to that many `write_batch` calls run on threads while this
    thread reads the next batch from the outbox and records the answered ones, so a batch's look-ups and its
    call overlap the one before (issue 18: QBO posting was latency-bound). Every answer is still recorded in
    its own transaction, in order, by this thread; a stop, an error or the end of a stream waits for every
    batch in flight and records it first (what was posted is never left unrecorded when a record can be made).
    While any batch is in flight a second stop signal waits (`shielded`), as it does for a single batch."""

    def __init__(self, destination: Destination, store: Store, run_id: int, counts: Counter[str],
                 created: Counter[str], existing: Counter[str], progress: Callable[..., None]):
        self.destination, self.store, self.run_id = destination, store, run_id
        self.counts, self.created, self.existing, self.progress = counts, created, existing, progress
        self.most = max(1, int(getattr(destination, "batches_in_flight", 1) or 1))
        self._pool: ThreadPoolExecutor | None = None
        self._flying: list[tuple[str, list[Any], Future[list[WriteResult]]]] = []
        self._keys: set[str] = set()
        self._shield = contextlib.ExitStack()

    def window(self, stream: str) -> int:
        """How many batches of `stream` may be in flight at once."""
        streams = getattr(self.destination, "in_flight_streams", None)
        return self.most if streams is not None and stream in streams else 1

    def waits_on(self, keys: list[str]) -> bool:
        return bool(self._keys) and any(k in self._keys for k in keys)

    def send(self, stream: str, ready: list[Any], window: int) -> str | None:
        """Send one batch; record the oldest ones while more than `window - 1` are in flight."""
        if window <= 1 and not self._flying:
            with shielded():
                error = self._record([(stream, ready, _call(self.destination.write_batch, stream, ready))])
            return error
        if not self._flying:
            self._shield.enter_context(shielded())
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.most, thread_name_prefix="ledgerlink-write")
        # in the run's log context (a copy each: one context cannot be entered by two threads at once), so the
        # lines a batch logs name the pipeline and run as the main thread's do
        context = contextvars.copy_context()
        self._flying.append((stream, ready, self._pool.submit(context.run, self.destination.write_batch, stream,
                                                              ready)))
        self._keys.update(r.key for r in ready)
        while len(self._flying) >= window:
            error = self._record_oldest()
            if error is not None:
                self.drain()  # what is in flight is recorded too; the first error is the one to tell
                return error
        return None

    def drain(self) -> str | None:
        """Record every batch in flight; the first error that stopped a whole batch, if one did."""
        first: str | None = None
        try:
            while self._flying:
                error = self._record_oldest()
                first = first or error
        finally:
            if not self._flying:
                self._shield.close()
        return first

    def _record_oldest(self) -> str | None:
        """Record the oldest batch in flight (waiting for its answer) and every later one already answered, in
        one transaction: a commit per batch was most of the main thread's time (issue 18)."""
        group = [self._flying[0]]
        for item in self._flying[1:]:
            if not item[2].done():
                break
            group.append(item)
        try:
            answers = [(stream, ready, _wait(future)) for stream, ready, future in group]
            return self._record(answers)
        finally:
            del self._flying[:len(group)]
            for _, ready, _ in group:
                self._keys.difference_update(r.key for r in ready)
            if not self._flying:
                self._shield.close()

    def _record(self, answers: "list[tuple[str, list[Any], list[WriteResult] | LedgerlinkError]]") -> str | None:
        error = _record(self.destination, answers, self.store, self.run_id, self.counts, self.created,
                        self.existing)
        for _, ready, answer in answers:
            if not isinstance(answer, LedgerlinkError):
                self.progress("write", len(ready))
        return error

    def close(self) -> None:
        """Wait for whatever is still running (an exception is on its way up): nothing is closed under it."""
        try:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
        finally:
            self._flying.clear()
            self._keys.clear()
            self._shield.close()


def _call(write: Callable[[str, list[Any]], list[WriteResult]], stream: str,
          ready: list[Any]) -> "list[WriteResult] | LedgerlinkError":
    """The destination's answer for a batch, or the error that stopped the whole batch."""
    try:
        return write(stream, ready)
    except LedgerlinkError as exc:
        return exc


def _wait(future: "Future[list[WriteResult]]") -> "list[WriteResult] | LedgerlinkError":
    try:
        return future.result()
    except LedgerlinkError as exc:
        return exc


def _record(destination: Destination, answers: "list[tuple[str, list[Any], list[WriteResult] | LedgerlinkError]]",
            store: Store, run_id: int, counts: Counter[str], created: Counter[str],
            existing: Counter[str]) -> str | None:
    """Record answered batches (in the order they were sent) in one transaction; the first error that stopped a
    whole batch, if one did (the others are recorded all the same)."""
    first: str | None = None
    done: dict[str, list[tuple[str, str | None, str | None, bool]]] = {}
    with store.db.transaction():
        for stream, ready, answer in answers:
            if isinstance(answer, LedgerlinkError):
                # the whole batch failed before any record was judged (auth, company settings, outage)
                error = f"{destination.name} {stream}: {answer}"
                log.error("load stopped: %s", error)
                first = first or error
                continue
            done.setdefault(stream, []).extend(
                _record_batch(destination, stream, ready, answer, store, run_id, counts, created, existing))
        for stream, written in done.items():  # the group's successes in one statement per stream
            store.outbox.mark_done(destination.name, stream, written, run_id)
            store.dead_letters.resolve("write", [d[0] for d in written])
    return first


def _record_batch(destination: Destination, stream: str, ready: list[Any], results: list[WriteResult],
                  store: Store, run_id: int, counts: Counter[str], created: Counter[str],
                  existing: Counter[str]) -> list[tuple[str, str | None, str | None, bool]]:
    """One batch's failures recorded (inside the caller's transaction); its successes, for the caller to
    record: (key, destination id, version, created)."""
    by_key = {r.key: r for r in results}
    done: list[tuple[str, str | None, str | None, bool]] = []
    for rec in ready:
        result = by_key.get(rec.key) or WriteResult(
            rec.key, error=TransientError(f"{destination.name} returned no result for {rec.key}"),
            retry=True)
        if result.ok and result.awaiting:
            store.outbox.mark(rec.key, "awaiting", attempt=True)
            counts["awaiting_confirmation"] += 1
            continue
        if result.ok:
            done.append((rec.key, result.destination_id, result.version, result.created))
            (created if result.created else existing)[stream] += 1
            continue
        err = result.error or RecordError("unknown failure")
        if result.retry and rec.attempts + 1 < MAX_ATTEMPTS:
            store.outbox.mark(rec.key, "pending", attempt=True)
            counts["retry_later"] += 1
            continue
        store.outbox.mark(rec.key, "dead", attempt=True)
        store.dead_letters.add(stage="write", stream=stream, record_key=rec.key, record=rec.data,
                               error=err, run_id=run_id)
        counts["write_dead_letters"] += 1
    return done


def _finish(counts: Counter[str], created: Counter[str], existing: Counter[str], refs: Any,
            error: str | None) -> dict[str, Any]:
    return {**counts, "created": dict(created), "already_there": dict(existing), "references": refs.count(),
            "write_error": error}
