"""`ledgerlink reconcile`: prove the books against the source, and list every difference.

Each check is a function of a `ReconcileContext` that yields `Finding`s. The local checks read only the
pipeline's DuckDB state (what was staged, planned, posted, dead-lettered); the ledger checks ask the
destination to read its documents back (`Destination.read_back`), when it can. Other packages add checks with
`register_check` (the settlements package adds its clearing and reserve checks).
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator

from . import jsonutil
from .commerce import CanonicalObject, Settlement
from .connectors import Destination, Normaliser, PostedDocument, Source, WriteContext
from .errors import LedgerlinkError
from .store import Store

__all__ = ["Finding", "ReconcileContext", "ReconcileReport", "Skip", "register_check", "reconcile", "CHECKS"]

log = logging.getLogger("ledgerlink.reconcile")


@dataclass
class Finding:
    """One thing that does not tie: which check, about what, what was expected and what was found."""

    check: str
    subject: str
    message: str
    expected: str | None = None
    actual: str | None = None
    hint: str | None = None


@dataclass
class ReconcileContext:
    pipeline: str
    store: Store
    source: Source
    destination: Destination
    dest_config: Any
    normalisers: list[Normaliser]
    #: read the ledger back through the destination (off: only the local state is checked)
    remote: bool = True
    options: dict[str, Any] = field(default_factory=dict)

    _canonical: dict[type, list[CanonicalObject]] = field(default_factory=dict, repr=False)

    @property
    def settlement_streams(self) -> set[str]:
        """The source's streams that normalise into settlements (empty: the settlement checks do not apply)."""
        return {n.stream for n in self.normalisers if "settlement" in n.stream}

    def canonical(self, kind: type[CanonicalObject]) -> list[CanonicalObject]:
        """Every staged record normalised again, keeping objects of `kind` (records that fail are already
        dead letters; they are skipped here). Computed once per kind: several checks read the settlements."""
        if kind not in self._canonical:
            self._canonical[kind] = list(self._normalised(kind))
        return self._canonical[kind]

    def _normalised(self, kind: type[CanonicalObject]) -> Iterator[CanonicalObject]:
        for n in self.normalisers:
            for rows in self.store.raw.changed(n.stream, 0):
                records = [(pk, jsonutil.loads(data)) for pk, data, _ in rows]
                related = {other: self.store.raw.related(
                    other, sorted({str(r.get(tf)) for _, r in records if r.get(tf) is not None}))
                    for other, (_, tf) in n.join.items()}
                for _pk, rec in records:
                    rel = {o: [d for _, d in related[o].get(str(rec.get(tf)), [])] for o, (_, tf) in n.join.items()}
                    try:
                        objects = n.run(rec, rel)
                    except Exception:  # noqa: BLE001 - a record that fails is a dead letter already
                        continue
                    yield from (o for o in objects if isinstance(o, kind))


@dataclass
class ReconcileReport:
    pipeline: str
    checks: list[str]
    findings: list[Finding]
    skipped: dict[str, str] = field(default_factory=dict)
    #: documents waiting in review (awaiting approval, or rejected): listed, not differences — a person holds them
    in_review: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def tied(self) -> list[str]:
        """The checks that ran and found nothing: a skipped check never counts as one that ties."""
        off = {f.check for f in self.findings}
        return [c for c in self.checks if c not in self.skipped and c not in off]

    def headline(self) -> str:
        """One sentence for a person: which checks tie, which found differences, which were skipped (and why
        follows, one line each, from `skipped`)."""
        off = list(dict.fromkeys(f.check for f in self.findings))
        parts = []
        if self.ok and self.tied:
            parts.append(f"every check that ran ties ({', '.join(self.tied)})")
        elif self.tied:
            parts.append(f"ties: {', '.join(self.tied)}")
        elif self.ok:
            parts.append("no check ran")
        if off:
            parts.append(f"differences in {', '.join(off)}")
        if self.skipped:
            parts.append(f"skipped {len(self.skipped)}: {', '.join(self.skipped)}")
        return f"{self.pipeline}: " + "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline, "ok": self.ok, "checks": self.checks, "skipped": self.skipped,
                "findings": [asdict(f) for f in self.findings], "in_review": [asdict(f) for f in self.in_review]}

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["check", "subject", "message", "expected", "actual", "hint"])
        writer.writeheader()
        for f in self.findings:
            writer.writerow(asdict(f))
        return out.getvalue()


