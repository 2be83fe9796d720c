"""Running the anomaly checks over a pipeline and keeping what they found: the one entry point the CLI, the
console's API and the alerts call (`run_anomalies`, `open_findings`, `decide_findings`)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from ..errors import ConfigError
from ..store import Store
from .context import AnomalyContext
from .findings import STATUSES, FindingBook
from .model import AnomalyFinding, AnomalyReport
from .options import parse_anomaly_options
from .registry import check_names, run_checks

__all__ = ["run_anomalies", "open_findings", "decide_findings", "list_findings", "context_for", "parse_thresholds",
           "with_thresholds"]


def _load(pipeline: Any) -> Any:
    if isinstance(pipeline, (str, Path)):
        from ..pipeline import load_pipeline

        if Path(pipeline).is_dir():
            raise ConfigError(f"{pipeline} is a folder, not a pipeline file", hint="name the pipeline's .yaml file")
        return load_pipeline(str(pipeline))
    return pipeline


def context_for(pipeline: Any, store: Store, *, plugin_host: Any = None, now: datetime | None = None
                ) -> AnomalyContext:
    """A context over a loaded pipeline and its open state: its normalisers (as reconcile uses them), its
    anomaly options (`destination.options.anomalies`) and its settlement options."""
    from ..reconcile import open_context

    options = parse_anomaly_options(pipeline.destination.options.get("anomalies"))
    recon = open_context(pipeline, remote=False, plugin_host=plugin_host, store=store)
    settlement_options = dict(pipeline.destination.options.get("settlements") or {})
    streams = {n.stream for n in recon.normalisers} | set(store.raw.streams())
    return AnomalyContext(pipeline.name, store, _canonical(store, recon.normalisers), options,
                          now or datetime.now(timezone.utc), settlement_options, streams)


def _canonical(store: Store, normalisers: list[Any]) -> Any:
    """kind → every staged record normalised again (records that fail are dead letters already and are left
    out), each object stamped with the staged rows it came from, as a sync stamps them; computed once per kind."""
    from .. import jsonutil
    from ..commerce import SourceRef

    cache: dict[type, list[Any]] = {}

    def objects(kind: type) -> list[Any]:
        if kind in cache:
            return cache[kind]
        found: list[Any] = []
        for n in normalisers:
            for rows in store.raw.changed(n.stream, 0):
                records = [(pk, jsonutil.loads(data)) for pk, data, _ in rows]
                related = {other: store.raw.related(
                    other, sorted({str(r.get(tf)) for _, r in records if r.get(tf) is not None}))
                    for other, (_, tf) in n.join.items()}
                for pk, rec in records:
                    rel_rows = {o: related[o].get(str(rec.get(tf)), []) for o, (_, tf) in n.join.items()}
                    try:
                        made = n.run(rec, {o: [d for _, d in r] for o, r in rel_rows.items()})
                    except Exception:  # noqa: BLE001 - a record that fails is a dead letter already
                        continue
                    refs = [SourceRef(stream=n.stream, key=pk)] + [SourceRef(stream=o, key=k)
                                                                   for o, r in rel_rows.items() for k, _ in r]
                    for obj in made:
                        if isinstance(obj, kind):
                            if not obj.source_refs:
                                obj.source_refs = refs
                            found.append(obj)
        cache[kind] = found
        return found

    return objects


def _with_store(pipeline: Any, store: Store | None, work: Any) -> Any:
    """Run `work(pipeline, store)` over the given store, or over the pipeline's state file opened (and closed)
    here; a pipeline that never ran is a clear error."""
    loaded = _load(pipeline)
    if store is not None:
        return work(loaded, store)
    if not loaded.state_path.exists():
        raise ConfigError(f"{loaded.name} has not run yet (no {loaded.state_path})",
                          hint="run `ledgerlink sync` first; the anomaly checks read what syncs staged")
    opened = Store(loaded.state_path)
    try:
        return work(loaded, opened)
    finally:
        opened.close()


def run_anomalies(pipeline: Any, *, store: Store | None = None, checks: Iterable[str] | None = None,
                  now: datetime | None = None, plugin_host: Any = None) -> AnomalyReport:
    """Run the checks (all, or those named) over the pipeline's state and keep the findings; the report carries
    each finding's persisted status (open, acknowledged, snoozed)."""
    names = check_names(checks)
    moment = now or datetime.now(timezone.utc)

    def work(loaded: Any, opened: Store) -> AnomalyReport:
        ctx = context_for(loaded, opened, plugin_host=plugin_host, now=moment)
        try:
            report = run_checks(ctx, names)
        finally:
            ctx.close()
        FindingBook(opened).record(report, moment)
        return report

    return _with_store(pipeline, store, work)


