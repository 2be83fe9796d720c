"""Load: drain the outbox into the destination, batch by batch, recording results and dead letters."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any, Callable

from ..connectors import Destination, WriteContext, WriteResult
from ..errors import LedgerlinkError, RecordError, TransientError
from ..review.gate import hold_for_review
from ..store import Store
from .progress import NO_PROGRESS
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
    the references only they need, stay in the outbox. When `should_stop()` turns true, the batch being written
    is recorded and the write ends (`stopped` in the counts); the rest stays pending for the next sync."""
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
    try:
        # a second pass sends what waited on a document written in the first (a journal's reversal before its
        # new version, in one stream); only those, so a record that failed is not tried twice in one run
        only: set[str] | None = None
        for _pass in range(MAX_PASSES):
            blocked: set[str] = set()
            written_before = sum(created.values()) + sum(existing.values())
            for stream in order:
                for batch in store.outbox.pending(destination.name, stream, destination.batch_size,
                                                   held=gate.held):
                    if only is not None:
                        batch = [(r, ds) for r, ds in batch if r.key in only]
                        if not batch:
                            continue
                    deps = sorted({d for _, ds in batch for d in ds})
                    statuses = store.outbox.statuses(deps)
                    ready = [r for r, ds in batch if all(statuses.get(d) == "done" for d in ds)]
                    blocked.update(r.key for r, ds in batch if not all(statuses.get(d) == "done" for d in ds))
                    if not ready:
                        continue
                    if should_stop():
                        counts["stopped"] = True
                        log.warning("write stopped early, as asked: every batch sent is recorded; the rest is sent "
                                    "by the next sync")
                        return _finish(counts, created, existing, refs, error)
                    # a second stop signal waits until what the destination answered is recorded
                    with shielded():
                        error = _write_and_record(destination, stream, ready, store, run_id, counts, created,
                                                  existing)
                    if error is not None:
                        return _finish(counts, created, existing, refs, error)
                    progress("write", len(ready))
            counts["blocked"] = len(blocked)
            if not blocked or sum(created.values()) + sum(existing.values()) == written_before:
                break
            only = blocked
    finally:
        destination.close()
    return _finish(counts, created, existing, refs, error)


def _write_and_record(destination: Destination, stream: str, ready: list[Any], store: Store, run_id: int,
                      counts: Counter[str], created: Counter[str], existing: Counter[str]) -> str | None:
    """Send one batch and record every answer in one transaction; the error that stopped the whole batch, if
    one did."""
    try:
        results = destination.write_batch(stream, ready)
    except LedgerlinkError as exc:
        # the whole batch failed before any record was judged (auth, company settings, outage)
        error = f"{destination.name} {stream}: {exc}"
        log.error("load stopped: %s", error)
        return error
    by_key = {r.key: r for r in results}
    done: list[tuple[str, str | None, str | None, bool]] = []
    with store.db.transaction():
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
        store.outbox.mark_done(destination.name, stream, done, run_id)
        store.dead_letters.resolve("write", [d[0] for d in done])
    return None


def _finish(counts: Counter[str], created: Counter[str], existing: Counter[str], refs: Any,
            error: str | None) -> dict[str, Any]:
    return {**counts, "created": dict(created), "already_there": dict(existing), "references": refs.count(),
            "write_error": error}
