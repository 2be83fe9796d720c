"""Documents whose source or mapping changed after they were posted: held, then revised on purpose.

A re-plan of a posted document never rewrites it: the new version waits in `revisions` (status `held`). The
bookkeeper decides per document: `apply` asks the destination for the writes that revise it — by default a
reversal of the posted document and the new version, each a document of its own whose notes link the two — and
queues them like any other write; `discard` keeps what was posted. Either way the decision is recorded and the
same new version is never held again, and the posted document's own row keeps what was posted (reconcile
compares the ledger against it). A re-plan that comes back to what was posted (an option set back to its old
value) releases the hold (status `released`): nothing changed after all.

Many at once: `select_held` filters what is held by document type and document date, for `apply --all` and
`discard --all`; `revision_diff` lists what changed, field by field, for `revisions show`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable

from . import jsonutil
from .connectors import Destination, PlannedWrite, PostedDocument
from .errors import ConfigError, LedgerlinkError
from .store import Store

__all__ = ["HeldRevision", "held_revisions", "apply_revision", "discard_revision", "select_held", "revision_diff",
           "document_date", "revision_matches"]


@dataclass
class HeldRevision:
    key: str
    stream: str
    natural_key: str | None
    destination_id: str | None
    payload_hash: str
    held_at: str
    old: dict[str, Any]
    new: dict[str, Any]

    def to_dict(self, with_payloads: bool = False) -> dict[str, Any]:
        out = {"key": self.key, "stream": self.stream, "natural_key": self.natural_key,
               "destination_id": self.destination_id, "payload_hash": self.payload_hash, "held_at": self.held_at}
        if with_payloads:
            out.update(old=self.old, new=self.new)
        return out


def held_revisions(store: Store, key: str | None = None) -> list[HeldRevision]:
    """Held revisions (the newest per document), oldest first."""
    rows = store.db.fetchall(
        "SELECT v.key, o.stream, o.natural_key, r.destination_id, v.payload_hash, CAST(v.created_at AS VARCHAR), "
        "o.data, v.data FROM revisions v JOIN outbox o ON o.key = v.key LEFT JOIN results r ON r.key = v.key "
        "WHERE v.status = 'held' AND (? IS NULL OR v.key = ?) ORDER BY v.created_at", [key, key])
    newest: dict[str, HeldRevision] = {}
    for k, stream, natural, dest_id, digest, at, old, new in rows:
        newest[k] = HeldRevision(k, stream, natural, dest_id, digest, at, jsonutil.loads(old), jsonutil.loads(new))
    return list(newest.values())


def _one(store: Store, key: str) -> HeldRevision:
    found = held_revisions(store, key)
    if not found:
        raise ConfigError(f"no held revision for {key!r}", hint="`ledgerlink revisions list` shows what is held")
    return found[-1]


def apply_revision(store: Store, destination: Destination, key: str, run_id: int | None = None) -> list[str]:
    """Queue the destination's revising writes for `key`; they go out with the next sync. Returns their keys."""
    held = _one(store, key)
    number = 1 + store.db.fetchone("SELECT count(*) FROM revisions WHERE key = ? AND status = 'applied'", [key])[0]
    posted = PostedDocument(key=key, stream=held.stream, data=held.old, destination_id=held.destination_id,
                            natural_key=held.natural_key)
    try:
        writes: list[PlannedWrite] = list(destination.revise(posted, held.new, number))
    except NotImplementedError:
        raise LedgerlinkError(f"{destination.name} cannot revise a posted {held.stream}",
                             hint="correct it in the ledger by hand, then `ledgerlink revisions discard` it") from None
    with store.db.transaction():
        store.outbox.add(destination.name, writes, run_id)
        for w in writes:  # the revising documents come from the same source rows as the original
            store.db.execute("INSERT INTO audit SELECT ?, line, source_stream, source_key FROM audit "
                             "WHERE outbox_key = ?", [w.key, key])
        store.db.execute("UPDATE revisions SET status = 'applied' WHERE key = ? AND status = 'held'", [key])
        # the accepted version's hash: the same plan is not held again, the posted payload stays as it was
        store.db.execute("UPDATE outbox SET payload_hash = ?, updated_at = now() WHERE key = ?",
                         [held.payload_hash, key])
    return [w.key for w in writes]


def discard_revision(store: Store, key: str) -> None:
    """Keep what was posted; the held version is not held again (a later, different version still is)."""
    held = _one(store, key)
    with store.db.transaction():
        store.db.execute("UPDATE revisions SET status = 'discarded' WHERE key = ? AND status = 'held'", [key])
        store.db.execute("UPDATE outbox SET payload_hash = ?, updated_at = now() WHERE key = ?",
                         [held.payload_hash, key])


def document_date(data: dict[str, Any]) -> str | None:
    """The document's own date (`TxnDate`, at the top of a QBO payload or inside a qbXML `…Add`), as text."""
    if isinstance(data.get("TxnDate"), str):
        return data["TxnDate"]
    for key, body in data.items():
        if not key.startswith("_") and isinstance(body, dict) and isinstance(body.get("TxnDate"), str):
            return body["TxnDate"]
    return None


def select_held(store: Store, *, streams: Iterable[str] = (), since: date | None = None,
                until: date | None = None) -> list[HeldRevision]:
    """What is held, filtered: by document type (`streams`, e.g. SalesReceipt; any when empty, compared without
    case) and by the new version's document date, from `since` to `until` inclusive (a document without a date
    is kept only when no date bound is given)."""
    return [h for h in held_revisions(store) if revision_matches(h, streams=streams, since=since, until=until)]


def revision_matches(held: Any, *, streams: Iterable[str] = (), since: date | None = None,
                     until: date | None = None) -> bool:
    """`select_held`'s filter for one held revision (any object with `stream`, `old` and `new`)."""
    wanted = {s.casefold() for s in streams}
    if wanted and str(held.stream).casefold() not in wanted:
        return False
    if since is None and until is None:
        return True
    when = document_date(held.new or {}) or document_date(held.old or {})
    if when is None:
        return False
    try:
        day = date.fromisoformat(when[:10])
    except ValueError:
        return False
    return (since is None or day >= since) and (until is None or day <= until)


def revision_diff(held: HeldRevision) -> list[dict[str, Any]]:
    """Every field that differs between the posted payload and the held one (`path`, `old`, `new`, `change`),
    leaves only, in document order; the private `_…` write instructions are left out (they never make one)."""
    from .console.diff import payload_diff

    def document(data: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in data.items() if not k.startswith("_")}

    return payload_diff(document(held.old), document(held.new))