Check = Callable[[ReconcileContext], Iterable[Finding]]
#: name → check, in the order they run
CHECKS: dict[str, Check] = {}


def register_check(name: str) -> Callable[[Check], Check]:
    def add(func: Check) -> Check:
        CHECKS[name] = func
        return func
    return add


def reconcile(ctx: ReconcileContext, only: Iterable[str] | None = None) -> ReconcileReport:
    wanted = list(only) if only else list(CHECKS)
    findings: list[Finding] = []
    skipped: dict[str, str] = {}
    for name in wanted:
        check = CHECKS[name]
        try:
            findings.extend(check(ctx))
        except Skip as why:
            skipped[name] = str(why)
        except LedgerlinkError as exc:
            findings.append(Finding(name, ctx.pipeline, f"the check could not run: {exc}",
                                    hint=getattr(exc, "hint", None)))
    # what `not_posted` leaves out because a person holds it, listed beside it
    held = list(_held_in_review(ctx)) if "not_posted" in wanted else []
    return ReconcileReport(ctx.pipeline, wanted, findings, skipped, held)


def _held_in_review(ctx: ReconcileContext) -> Iterator[Finding]:
    """Documents a person holds in review: awaiting approval, or rejected (with who and why)."""
    from .review import ReviewFilter, review_items

    for status in ("awaiting", "rejected"):
        for item in review_items(ctx.store, ReviewFilter(status=status), destination=ctx.destination.name):
            subject = f"{item.kind} {item.natural_key or item.key}"
            if status == "awaiting":
                yield Finding("awaiting_approval", subject, "planned, awaiting approval before it posts",
                              hint="`ledgerlink review show` it, then `ledgerlink review approve` or `reject`")
            else:
                yield Finding("rejected", subject, f"rejected in review by {item.decided_by}"
                              + (f": {item.reason}" if item.reason else ""), hint="it will not be posted")


class Skip(Exception):
    """Raised by a check that does not apply here; its message says why (listed as skipped, never as "ties")."""


# ----------------------------------------------------------------------------------------- local checks


@register_check("not_posted")
def not_posted(ctx: ReconcileContext) -> Iterator[Finding]:
    """Source objects that have not become documents: planned but pending or dead, or refused before planning,
    or staged and not yet normalised."""
    db = ctx.store.db
    from .review import held_keys

    held = held_keys(ctx.store, ctx.destination.name)  # listed as awaiting approval or rejected instead
    rows = db.fetchall(
        "SELECT o.key, o.stream, o.natural_key, o.status, d.message, d.hint FROM outbox o "
        "LEFT JOIN (SELECT record_key, arg_max(message, id) AS message, arg_max(hint, id) AS hint FROM dead_letters "
        "           WHERE stage = 'write' AND status = 'open' GROUP BY record_key) d ON d.record_key = o.key "
        "WHERE o.destination = ? AND o.status <> 'done' ORDER BY o.seq", [ctx.destination.name])
    for key, stream, natural, status, message, hint in rows:
        if key in held:
            continue
        subject = f"{stream} {natural or key}"
        if status == "dead":
            yield Finding("not_posted", subject, f"refused by {ctx.destination.name}: {message}", hint=hint
                          or "fix the cause, then `ledgerlink dlq retry`")
        else:
            yield Finding("not_posted", subject, f"planned, not yet posted ({status})",
                          hint="run `ledgerlink sync` again; it is sent on the next run")
    settlement_streams = ctx.settlement_streams
    letters = db.fetchall(
        "SELECT stream, record_key, stage, message, hint FROM dead_letters WHERE status = 'open' "
        "AND stage IN ('read', 'normalise', 'plan') ORDER BY id")
    for stream, record_key, stage, message, hint in letters:
        if stream in settlement_streams:
            continue  # reported as settlements on hold
        yield Finding("not_posted", f"{stream} {record_key or '?'}", f"refused at {stage}: {message}",
                      hint=hint or "see `ledgerlink dlq list`")
    for n in ctx.normalisers:
        waiting = sum(len(rows) for rows in ctx.store.raw.changed(n.stream, ctx.store.normalise_cursor(n.stream)))
        if waiting:
            yield Finding("not_posted", n.stream, f"{waiting} staged record(s) not yet normalised",
                          hint="run `ledgerlink sync` to normalise and post them")


