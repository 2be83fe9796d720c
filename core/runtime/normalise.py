"""Normalise staged records into canonical objects, and plan each object's writes into the outbox."""

from __future__ import annotations

import contextlib
import gc
import importlib
import itertools
import logging
from collections import Counter
from typing import Any, Callable, Iterator

from pydantic import ValidationError

from .. import jsonutil
from ..columnar import ColumnarBatches  # issue 18, columnar fast path
from ..commerce import CanonicalObject, SourceRef
from ..connectors import Destination, Normaliser, PlannedWrite, PostedDocument, Source, StoreContext
from ..errors import ConfigError, LedgerlinkError, RecordError
from ..mapping import MappingEngine
from ..store import Store
from ..store.key_scope import KeyScope, recorded_key_scope, settle_key_scope
from ..store.record_text import find_problem, has_nonfinite
from .plan_workers import COLUMNAR_PARENT_SHARE, FIXED_SHARE, MIN_SHARE, PARENT_SHARE, PlanHelper
from .posted import PostedLookup
from .progress import NO_PROGRESS
from .spill import RunMemo
from .stop import NEVER

__all__ = ["normalise_and_plan", "PlanContextImpl", "mapping_engine", "resolve_normalisers", "pipeline_key_scope",
           "stamp_normalisers", "store_context", "with_store_context"]

log = logging.getLogger("ledgerlink.normalise")


class PlanContextImpl:
    """The PlanContext a destination's `plan` receives."""

    def __init__(self, engine: MappingEngine, options: dict[str, Any], *, store: Store | None = None,
                 destination: str | None = None):
        self.engine = engine
        self.options = options
        # what plans keep for the run; the payloads of run-memoised writes (one Customer per buyer) are held a
        # few thousand at a time, the rest spilled to disk and read back on a miss (`spill.RunMemo`)
        self.cache: dict[Any, Any] = RunMemo()
        self._store, self._destination = store, destination
        self._posted = PostedLookup(store.db if store is not None else None, destination)

    @property
    def store(self) -> Store | None:
        """The pipeline's state file: a plan that keeps a running ledger (cost-of-goods lots) reads it."""
        return self._store

    def render(self, template: str, record_key: str | None = None, **variables: Any) -> Any:
        return self.engine.render(template, record_key, options=self.options, **variables)

    def posted(self, natural_key: str) -> list[PostedDocument]:
        """The destination's outbox rows for a natural key, with what this batch planned on top (as pending).
        Read per batch (`begin_batch`), not held for the run: memory stays flat however many orders run."""
        return self._posted.get(natural_key)

    def refunds_of(self, order_key: str) -> list[PostedDocument]:
        """What this destination planned or posted as refunds of an order (the over-refund check counts them)."""
        return self._posted.refunds_of(order_key)

    def begin_batch(self, natural_keys: list[str]) -> None:
        """Read what the outbox holds for a batch's objects in one query (a query per object would cost a
        round trip per order)."""
        self._posted.prefetch(natural_keys)

    def end_batch(self) -> None:
        """The batch is committed to the outbox: forget its rows."""
        self._posted.end_batch()

    def posted_snapshot(self, natural_keys: list[str]) -> dict[str, list[PostedDocument]]:
        """What `posted` answers for each of these keys now (read in `begin_batch`), to hand to a helper."""
        return {key: self._posted.get(key) for key in natural_keys}

    def remember(self, writes: list[PlannedWrite]) -> None:
        """Writes just planned become visible to `posted` until their batch is committed (as pending)."""
        self._posted.remember(writes)


def mapping_engine(destination: Destination, overrides: dict[str, str], base_dir: Any,
                   extensions: list[tuple[str, Callable[..., Any], str]] | None = None, *,
                   native: bool = True) -> MappingEngine:
    """The destination's default mappings, with the pipeline's override files on top. `native=False` renders
    every default template in the sandbox even where a native mapping stands for it (the reference path)."""
    from pathlib import Path

    engine = MappingEngine(extensions=extensions, native=native)
    for name, where in destination.mappings.items():
        if isinstance(where, (str, Path)):
            engine.add_file(name, where)
        else:
            engine.add_resource(name, *where)
    for name, path in overrides.items():
        p = Path(path)
        p = p if p.is_absolute() else Path(base_dir) / p
        if not p.exists():
            raise ConfigError(f"mapping file {p} does not exist", where=f"destination.mappings.{name}")
        if name not in destination.mappings:
            raise ConfigError(f"{destination.name} has no mapping named {name!r}", where=f"destination.mappings.{name}",
                              hint=f"mappings: {', '.join(sorted(destination.mappings))}")
        engine.add_file(name, p)
    return engine


