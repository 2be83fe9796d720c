"""The write step's review gate: which planned writes wait for a person before they are sent.

A *document* is a planned write that traces back to source rows (it has audit rows: a receipt, an invoice, a
journal). A *reference* has none (a customer, an item the documents need): it is never reviewed on its own; it
waits while every document that needs it waits, and goes out with the first one approved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..store import Store

__all__ = ["ReviewGate", "hold_for_review", "held_keys", "review_holds_new"]

_DOCUMENT = "EXISTS (SELECT 1 FROM audit a WHERE a.outbox_key = o.key)"


@dataclass(frozen=True)
class ReviewGate:
    """What the write step must not send this pass, and how many documents await a decision."""

    held: frozenset[str] = field(default_factory=frozenset)
    awaiting: int = 0
    rejected: int = 0


def review_holds_new(store: Store, destination: str, mode: str) -> bool:
    """Whether documents planned now wait: always; or first_run until the first approval — unless the
    pipeline already posted documents without review (its first run is long past)."""
    if mode == "always":
        return True
    if mode != "first_run":
        return False
    approved = store.db.fetchone(
        "SELECT count(*) FROM review_decisions d JOIN review r ON r.key = d.key "
        "WHERE r.destination = ? AND d.decision = 'approved'", [destination])[0]
    if approved:
        return False
    posted_unreviewed = store.db.fetchone(
        f"SELECT count(*) FROM outbox o WHERE o.destination = ? AND o.status = 'done' AND {_DOCUMENT} "
        "AND o.key NOT IN (SELECT key FROM review)", [destination])[0]
    return not posted_unreviewed


def hold_for_review(store: Store, destination: str, mode: str, run_id: int | None = None) -> ReviewGate:
    """Put newly planned documents in the review queue when the mode says so, send a re-planned document
    (payload changed since it was approved or rejected) back to awaiting, and say what must not be sent."""
    has_rows = store.db.fetchone("SELECT count(*) FROM review WHERE destination = ?", [destination])[0]
    holding = review_holds_new(store, destination, mode)
    if not has_rows and not holding:
        return ReviewGate()
    with store.db.transaction():
        # a decision is about one version of the document: a new plan of it needs a new decision
        store.db.execute(
            "UPDATE review SET status = 'awaiting', payload_hash = o.payload_hash, decided_by = NULL, "
            "decided_at = NULL, reason = NULL FROM outbox o WHERE o.key = review.key AND o.destination = ? "
            "AND o.status = 'pending' AND o.payload_hash <> review.payload_hash", [destination])
        if holding:
            store.db.execute(
                "INSERT INTO review SELECT o.key, o.destination, o.stream, o.payload_hash, 'awaiting', now(), ?, "
                f"NULL, NULL, NULL FROM outbox o WHERE o.destination = ? AND o.status = 'pending' AND {_DOCUMENT} "
                "AND o.key NOT IN (SELECT key FROM review)", [run_id, destination])
    return ReviewGate(frozenset(held_keys(store, destination)), *_counts(store, destination))


def _counts(store: Store, destination: str) -> tuple[int, int]:
    rows = dict(store.db.fetchall(
        "SELECT r.status, count(*) FROM review r JOIN outbox o ON o.key = r.key WHERE r.destination = ? "
        "AND o.status IN ('pending', 'rejected') GROUP BY ALL", [destination]))
    return int(rows.get("awaiting", 0)), int(rows.get("rejected", 0))


def held_keys(store: Store, destination: str) -> set[str]:
    """Planned writes not to send: documents awaiting a decision or rejected, and the references that only
    such documents need. Reads the state only (nothing is put in the queue)."""
    held = {k for (k,) in store.db.fetchall(
        "SELECT r.key FROM review r JOIN outbox o ON o.key = r.key WHERE r.destination = ? "
        "AND o.status IN ('pending', 'rejected') AND (r.status <> 'approved' OR r.payload_hash <> o.payload_hash)",
        [destination])}
    if not held:
        return held
    references = {k for (k,) in store.db.fetchall(
        f"SELECT o.key FROM outbox o WHERE o.destination = ? AND o.status = 'pending' AND NOT {_DOCUMENT}",
        [destination])}
    if not references:
        return held
    needed_by: dict[str, list[tuple[str, str]]] = {}
    for dependent, status, ref in store.db.fetchall(
            "SELECT key, status, dep FROM (SELECT key, status, unnest(depends_on) AS dep FROM outbox "
            "WHERE destination = ?) WHERE dep IN (SELECT unnest(?))", [destination, sorted(references)]):
        needed_by.setdefault(ref, []).append((dependent, status))
    changed = True
    while changed:  # a reference another held reference needs is held too; at most one round per reference
        changed = False
        for ref in references - held:
            users = needed_by.get(ref)
            if users and all(k in held or status == "rejected" for k, status in users):
                held.add(ref)
                changed = True
    return held