@register_check("settlements_on_hold")
def settlements_on_hold(ctx: ReconcileContext) -> Iterator[Finding]:
    streams = ctx.settlement_streams
    if not streams:
        raise Skip("the source reads no settlements")
    rows = ctx.store.db.fetchall(
        "SELECT stream, record_key, stage, message, hint FROM dead_letters WHERE status = 'open' "
        f"AND stream IN ({', '.join('?' * len(streams))}) ORDER BY id", sorted(streams))
    for stream, record_key, stage, message, hint in rows:
        yield Finding("settlements_on_hold", f"settlement {record_key or '?'}", f"on hold ({stage}): {message}",
                      hint=hint or "fix the cause (mapping, file), then `ledgerlink dlq retry`")


@register_check("settlement_sequence")
def settlement_sequence(ctx: ReconcileContext) -> Iterator[Finding]:
    """Amazon pays in an unbroken chain: each settlement starts where the previous one (same marketplace and
    currency) ended. A gap means a settlement that was never read; an overlap, two reports for one period."""
    if not ctx.settlement_streams:
        raise Skip("the source reads no settlements")
    chains: dict[tuple[str, str], list[Settlement]] = {}
    for s in ctx.canonical(Settlement):
        assert isinstance(s, Settlement)
        chains.setdefault((getattr(s, "marketplace", None) or "", s.total.currency), []).append(s)
    slack = timedelta(seconds=ctx.options.get("settlement_gap_seconds", 1))
    for (market, currency), chain in sorted(chains.items()):
        chain.sort(key=lambda s: (s.starts_at, s.settlement_id))
        for prev, nxt in zip(chain, chain[1:]):
            label = f"{market or 'settlements'} {currency}".strip()
            if nxt.starts_at - prev.ends_at > slack:
                yield Finding("settlement_sequence", label,
                              f"no settlement between {prev.settlement_id} (ended {prev.ends_at.isoformat()}) and "
                              f"{nxt.settlement_id} (started {nxt.starts_at.isoformat()})",
                              hint="download the missing settlement report (Seller Central → Payments → All "
                                   "statements) and add it with `settlement_files`")
            elif prev.ends_at - nxt.starts_at > slack:
                yield Finding("settlement_sequence", label,
                              f"settlements {prev.settlement_id} and {nxt.settlement_id} overlap",
                              hint="two reports cover the same period; check for a re-issued report")


# ---------------------------------------------------------------------------------------- ledger checks