def resolve_normalisers(source: Source, overrides: dict[str, str]) -> list[Normaliser]:
    """The source's normalisers, with a user's `module:function` replacing one by stream name."""
    out = []
    for n in source.normalisers():
        spec = overrides.get(n.stream)
        if spec:
            module, _, attr = spec.partition(":")
            try:
                func = getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as exc:
                raise ConfigError(f"cannot import {spec!r}: {exc}", where=f"source.normalise.{n.stream}") from None
            n = Normaliser(stream=n.stream, function=func, join=n.join)  # a user's: (record, related)
        out.append(n)
    unknown = set(overrides) - {n.stream for n in source.normalisers()}
    if unknown:
        raise ConfigError(f"source {source.name} normalises no stream named {', '.join(sorted(unknown))}",
                          where="source.normalise")
    return out


def pipeline_key_scope(pipeline: Any, source: Source, store: Store, *, record: bool = True) -> KeyScope:
    """The store a pipeline reads (`source.store`, else the source's `store_id`) and its state file's key
    scope: settled and recorded before a sync plans (`record`), only read back for `reconcile`."""
    store_id = pipeline.source.store or source.store_id(source.parse_config(pipeline.source.config,
                                                                           where="source.config"))
    if record:
        return settle_key_scope(store.db, store_id, pipeline.source.key_scope)
    return recorded_key_scope(store.db, store_id)


def store_context(pipeline: Any, source: Source, store: Store) -> StoreContext:
    """The store's context for this run's normalisers: its id, and what the source says about it (read once,
    after the source's records are staged)."""
    config = source.parse_config(pipeline.source.config, where="source.config")
    found = dict(source.store_context(config, store.raw.get) or {})
    return StoreContext(store=pipeline.source.store or source.store_id(config), currency=found.pop("currency", None),
                        marketplace=found.pop("marketplace", None), values=found)


def with_store_context(normalisers: list[Normaliser], context: StoreContext) -> list[Normaliser]:
    """The normalisers that asked for the store's context, with it bound (the others as they are)."""
    return [n.with_context(context) for n in normalisers]


def stamp_normalisers(normalisers: list[Normaliser], scope: KeyScope) -> list[Normaliser]:
    """The same normalisers, each object they return stamped with the pipeline's store (and key scope), so
    every path that normalises (sync, reconcile) forms the same keys."""
    if scope.store is None:
        return normalisers

    def stamped(function: Callable[..., Any]) -> Callable[..., list[CanonicalObject]]:
        def run(record: dict[str, Any], related: dict[str, list[dict[str, Any]]],
                *context: StoreContext) -> list[CanonicalObject]:
            objects = list(function(record, related, *context))
            for obj in objects:
                obj.stamp_store(scope.store, in_key=scope.in_key)
            return objects
        run.__wrapped__ = function  # type: ignore[attr-defined]  # columnar fast path: which normaliser, which keys
        run.key_scope = scope  # type: ignore[attr-defined]
        return run

    return [Normaliser(stream=n.stream, function=stamped(n.function), join=n.join, needs_context=n.needs_context)
            for n in normalisers]


def _error_for(exc: Exception, stream: str, key: str) -> LedgerlinkError:
    if isinstance(exc, LedgerlinkError):
        return exc
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        return RecordError(err["msg"], stream=stream, key=key, field=field,
                           hint="the record does not fit the canonical model; check the source data or the normaliser")
    return RecordError(f"{type(exc).__name__}: {exc}", stream=stream, key=key,
                       hint="the normaliser failed on this record; see `ledgerlink dlq show` for the record")


