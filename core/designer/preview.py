"""The live preview of a mapping template being edited: staged records of the pipeline normalised and planned
twice, with the mappings as they are and with the edited template, in memory (nothing is written to the outbox).

For each picked record it shows the documents the edited template produces, what differs from the current
mapping's, and — over the pipeline's staged records, up to a bound — which documents already posted would become
revisions if the template were saved. A template that does not compile, or fails while rendering (an undefined
variable), is a `TemplateProblem` naming the template and its line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import jsonutil
from ..connectors import Destination, Source
from ..console.diff import payload_diff
from ..errors import LedgerlinkError, MappingError
from ..runtime.normalise import (PlanContextImpl, mapping_engine, pipeline_key_scope, resolve_normalisers,
                                 stamp_normalisers, store_context, with_store_context)
from ..store.raw import table_name

__all__ = ["PreviewDocument", "PreviewResult", "TemplateProblem", "staged_records", "preview_template",
           "template_names", "template_source"]

#: most staged records planned when looking for documents that would become revisions
REVISION_SCAN = 500


@dataclass
class TemplateProblem:
    template: str
    line: int | None
    message: str
    record: str | None = None


@dataclass
class PreviewDocument:
    record: str
    stream: str
    key: str
    payload: Any
    diff: list[dict[str, Any]]
    #: posted already, and the edited template changes it: saving makes it a revision to review
    would_revise: bool
    posted_status: str | None

    @property
    def shown_diff(self) -> list[tuple[str, str, str]]:
        """(path, current, edited) with values as they read in the document (JSON), for the page."""
        def shown(value: Any) -> str:
            return "—" if value is None else value if isinstance(value, str) else jsonutil.dumps(value)

        return [(d["path"], shown(d["old"]), shown(d["new"])) for d in self.diff]

    @property
    def text(self) -> str:
        """The document as JSON, exactly as the outbox would hold it."""
        return jsonutil.dumps(self.payload, indent=2)


@dataclass
class PreviewResult:
    documents: list[PreviewDocument] = field(default_factory=list)
    #: keys of posted documents (over the staged records scanned) that the edit would turn into revisions
    revisions: list[str] = field(default_factory=list)
    scanned: int = 0
    problem: TemplateProblem | None = None


def _parts(service: Any) -> tuple[Source, Destination]:
    host = service.plugin_host
    pipeline = service.pipeline
    return (host.connector(pipeline.source.connector, "source")(),
            host.connector(pipeline.destination.connector, "destination")())


def template_names(service: Any) -> list[str]:
    _, destination = _parts(service)
    return sorted(destination.mappings)


def template_source(service: Any, name: str) -> str:
    """The template as the pipeline uses it now: its override file, else the destination's default."""
    source, destination = _parts(service)
    pipeline = service.pipeline
    engine = mapping_engine(destination, pipeline.destination.mappings, pipeline.base_dir)
    if name not in engine.names():
        raise MappingError("no such mapping", template=name, hint=f"mappings: {', '.join(engine.names())}")
    return engine.source(name)


def staged_records(service: Any, limit: int = 50) -> list[tuple[str, str]]:
    """(stream, key) of staged records a preview can plan: those of the streams the source normalises."""
    source, _ = _parts(service)
    store = service.store
    out: list[tuple[str, str]] = []
    for n in source.normalisers():
        if store.raw.exists(n.stream):
            rows = store.db.fetchall(f"SELECT pk FROM {table_name(n.stream)} ORDER BY seq DESC LIMIT ?", [limit])
            out += [(n.stream, r[0]) for r in rows]
    return out[:limit]


def _plan(normaliser: Any, destination: Destination, ctx: PlanContextImpl, store: Any, stream: str,
          key: str) -> list[Any]:
    record = store.raw.get(stream, key)
    if record is None:
        raise LedgerlinkError(f"no staged {stream} record {key!r}", hint="pick one of the listed records")
    related: dict[str, list[dict[str, Any]]] = {}
    for other, (_, this_field) in normaliser.join.items():
        join = record.get(this_field)
        rows = store.raw.related(other, [str(join)]).get(str(join), []) if join is not None else []
        related[other] = [d for _, d in rows]
    writes = []
    for obj in normaliser.run(record, related):
        writes += list(destination.plan(obj, ctx))
    return writes