@register_check("ledger")
def ledger(ctx: ReconcileContext) -> Iterator[Finding]:
    """Read every posted document back: missing ones, totals that differ from what was planned, and documents
    carrying a ledgerlink key that no source object planned."""
    if not ctx.remote:
        raise Skip("--offline")
    rows = ctx.store.db.fetchall(
        "SELECT o.key, o.stream, o.natural_key, o.data, r.destination_id FROM outbox o JOIN results r ON r.key = o.key "
        "WHERE o.destination = ? AND o.status = 'done' AND r.destination_id IS NOT NULL ORDER BY o.seq",
        [ctx.destination.name])  # a write that found nothing to do (a void of an order never posted) has no id
    posted = [PostedDocument(key=k, stream=s, natural_key=n, data=jsonutil.loads(d), destination_id=i)
              for k, s, n, d, i in rows]
    if type(ctx.destination).read_back is Destination.read_back:
        raise Skip(f"{ctx.destination.name} cannot read its documents back")
    context = WriteContext(references=ctx.store.references(ctx.destination.name),
                           save_credential=ctx.store.credentials.save, load_credential=ctx.store.credentials.load)
    ctx.destination.open(ctx.dest_config, context)  # as a sync does: stored (rotated) credentials, company settings
    try:
        found = list(ctx.destination.read_back(ctx.dest_config, posted))
    finally:
        ctx.destination.close()
    by_key = {doc.key: doc for doc in found if doc.key}
    from .revisions import reposted_keys

    reposted = reposted_keys(ctx.store)  # deleted by hand and posted again on purpose: the repost is checked
    # orders ledgerlink itself voided when they were cancelled: their documents are meant to read 0
    voided = {doc.natural_key for doc in posted if doc.stream == "Void"}
    for doc in posted:
        back = by_key.get(doc.key)
        subject = f"{doc.stream} {doc.natural_key or doc.key}"
        if back is None:
            if doc.stream in ctx.destination.read_back_streams and doc.key not in reposted:
                yield Finding("ledger", subject, f"posted as {doc.destination_id}, not found in the ledger",
                              hint=f"it was deleted there; if it should exist, `ledgerlink revisions repost "
                                   f"PIPELINE.yaml {doc.key}` posts it again (once), linked to this key")
            continue
        if back.total == 0 and doc.natural_key in voided:
            continue
        if back.expected_total is not None and back.total is not None and back.expected_total != back.total:
            yield Finding("ledger", subject, "posted total differs from the source",
                          expected=str(back.expected_total), actual=str(back.total),
                          hint="someone edited the document, or the mapping changed since it was posted")
    known = {doc.key for doc in posted} | {k for (k,) in ctx.store.db.fetchall(
        "SELECT key FROM outbox WHERE destination = ?", [ctx.destination.name])}
    ours = {s.natural_key for s in ctx.canonical(Settlement)} if ctx.settlement_streams else set()
    for doc in found:
        if doc.key and doc.key not in known:
            settlement = _settlement_of(doc.key)
            if settlement is not None and settlement not in ours:
                continue  # another pipeline's payout posted into the same company (a second seller or region)
            yield Finding("ledger", f"{doc.stream} {doc.destination_id}",
                          f"document carries ledgerlink key {doc.key} but no source object planned it",
                          actual=None if doc.total is None else str(doc.total),
                          hint="posted by another pipeline or a copy of this state file; void it if it is a duplicate")


def _settlement_of(key: str) -> str | None:
    """The settlement natural key a document key was planned for (`JournalEntry:SOURCE/settlement/ID/2026-03`,
    `Deposit:SOURCE/settlement/ID~v2` → `SOURCE/settlement/ID`), or None for any other document."""
    natural = key.split(":", 1)[-1].split("~", 1)[0]
    head, mark, tail = natural.partition("/settlement/")
    return f"{head}{mark}{tail.split('/', 1)[0]}" if mark and tail else None


def as_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def open_context(pipeline: Any, *, remote: bool = True, plugin_host: Any = None,
                 store: Store | None = None) -> ReconcileContext:
    """A context over a pipeline's state file (which must exist: reconcile checks what syncs did); `store` is the
    one `ledgerlink serve` already holds open (the caller keeps it open)."""
    from .errors import ConfigError
    from .plugins import host as default_host
    from .runtime.normalise import (
        pipeline_key_scope, resolve_normalisers, stamp_normalisers, store_context, with_store_context,
    )
    from .store.shared_credentials import share_credentials

    plugins = plugin_host or default_host()
    source = plugins.connector(pipeline.source.connector, "source")()
    destination = plugins.connector(pipeline.destination.connector, "destination")()
    dest_config = destination.parse_config(pipeline.destination.config, where="destination.config")
    source.parse_config(pipeline.source.config, where="source.config")
    if not pipeline.state_path.exists():
        raise ConfigError(f"{pipeline.name} has not run yet (no {pipeline.state_path})",
                          hint="run `ledgerlink sync` first; reconcile checks what it did")
    store = store or Store(pipeline.state_path)
    share_credentials(store, pipeline.credentials_path)
    options = dict(pipeline.destination.options.get("reconcile") or {})
    options["destination_options"] = dict(pipeline.destination.options)  # e.g. the settlement mode and account map
    normalisers = stamp_normalisers(resolve_normalisers(source, pipeline.source.normalise),
                                    pipeline_key_scope(pipeline, source, store, record=False))
    normalisers = with_store_context(normalisers, store_context(pipeline, source, store))
    return ReconcileContext(pipeline.name, store, source, destination, dest_config, normalisers, remote, options)
