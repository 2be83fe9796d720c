"""`ledgerlink sync`: read → stage → normalise → plan → write → reconcile counts, resumable at every step."""

from __future__ import annotations

import contextlib
import hashlib
import time
from dataclasses import dataclass, field

from typing import Any, Callable, Iterator

from .. import jsonutil
from ..connectors import Destination, Normaliser, Source
from ..errors import LedgerlinkError, RemoteError
from ..logs import log_context
from ..mapping import MappingEngine
from ..remote_waits import wait_in_run
from ..pipeline import Pipeline
from ..plugins import PluginHost, host as default_host
from ..store import Store
from ..store.shared_credentials import share_credentials
from .extract import extract
from ..review.gate import hold_for_review
from .load import load
from .normalise import (
    PlanContextImpl, mapping_engine, normalise_and_plan, pipeline_key_scope, resolve_normalisers, stamp_normalisers,
    store_context, with_store_context,
)
from .progress import NO_PROGRESS
from .stop import StopNow, stop_exit_code, stop_reason, stop_requested
from .verify import verify_written

__all__ = ["sync", "SyncReport", "SyncRun", "reconcile_counts"]


@dataclass
class SyncReport:
    pipeline: str
    state_path: str
    run_id: int
    dry_run: bool
    status: str = "running"
    counts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    #: in a dry run: what would be written, per object type, with a few examples
    would_write: dict[str, Any] = field(default_factory=dict)
    #: streams that wait for a remote preparing their data (an Amazon report), each {"stream", "for", "until"}:
    #: everything else was read and posted; the next sync (after `wake_at`) picks the wait up from the state
    waiting: list[dict[str, str]] = field(default_factory=list)

    @property
    def wake_at(self) -> str | None:
        """The earliest time a waiting stream is worth looking at again (ISO 8601, UTC), or None."""
        return min((w["until"] for w in self.waiting), default=None)

    @property
    def exit_code(self) -> int:
        """0 all good; 1 the run failed; 3 it finished but left dead letters to look at; 6 it did everything else
        but a stream waits for a remote (an Amazon report: run again after `wake_at`); a run stopped by a
        signal exits as the shell says a process ended by it (143 for SIGTERM, 130 for SIGINT)."""
        if self.status == "stopped":
            return stop_exit_code()
        if self.status == "failed":
            return 1
        if self.counts.get("dead_letters_open"):
            return 3
        if self.status == "waiting":
            return 6
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline, "state": self.state_path, "run_id": self.run_id, "dry_run": self.dry_run,
                "status": self.status, "counts": self.counts, "timings": self.timings, "errors": self.errors,
                **({"waiting": self.waiting, "wake_at": self.wake_at} if self.waiting else {}),
                **({"would_write": self.would_write} if self.dry_run else {})}


def reconcile_counts(store: Store, destination: str) -> dict[str, Any]:
    """Every planned write is done, dead or pending; every staged record of a normalised stream is normalised."""
    rows = store.db.fetchall("SELECT stream, status, count(*) FROM outbox WHERE destination = ? GROUP BY ALL",
                             [destination])
    by: dict[str, dict[str, int]] = {}
    for stream, status, n in rows:
        by.setdefault(stream, {})[status] = n
    missing_results = store.db.fetchone(
        "SELECT count(*) FROM outbox o LEFT JOIN results r ON r.key = o.key WHERE o.destination = ? "
        "AND o.status = 'done' AND r.key IS NULL", [destination])[0]
    return {"outbox": by, "done_without_result": int(missing_results)}