def normalise_and_plan(normalisers: list[Normaliser], destination: Destination, ctx: PlanContextImpl, store: Store,
                       run_id: int, *, progress: Callable[..., None] = NO_PROGRESS, batch: int = 2000,
                       workers: int | None = None, should_stop: Callable[[], bool] = NEVER) -> dict[str, Any]:
    """Normalise what each normaliser's stream staged since its cursor and plan it into the outbox, `batch`
    records at a time, each batch in one transaction with its dead letters and the cursor. When `should_stop()`
    turns true, the batch in hand commits and planning ends (`stopped` in the counts; the cursor says where).

    `workers`: 2 plans half of each batch in a helper process (for destinations that allow it, see
    `plan_workers`), 1 plans in this process only; None decides from the cores this process may use and
    `LEDGERLINK_PLAN_WORKERS`. Either way the outbox, audit rows and dead letters are the same."""
    with _fewer_collections():
        return _normalise_and_plan(normalisers, destination, ctx, store, run_id, progress=progress, batch=batch,
                                   workers=workers, should_stop=should_stop)


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while planning. Each order allocates thousands of short-lived
    objects, so the default threshold (700) collected every few orders, a quarter of the stage's CPU time; a
    batch's objects are freed by reference counting anyway. The threshold is put back afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], 50_000), max(before[1], 20), max(before[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _normalise_and_plan(normalisers: list[Normaliser], destination: Destination, ctx: PlanContextImpl,
                        store: Store, run_id: int, *, progress: Callable[..., None], batch: int,
                        workers: int | None, should_stop: Callable[[], bool] = NEVER) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    if ctx is not None and isinstance(ctx.cache, RunMemo):  # before the helper forks: its copy is bounded too
        ctx.cache.bound(getattr(destination, "run_memoised_streams", ()) or ())
    helper = (PlanHelper.start(destination, normalisers, ctx, workers, before_fork=store.db.release_memory)
              if ctx is not None else None)
    try:
        for index, n in enumerate(normalisers):
            cursor = store.normalise_cursor(n.stream)
            columnar = ColumnarBatches.start(n, destination, ctx, store)  # issue 18: None = reference path only
            shared = _Ahead(helper, index) if columnar is not None and helper is not None else None
            batches = store.raw.changed(n.stream, cursor, batch)
            for rows in (shared.batches(batches) if shared is not None else batches):
                if shared is not None and len(rows) >= 2 * MIN_SHARE:  # issue 18
                    writes, dead, resolved = _plan_shared_columnar(shared, columnar, rows, ctx, counts, kinds)
                    # the next batch's part goes to the helper now (if it has not yet), so it works on it while
                    # this process writes this batch to the outbox (`_Ahead`)
                    shared.send_ahead()
                elif columnar is not None:  # columnar fast path, the reference path for what it declines
                    writes, dead, resolved = columnar.plan(rows, counts, kinds, plan_normalised, normalise_records,
                                                           natural_keys)
                elif helper is not None and not n.join and len(rows) >= 2 * MIN_SHARE:
                    writes, dead, resolved = _plan_shared(helper, index, n, rows, destination, ctx, counts, kinds)
                else:
                    writes, dead, resolved = _plan_here(n, rows, destination, ctx, store, counts, kinds)
                with store.db.transaction():
                    outcome = store.outbox.add(destination.name, writes, run_id)
                    for stage, key, rec, err in dead:
                        store.dead_letters.add(stage=stage, stream=n.stream, record_key=key, record=rec, error=err,
                                               run_id=run_id)
                    for stage in ("normalise", "plan"):
                        store.dead_letters.resolve(stage, [k for st, k in resolved if st == stage])
                    store.save_normalise_cursor(n.stream, rows[-1][2])
                if ctx is not None:
                    ctx.end_batch()
                counts["planned_new"] += outcome.new
                counts["planned_unchanged"] += outcome.unchanged
                counts["planned_replaced"] += outcome.replaced
                counts["changed_after_posting"] += outcome.revised
                counts["normalise_dead_letters"] += sum(1 for d in dead if d[0] == "normalise")
                counts["plan_dead_letters"] += sum(1 for d in dead if d[0] == "plan")
                progress("normalise", len(rows))
                if should_stop():
                    return {**counts, "objects": dict(kinds), "stopped": True}
    finally:
        if helper is not None:
            helper.stop()
    return {**counts, "objects": dict(kinds)}


Dead = tuple[str, str, Any, LedgerlinkError]
Normalised = tuple[str, Any, Any, list[SourceRef]]


