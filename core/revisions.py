"""Documents whose source or mapping changed after they were posted: held, then revised on purpose.

A re-plan of a posted document never rewrites it: the new version waits in `revisions` (status `held`). The
bookkeeper decides per document: `apply` asks the destination for the writes that revise it — by default a
reversal of the posted document and the new version, each a document of its own whose notes link the two — and
queues them like any other write; `discard` keeps what was posted. Either way the decision is recorded and the
same new version is never held again, and the posted document's own row keeps what was posted (reconcile
compares the ledger against it). A re-plan that comes back to what was posted (an option set back to its old
value) releases the hold (status `released`): nothing changed after all.

A document deleted by hand in the ledger is posted again only on purpose: `repost_deleted` checks that the ledger
no longer has it (where the destination can read back), then queues the same payload under a new key whose note
names the deleted document and its key; the revisions table records the link (status `reposted`), so the same
document is never reposted twice and reconcile no longer reports it missing.

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
           "document_date", "revision_matches", "repost_deleted", "reposted_keys", "REPOSTED"]


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


#: the revisions row that links a deleted document to its repost (payload_hash column: this mark)
REPOSTED = "reposted"
#: how both QuickBooks plugins mark a document's key on the first line of its note (PrivateNote, Memo)
_KEY_MARK = "ledgerlink "


def reposted_keys(store: Store) -> set[str]:
    """Keys of posted documents that were deleted in the ledger and reposted under a new key."""
    return {k for (k,) in store.db.fetchall("SELECT key FROM revisions WHERE status = ?", [REPOSTED])}


def _relinked(node: Any, old_key: str, first_lines: str) -> Any:
    """The payload with the note that carries `old_key` (first line `ledgerlink KEY`) starting with
    `first_lines` instead; the rest of the note is kept."""
    if isinstance(node, dict):
        return {k: _relinked(v, old_key, first_lines) for k, v in node.items()}
    if isinstance(node, list):
        return [_relinked(v, old_key, first_lines) for v in node]
    if isinstance(node, str) and node.split("\n", 1)[0].strip() == _KEY_MARK + old_key:
        rest = node.split("\n", 1)[1] if "\n" in node else ""
        return first_lines + (f"\n{rest}" if rest else "")
    return node


def repost_deleted(store: Store, destination: Destination, key: str, *, config: Any = None,
                   context: Any = None, run_id: int | None = None, confirmed: bool = False) -> str:
    """Queue a posted document, deleted by hand in the ledger, to be posted again under a new key (the next sync
    writes it). Refused when it was never posted, was reposted already, or the ledger still has it; a destination
    that cannot read back needs `confirmed` (the person says it is gone). Returns the new key."""
    row = store.db.fetchone("SELECT o.stream, o.natural_key, o.data, o.status, r.destination_id FROM outbox o "
                            "LEFT JOIN results r ON r.key = o.key WHERE o.key = ? AND o.destination = ?",
                            [key, destination.name])
    if row is None or row[3] != "done" or row[4] is None:
        raise ConfigError(f"{key!r} was never posted by this pipeline, so there is nothing to post again",
                          hint="`ledgerlink reconcile` lists the posted documents missing from the ledger")
    stream, natural_key, data, _, old_id = row
    if key in reposted_keys(store):
        new = store.db.fetchone("SELECT data FROM revisions WHERE key = ? AND status = ?", [key, REPOSTED])
        raise ConfigError(f"{key!r} was reposted already", hint=f"its repost is {jsonutil.loads(new[0])['key']}; "
                                                                 "reconcile that one if it is missing too")
    posted = PostedDocument(key=key, stream=stream, data=jsonutil.loads(data), destination_id=old_id,
                            natural_key=natural_key)
    if type(destination).read_back is not Destination.read_back and config is not None:
        destination.open(config, context)
        try:
            still = [d for d in destination.read_back(config, [posted]) if d.key == key]
        finally:
            destination.close()
        if still:
            raise ConfigError(f"{stream} {old_id} ({key}) is still in the ledger: nothing to post again",
                              hint="a document that is there is revised, not reposted (`ledgerlink revisions`)")
    elif not confirmed:
        raise ConfigError(f"{destination.name} cannot read its documents back to confirm {key!r} was deleted",
                          hint="check in the ledger that it is gone, then repost it with --deleted")
    number = 1 + store.db.fetchone("SELECT count(*) FROM outbox WHERE key LIKE ?", [f"{key}~repost-%"])[0]
    new_key = f"{key}~repost-{number}"
    payload = _relinked(posted.data, key, f"{_KEY_MARK}{new_key}\nreposts {stream} {old_id} ({key}), deleted in "
                                          "the ledger")
    write = PlannedWrite(stream, new_key, payload, natural_key=natural_key)
    with store.db.transaction():
        store.outbox.add(destination.name, [write], run_id)
        store.db.execute("INSERT INTO audit SELECT ?, line, source_stream, source_key FROM audit WHERE outbox_key = ?",
                         [new_key, key])
        store.db.execute("INSERT INTO revisions VALUES (?, ?, ?, ?, ?, now())",
                         [key, REPOSTED, jsonutil.dumps({"key": new_key, "destination_id": old_id}), run_id,
                          REPOSTED])
    return new_key