def sync(pipeline: Pipeline, *, dry_run: bool = False, plugin_host: PluginHost | None = None,
         progress: Callable[..., None] = NO_PROGRESS, store: Store | None = None, replan: bool = False,
         should_stop: Callable[[], bool] = stop_requested, wait_in_run_s: float | None = None) -> SyncReport:
    """Read, stage, normalise, plan and write one pipeline. When its posting rules (destination options,
    mappings, normaliser overrides) changed since the last run — or `replan` — every staged record is planned
    again: unchanged documents stay as they are, posted ones whose plan changed are held as revisions.

    `should_stop` (by default: this process got SIGTERM or SIGINT, see `runtime.stop`) is checked between
    batches: the batch in hand commits and the run ends with status `stopped`; the next sync resumes.

    `wait_in_run_s` bounds how long a source waits in process for a remote preparing data (an Amazon report);
    one that would wait longer saves the wait in its state and the run ends `waiting` once everything else is
    posted (`SyncReport.waiting`, `wake_at`). None (the CLI's default): each source's own limit."""
    plugins = plugin_host or default_host()
    source = plugins.connector(pipeline.source.connector, "source")()
    destination = plugins.connector(pipeline.destination.connector, "destination")()
    if not isinstance(source, Source):
        raise LedgerlinkError(f"source.connector: {source.name} is not a source")
    if not isinstance(destination, Destination):
        raise LedgerlinkError(f"destination.connector: {destination.name} is not a destination")
    # validate both configs before touching anything (errors name the key)
    source.parse_config(pipeline.source.config, where="source.config")
    dest_config = destination.parse_config(pipeline.destination.config, where="destination.config")
    engine = mapping_engine(destination, pipeline.destination.mappings, pipeline.base_dir,
                            plugins.mapping_extensions())
    for name in engine.names():
        engine.template(name)  # compile now: a syntax error stops the run before any write
    normalisers = resolve_normalisers(source, pipeline.source.normalise)

    own_store = store is None
    store = store or Store(pipeline.state_path)
    share_credentials(store, pipeline.credentials_path)
    # `lookup("order_items", "111-…/123")` in a mapping reads a staged record of any stream
    engine.set_lookup(store.raw.get)
    report = SyncReport(pipeline=pipeline.name, state_path=str(store.path), run_id=0, dry_run=dry_run)
    run = SyncRun(pipeline=pipeline, source=source, destination=destination, dest_config=dest_config,
                  engine=engine, normalisers=normalisers, store=store, report=report, progress=progress,
                  dry_run=dry_run, replan=replan, should_stop=should_stop)
    budget = wait_in_run(wait_in_run_s) if wait_in_run_s is not None else contextlib.nullcontext()
    try:
        with log_context(pipeline=pipeline.name), budget:
            if dry_run:
                with store.db.rollback_only():
                    _run(run)
            else:
                _run(run)
    finally:
        if own_store:
            store.close()
    return report


@dataclass(frozen=True)
class SyncRun:
    """Everything one sync run works with, settled before it starts: what it reads and writes, with which
    mappings and normalisers, into which state file, and how (dry, replanning)."""

    pipeline: Pipeline
    source: Source
    destination: Destination
    #: the destination's parsed config
    dest_config: Any
    engine: MappingEngine
    normalisers: list[Normaliser]
    store: Store
    #: filled in as the run goes
    report: SyncReport
    progress: Callable[..., None] = NO_PROGRESS
    dry_run: bool = False
    replan: bool = False
    #: checked between batches: true ends the run after the batch in hand (see `runtime.stop`)
    should_stop: Callable[[], bool] = stop_requested


@contextlib.contextmanager
def _on_side(side: str, name: str) -> Iterator[None]:
    """A remote's failure says which side of the pipeline failed ("destination qbo: ..."), as a person reads it."""
    try:
        yield
    except RemoteError as exc:
        if not exc.message.startswith(f"{side} {name}"):
            exc.message = f"{side} {name}: {exc.message}"
            exc.args = (exc.message,)
        raise


def _run(run: SyncRun) -> None:
    pipeline, source, destination, store, report = run.pipeline, run.source, run.destination, run.store, run.report
    engine, dest_config, progress, dry_run = run.engine, run.dest_config, run.progress, run.dry_run
    # settled before anything is staged: a state file that planned another store's writes is refused
    normalisers = stamp_normalisers(run.normalisers, pipeline_key_scope(pipeline, source, store))
    run_id = store.runs.start(pipeline.name, dry_run)
    report.run_id = run_id
    with log_context(run_id=run_id):
        _run_steps(run, normalisers, run_id)