def _plan_here(n: Normaliser, rows: list[tuple[str, str, int]], destination: Destination, ctx: PlanContextImpl | None,
               store: Store | None, counts: Counter[str], kinds: Counter[str]
               ) -> tuple[list[PlannedWrite], list[Dead], list[tuple[str, str]]]:
    """Normalise and plan one batch in this process (the reference path)."""
    records = [(pk, jsonutil.loads(data)) for pk, data, _ in rows]
    related: dict[str, dict[str, list[tuple[str, dict[str, Any]]]]] = {}
    for other, (_, this_field) in n.join.items():
        keys = sorted({str(r.get(this_field)) for _, r in records if r.get(this_field) is not None})
        related[other] = store.raw.related(other, keys) if store is not None else {}
    normalised = normalise_records(n, records, related)
    if ctx is not None:
        ctx.begin_batch(natural_keys(normalised))
    return plan_normalised(n, normalised, destination, ctx, counts, kinds)


def normalise_records(n: Normaliser, records: list[tuple[str, dict[str, Any]]],
                      related: dict[str, dict[str, list[tuple[str, dict[str, Any]]]]]) -> list[Normalised]:
    """Each record's canonical objects and source refs, or the error that makes it a dead letter."""
    normalised: list[Normalised] = []
    for pk, rec in records:
        rel_rows = {other: related[other].get(str(rec.get(this_field)), [])
                    for other, (_, this_field) in n.join.items()}
        try:
            objects = n.run(rec, {o: [d for _, d in rows_] for o, rows_ in rel_rows.items()})
        except Exception as exc:  # a normaliser is plugin or user code: one bad record never stops the run
            normalised.append((pk, rec, _error_for(exc, n.stream, pk), []))
            continue
        refs = [SourceRef(stream=n.stream, key=pk)] + [SourceRef(stream=o, key=k)
                                                       for o, rows_ in rel_rows.items() for k, _ in rows_]
        normalised.append((pk, rec, objects, refs))
    return normalised


def natural_keys(normalised: list[Normalised]) -> list[str]:
    """The natural keys of the objects normalised (what the outbox is asked about before planning)."""
    return [obj.natural_key for _, _, objects, _ in normalised if not isinstance(objects, LedgerlinkError)
            for obj in objects]


def plan_normalised(n: Normaliser, normalised: list[Normalised], destination: Destination,
                    ctx: PlanContextImpl | None, counts: Counter[str], kinds: Counter[str]
                    ) -> tuple[list[PlannedWrite], list[Dead], list[tuple[str, str]]]:
    """Plan the normalised objects in order: their writes, dead letters and the keys they resolve."""
    writes: list[PlannedWrite] = []
    dead: list[Dead] = []
    resolved: list[tuple[str, str]] = []
    checked: dict[int, Any] = {}  # payloads already found storable (a memoised Customer is one dict, many writes)
    for pk, rec, objects, refs in normalised:
        if isinstance(objects, LedgerlinkError):
            dead.append(("normalise", pk, rec, objects))
            continue
        resolved.append(("normalise", pk))
        for obj in objects:
            counts["normalised"] += 1
            kinds[obj.kind] += 1
            if not obj.source_refs:
                obj.source_refs = refs
            try:
                planned = list(destination.plan(obj, ctx))
                for w in planned:
                    if checked.get(id(w.data)) is not w.data:
                        _check_payload(w, obj.kind, obj.natural_key)
                        checked[id(w.data)] = w.data
            except Exception as exc:
                dead.append(("plan", obj.natural_key, _dumpable(obj), _error_for(exc, obj.kind, obj.natural_key)))
                continue
            if not planned:
                counts["not_posted"] += 1
            for w in planned:
                w.natural_key = w.natural_key or obj.natural_key
            if ctx is not None:
                ctx.remember(planned)
            writes.extend(planned)
            resolved.append(("plan", obj.natural_key))
    return writes, dead, resolved