def preview_template(service: Any, name: str, text: str, picked: list[tuple[str, str]], *,
                     scan: int = REVISION_SCAN) -> PreviewResult:
    """Plan `picked` staged records with the current mappings and with `text` as template `name`."""
    source, destination = _parts(service)
    pipeline, store, host = service.pipeline, service.store, service.plugin_host
    result = PreviewResult()
    extensions = host.mapping_extensions()
    current = mapping_engine(destination, pipeline.destination.mappings, pipeline.base_dir, extensions)
    if name not in current.names():
        raise MappingError("no such mapping", template=name, hint=f"mappings: {', '.join(current.names())}")
    edited = mapping_engine(destination, pipeline.destination.mappings, pipeline.base_dir, extensions)
    edited.add(name, text)
    for engine in (current, edited):
        engine.set_lookup(store.raw.get)
    try:
        edited.template(name)
    except MappingError as exc:
        result.problem = TemplateProblem(name, exc.line, _bare(exc))
        return result
    normalisers = resolve_normalisers(source, pipeline.source.normalise)
    normalisers = stamp_normalisers(normalisers, pipeline_key_scope(pipeline, source, store, record=False))
    normalisers = with_store_context(normalisers, store_context(pipeline, source, store))
    by_stream = {n.stream: n for n in normalisers}
    options = pipeline.destination.options
    ctx_now = PlanContextImpl(current, options, store=store, destination=destination.name)
    ctx_new = PlanContextImpl(edited, options, store=store, destination=destination.name)
    for stream, key in picked:
        normaliser = by_stream.get(stream)
        if normaliser is None:
            raise LedgerlinkError(f"the source does not normalise the stream {stream!r}",
                                  hint=f"streams: {', '.join(sorted(by_stream))}")
        try:
            new = _plan(normaliser, destination, ctx_new, store, stream, key)
        except MappingError as exc:
            result.problem = TemplateProblem(exc.template, exc.line, _bare(exc), f"{stream}/{key}")
            return result
        try:
            old = {w.key: w for w in _plan(normaliser, destination, ctx_now, store, stream, key)}
        except LedgerlinkError:
            old = {}  # the current mapping fails on this record: everything the edit produces is new
        for w in new:
            posted = store.outbox.get(w.key)
            before = old.get(w.key)
            diff = payload_diff(before.data if before is not None else {}, w.data)
            revises = bool(posted and posted["status"] == "done" and payload_diff(posted["data"], w.data))
            result.documents.append(PreviewDocument(f"{stream}/{key}", w.stream, w.key, w.data, diff, revises,
                                                    posted["status"] if posted else None))
    result.documents.sort(key=lambda d: (not d.diff, not d.would_revise))  # what the edit changes first
    result.revisions, result.scanned = _revisions(by_stream, destination, ctx_new, store, scan)
    return result


def _revisions(by_stream: dict[str, Any], destination: Destination, ctx: PlanContextImpl, store: Any,
               scan: int) -> tuple[list[str], int]:
    keys: list[str] = []
    scanned = 0
    for stream, normaliser in by_stream.items():
        if not store.raw.exists(stream) or scanned >= scan:
            continue
        rows = store.db.fetchall(f"SELECT pk FROM {table_name(stream)} ORDER BY seq LIMIT ?", [scan - scanned])
        for (pk,) in rows:
            scanned += 1
            try:
                writes = _plan(normaliser, destination, ctx, store, stream, pk)
            except LedgerlinkError:
                continue  # a record the edit cannot plan is shown when picked; here only revisions count
            for w in writes:
                posted = store.outbox.get(w.key)
                if posted and posted["status"] == "done" and payload_diff(posted["data"], w.data):
                    keys.append(w.key)
    return sorted(set(keys)), scanned


def _bare(exc: MappingError) -> str:
    """The error's message without the `template X, line N:` prefix the page shows on its own."""
    text = exc.message
    marker = f"template {exc.template}" + (f", line {exc.line}" if exc.line else "") + ": "
    return text.split(marker, 1)[-1]