def _run_steps(run: SyncRun, normalisers: list[Normaliser], run_id: int) -> None:
    pipeline, source, destination, store, report = run.pipeline, run.source, run.destination, run.store, run.report
    engine, dest_config, progress, dry_run = run.engine, run.dest_config, run.progress, run.dry_run
    should_stop = run.should_stop
    ctx = PlanContextImpl(engine, pipeline.destination.options, store=store, destination=destination.name)
    try:
        t0 = time.perf_counter()
        read = extract(source, pipeline.source.config, pipeline.source.streams, store, run_id, progress,
                       should_stop=should_stop)
        t1 = time.perf_counter()
        report.timings = {"read_s": round(t1 - t0, 3)}
        report.counts.update(read)
        if read.get("stopped"):
            _stopped(report, store, destination.name)
            return
        fingerprint = plan_fingerprint(pipeline, engine)
        if replan_needed(store, fingerprint, force=run.replan):
            report.counts["replanned"] = True  # every staged record is normalised and planned again
        normalisers = with_store_context(normalisers, store_context(pipeline, source, store))
        planned = normalise_and_plan(normalisers, destination, ctx, store, run_id, progress=progress,
                                     should_stop=should_stop)
        # (a stopped plan too: its cursor says how far these rules got, the next run plans on from there)
        store.db.execute("INSERT OR REPLACE INTO ll_meta VALUES ('plan_fingerprint', ?)", [fingerprint])
        t2 = time.perf_counter()
        report.timings["normalise_plan_s"] = round(t2 - t1, 3)
        report.counts.update(planned)
        for key in ("read_error",):
            if read.get(key):
                report.errors.append(f"source {read[key]}")
        if planned.get("stopped") or (not dry_run and should_stop()):
            _stopped(report, store, destination.name)
            return
        if dry_run:
            # the review gate, as the write step would apply it (the dry run's transaction undoes it)
            gate = hold_for_review(store, destination.name, pipeline.review, run_id)
            if gate.awaiting:
                report.counts["awaiting_approval"] = gate.awaiting
            report.would_write = _would_write(store, destination.name, gate.held)
        else:
            with _on_side("destination", destination.name):
                written = load(destination, dest_config, store, run_id, progress, review=pipeline.review,
                               should_stop=should_stop)
            report.timings["write_s"] = round(time.perf_counter() - t2, 3)
            report.counts.update(written)
            if written.get("stopped") and not written.get("write_error"):
                _stopped(report, store, destination.name)
                return
            if written.get("write_error"):
                report.errors.append(f"destination {written['write_error']}")
            else:
                with _on_side("destination", destination.name):
                    report.counts.update(verify_written(destination, dest_config, store, run_id))
        report.counts["reconcile"] = reconcile_counts(store, destination.name)
        report.counts["dead_letters_open"] = store.dead_letters.count_open()
        report.waiting = [{"stream": name, **what} for name, what in sorted((read.get("waiting") or {}).items())]
        report.status = "failed" if report.errors else "waiting" if report.waiting else "succeeded"
    except Exception as exc:
        report.status = "failed"
        report.errors.append(str(exc))
        raise
    except StopNow as exc:  # a second signal: what was committed stands, the rest is the next run's
        report.status = "stopped"
        report.counts["stopped"] = str(exc) or stop_reason()
        raise
    finally:
        store.runs.finish(run_id, report.status, report.counts, report.timings,
                          "; ".join(report.errors) if report.errors else None)


def _stopped(report: SyncReport, store: Store, destination: str) -> None:
    """The run ends early, as asked: what it committed stands; the next sync resumes from there."""
    report.status = "stopped"
    report.counts["stopped"] = stop_reason() if stop_requested() else "requested"
    report.counts["dead_letters_open"] = store.dead_letters.count_open()


def _would_write(store: Store, destination: str, held: frozenset[str] = frozenset()) -> dict[str, Any]:
    """What a write pass would send now, per object type with two examples (documents held for review, and the
    references only they need, are not sent)."""
    out: dict[str, Any] = {}
    for key, stream, data in store.db.fetchall(
            "SELECT key, stream, data FROM outbox WHERE destination = ? AND status = 'pending' ORDER BY seq",
            [destination]):
        if key in held:
            continue
        entry = out.setdefault(stream, {"count": 0, "examples": []})
        entry["count"] += 1
        if len(entry["examples"]) < 2:
            entry["examples"].append(jsonutil.loads(data))
    return dict(sorted(out.items()))


def plan_fingerprint(pipeline: Pipeline, engine: Any) -> str:
    """What posting depends on besides the staged records: the destination's options, every mapping template's
    text, and the normaliser overrides."""
    material = {"destination": pipeline.destination.connector, "options": pipeline.destination.options,
                "normalise": pipeline.source.normalise,
                "mappings": {name: engine.source(name) for name in engine.names()}}
    return hashlib.sha256(jsonutil.dumps_bytes(material, sort_keys=True)).hexdigest()[:16]


def replan_needed(store: Store, fingerprint: str, *, force: bool = False) -> bool:
    """Forget how far each stream was normalised when the posting rules changed (or when asked), so the next
    step plans everything again."""
    row = store.db.fetchone("SELECT value FROM ll_meta WHERE key = 'plan_fingerprint'")
    if not force and (row is None or row[0] == fingerprint):
        return False
    store.db.execute("DELETE FROM normalise_cursor")
    return True