def _plan_shared(helper: "PlanHelper", index: int, n: Normaliser, rows: list[tuple[str, str, int]],
                 destination: Destination, ctx: PlanContextImpl, counts: Counter[str], kinds: Counter[str]
                 ) -> tuple[list[PlannedWrite], list[Dead], list[tuple[str, str]]]:
    """Normalise and plan one batch on two cores: the helper process takes the second part, this process the
    first; the parts are joined in record order, as `_plan_here` would have planned them. This process also
    writes the outbox, so it takes the smaller part (`PARENT_SHARE`)."""
    half = int(len(rows) * PARENT_SHARE)
    mine, theirs = rows[:half], rows[half:]
    sent = helper.normalise(index, theirs)
    normalised = normalise_records(n, [(pk, jsonutil.loads(data)) for pk, data, _ in mine], {})
    my_keys = natural_keys(normalised)
    their_keys = helper.natural_keys() if sent else None
    ctx.begin_batch(my_keys + (their_keys or []))
    planning = False
    if their_keys is not None and not set(their_keys) & set(my_keys):
        planning = helper.plan(ctx.posted_snapshot(their_keys))
    elif their_keys is not None:
        helper.discard()
    first = plan_normalised(n, normalised, destination, ctx, counts, kinds)
    second = helper.planned(counts, kinds) if planning else None
    if second is None:  # the helper could not plan these (see PlanHelper): plan them here, as before
        records = [(pk, jsonutil.loads(data)) for pk, data, _ in theirs]
        normalised = normalise_records(n, records, {})
        ctx.begin_batch(natural_keys(normalised))
        second = plan_normalised(n, normalised, destination, ctx, counts, kinds)
    else:
        helper.adopt(second[0], ctx)
    return first[0] + second[0], first[1] + second[1], first[2] + second[2]


#: bounds and step of the columnar split between this process and the helper (`_Ahead.balance`)
_MIN_SHARE, _MAX_SHARE, _SHARE_STEP = 0.1, 0.6, 0.05


class _Ahead:
    """The helper's side of the columnar batches of one stream: which batch's part it holds (issue 18).

    The helper plans a batch's part as if the outbox held nothing for its keys (it speculates), without waiting
    for the batch before to be committed: while it plans the part of batch k, batch k+1 is read and its part
    queued for it, so it goes on to that one while this process plans its own part of batch k and writes batch
    k to the outbox. Once batch k is committed, this process reads the outbox for the keys of the helper's part
    of batch k+1: if it holds nothing for them (and no key is in both parts) the helper's plan is the one
    planning after the commit gives, and is kept. Else that part is planned again, by the helper with what the
    outbox holds when nothing was sent after it, else here, and speculation stops: from then on a batch's part
    is sent just before the batch ahead of it is committed and planned once the outbox was read for its keys
    (a second run's changed orders mostly have receipts already), until a part is found to hold nothing again."""

    def __init__(self, helper: PlanHelper, index: int):
        self.helper, self.index = helper, index
        self.speculate = True
        #: the part of each batch this process plans itself (see `balance`)
        self.share = COLUMNAR_PARENT_SHARE
        #: the batch whose part was sent ahead: whether the helper took it, whether it speculates on it, and where
        #: the batch was split (the split moves meanwhile: `balance`)
        self.ahead: tuple[list[tuple[str, str, int]], bool, bool, int] | None = None
        self._source: Iterator[list[tuple[str, str, int]]] = iter(())
        self._read: list[tuple[str, str, int]] | None = None

    def split(self, rows: list[tuple[str, str, int]]) -> int:
        return int(len(rows) * self.share)

    def balance(self, waited: bool) -> None:
        """Move the split towards where neither process waits for the other: a part more for this process when
        it had to wait for the helper's plan, a part less when the plan was there before it asked. Its own work
        beside planning (reading the outbox, writing it) grows with the state file: at 100,000 orders it was the
        slower of the two with a third of each batch, at 10,000 the helper was with a fifth. Any split plans
        alike (`tests/perf_plan/test_perf_plan_helper.py`); `LEDGERLINK_COLUMNAR_PARENT_SHARE` fixes it."""
        if FIXED_SHARE:
            return
        self.share = min(_MAX_SHARE, self.share + _SHARE_STEP) if waited else max(_MIN_SHARE, self.share - _SHARE_STEP)

    def batches(self, source: Iterator[list[tuple[str, str, int]]]) -> Iterator[list[tuple[str, str, int]]]:
        """The staged batches, the one read ahead (`send_ahead`) among them in its turn."""
        self._source = iter(source)
        while True:
            if self._read is not None:
                rows, self._read = self._read, None
            else:
                rows = next(self._source, None)
                if rows is None:
                    return
            yield rows

    def _send(self, rows: list[tuple[str, str, int]]) -> tuple[bool, bool, int]:
        speculate, half = self.speculate, self.split(rows)
        sent = self.helper.columnar(self.index, rows[half:], speculate=speculate)
        return sent, sent and speculate, half

    def send_ahead(self) -> None:
        """Read the next batch (once) and queue its part for the helper (once)."""
        if self.ahead is not None:
            return
        if self._read is None:
            self._read = next(self._source, None)
        rows = self._read
        if rows is not None and len(rows) >= 2 * MIN_SHARE:
            self.ahead = (rows, *self._send(rows))

    def take(self, rows: list[tuple[str, str, int]]) -> tuple[bool, bool, int]:
        """Whether the helper holds this batch's part (sending it now if not), whether it speculates, and where
        the batch is split: this process plans the rows before that index, the helper's part is the rest."""
        if self.ahead is not None and self.ahead[0] is rows:
            _, sent, speculated, half = self.ahead
            self.ahead = None
        else:
            sent, speculated, half = self._send(rows)
        if speculated:  # the helper plans this part on its own: the next one is queued behind it
            self.send_ahead()
        return sent, speculated, half