def list_findings(pipeline: Any, *, store: Store | None = None, status: str | None = None,
                  checks: Iterable[str] | None = None) -> list[AnomalyFinding]:
    """The findings kept from earlier runs (without running the checks)."""
    if status is not None and status not in STATUSES:
        raise ConfigError(f"no finding status {status!r}", where="status", hint=f"one of {', '.join(STATUSES)}")
    names = check_names(checks) if checks else None
    return _with_store(pipeline, store, lambda _p, s: FindingBook(s).list(status=status, checks=names))


def open_findings(pipeline: Any, *, store: Store | None = None, checks: Iterable[str] | None = None,
                  refresh: bool = True, now: datetime | None = None, plugin_host: Any = None
                  ) -> list[AnomalyFinding]:
    """The findings that want a person: open (new, came back, or snoozed past their date), neither acknowledged
    nor snoozed. `refresh` runs the checks first (else only what the last run kept). `pipeline` is a pipeline
    file or a loaded pipeline; `store` the state `serve` already holds. When another process (`serve`) holds
    the state file, its API answers instead. This is what alerts call."""
    if store is None and isinstance(pipeline, (str, Path)):
        from ..served import served_client

        client = served_client(pipeline)
        if client is not None:
            if refresh:
                data = client.post("/anomalies/run", {"checks": list(checks or [])})
                found = [AnomalyFinding(**f) for f in data["findings"]]
            else:
                found = [AnomalyFinding(**f) for f in client.get("/anomalies", {"status": "open"})["findings"]]
            return [f for f in found if f.status == "open"]
    if refresh:
        report = run_anomalies(pipeline, store=store, checks=checks, now=now, plugin_host=plugin_host)
        return report.open
    moment = now or datetime.now(timezone.utc)

    def work(_loaded: Any, opened: Store) -> list[AnomalyFinding]:
        book = FindingBook(opened)
        book.due(moment)
        return book.list(status="open", checks=check_names(checks) if checks else None)

    return _with_store(pipeline, store, work)


def decide_findings(pipeline: Any, fingerprints: list[str], action: str, by: str, *, until: date | None = None,
                    note: str | None = None, store: Store | None = None) -> list[AnomalyFinding]:
    """Acknowledge, snooze until a date, or reopen findings by fingerprint."""
    return _with_store(pipeline, store,
                       lambda _p, s: FindingBook(s).decide(fingerprints, action, by, until=until, note=note))


def parse_thresholds(given: Any, where: str = "body.thresholds") -> dict[str, Any]:
    """`{"check.field": value}` (or the CLI's `check.field=value` strings) → an options overlay
    `{check: {field: value}}`; a name that is not `check.field` is a ConfigError."""
    items = given.items() if isinstance(given, dict) else [str(g).split("=", 1) if "=" in str(g) else (g, None)
                                                          for g in (given or [])]
    overlay: dict[str, Any] = {}
    for name, value in items:
        check, dot, key = str(name).partition(".")
        if not dot or not check or not key or value is None:
            raise ConfigError(f"threshold {name!r} is not CHECK.FIELD=VALUE", where=where,
                              hint="e.g. referral_fee_drift.threshold=4")
        overlay.setdefault(check, {})[key] = value
    return overlay


def with_thresholds(pipeline: Any, overlay: dict[str, Any]) -> Any:
    """The pipeline with its anomalies options overlaid (the file itself is untouched)."""
    options = dict(pipeline.destination.options)
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in (options.get("anomalies") or {}).items()}
    for check, fields in overlay.items():
        base = merged.get(check)
        merged[check] = {**(base if isinstance(base, dict) else {}), **fields}
    options["anomalies"] = merged
    destination = pipeline.destination.model_copy(update={"options": options})
    return pipeline.model_copy(update={"destination": destination})