def _plan_shared_columnar(shared: _Ahead, columnar: ColumnarBatches, rows: list[tuple[str, str, int]],
                          ctx: PlanContextImpl, counts: Counter[str], kinds: Counter[str]
                          ) -> tuple[list[Any], list[Dead], list[tuple[str, str]]]:
    """`_plan_shared` for the columnar fast path (issue 18): the helper reads and plans the second part of the
    batch through it too, under the same rules (its own keys only, no key in both parts, no failing plan, the
    run's first Customer and Item payloads), else this process plans that part. The helper may have planned
    its part before the previous batch was committed (`_Ahead`)."""
    helper = shared.helper
    sent, speculated, half = shared.take(rows)
    mine, theirs = rows[:half], rows[half:]
    prepared = columnar.prepare(mine, normalise_records, natural_keys)
    their_keys = helper.natural_keys() if sent else None
    ctx.begin_batch(prepared.keys + (their_keys or []))
    planning = False
    if their_keys is not None:
        posted = ctx.posted_snapshot(their_keys)
        disjoint = not set(their_keys) & set(prepared.keys)
        if speculated:
            planning = shared.speculate = helper.speculation_holds(prepared.keys, their_keys, posted)
            if not planning:  # planned as if nothing were posted for its keys, and something is: not that plan
                helper.planned(Counter(), Counter())
                if disjoint and shared.ahead is None:  # nothing queued behind it: the helper plans it again
                    planning = helper.plan(posted)
        elif disjoint:
            planning = helper.plan(posted)
        elif shared.ahead is None:
            helper.discard()
    first = columnar.plan_prepared(mine, prepared, counts, kinds, plan_normalised, normalise_records)
    second = helper.planned(counts, kinds) if planning else None
    if second is None:  # the helper could not plan these: plan them here, as before
        second = columnar.plan(theirs, counts, kinds, plan_normalised, normalise_records, natural_keys)
    else:
        shared.balance(helper.waited)
        helper.adopt(second[0], ctx)
    return first[0] + second[0], first[1] + second[1], first[2] + second[2]


def _check_payload(write: PlannedWrite, kind: str, natural_key: str) -> None:
    """A planned payload the outbox cannot store (NaN, a lone surrogate, a number beyond 64 bits) is this
    object's plan failing, named by field, not the whole batch's transaction failing."""
    try:
        text = jsonutil.dumps_bytes(write.data)
        problem = (find_problem(write.data, floats_only=True) if b"null" in text and has_nonfinite(write.data)
                   else None)
    except (TypeError, ValueError, RecursionError) as exc:
        problem = find_problem(write.data) or ("(the payload)", str(exc))
    if problem:
        raise RecordError(f"the planned {write.stream} cannot be stored: {problem[1]}", stream=kind,
                          key=natural_key, field=problem[0],
                          hint="the mapping or the plan produced a value JSON cannot hold; fix the template or the "
                               "source data, then `ledgerlink dlq retry`")


def _dumpable(obj: CanonicalObject) -> Any:
    """The object for its dead letter (the letter keeps a bounded copy of whatever this holds)."""
    try:
        return obj.model_dump(mode="python")
    except Exception:  # the error path: a model that cannot even dump itself is described, not raised
        return {"kind": getattr(obj, "kind", None), "natural_key": getattr(obj, "natural_key", None)}
