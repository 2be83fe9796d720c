"""The review queue: list what awaits approval, show one document as the ledger will receive it beside the
source rows it came from, and approve or reject one, a filtered set, or all.

Decisions record who made them (`by`, the signed-in user or the CLI's user) and when, and are kept in order in
`review_decisions`. An approved document posts on the next write pass; a rejected one never posts, unless a
re-plan of changed source rows brings a new version of it back to the queue.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Literal

from .. import jsonutil
from ..errors import ConfigError
from ..store import Store
from .summary import DocumentSummary, summarise

__all__ = ["ReviewFilter", "ReviewItem", "ReviewDocument", "SourceRow", "ReviewDecision", "ReviewStatus",
           "review_items", "review_document", "approve", "reject", "review_counts", "resolve_keys"]

ReviewStatus = Literal["awaiting", "approved", "rejected"]
#: a decision's `by` and `reason` are stored and shown: keep them to a readable size
MAX_BY, MAX_REASON = 200, 2000


@dataclass(frozen=True)
class ReviewFilter:
    """Which documents: every field left empty matches everything (so `ReviewFilter()` is "all")."""

    #: the document type, as the outbox names it (SalesReceipt, Invoice, JournalEntry…), case-insensitive
    kind: str | None = None
    #: the document's own date (TxnDate), inclusive
    date_from: date | None = None
    date_to: date | None = None
    #: part of the customer's name, case-insensitive
    customer: str | None = None
    #: the document's total, inclusive
    min_total: Decimal | None = None
    max_total: Decimal | None = None
    #: part of the key, the source object's id or anything in the payload, case-insensitive
    text: str | None = None
    status: ReviewStatus = "awaiting"

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ConfigError(f"the date range is empty: {self.date_from} is after {self.date_to}",
                              hint="give --from before --to")
        if self.min_total is not None and self.max_total is not None and self.min_total > self.max_total:
            raise ConfigError(f"the amount range is empty: {self.min_total} is more than {self.max_total}",
                              hint="give --min below --max")
        if self.status not in ("awaiting", "approved", "rejected"):
            raise ConfigError(f"no review status {self.status!r}", hint="awaiting, approved or rejected")

    def matches(self, item: "ReviewItem", payload_text: str) -> bool:
        s = item.summary
        if self.kind and item.kind.lower() != self.kind.lower():
            return False
        if self.date_from or self.date_to:
            day = _day(s.date)
            if day is None or (self.date_from and day < self.date_from) or (self.date_to and day > self.date_to):
                return False
        if self.customer and self.customer.lower() not in (s.customer or "").lower():
            return False
        if self.min_total is not None or self.max_total is not None:
            if s.total is None or (self.min_total is not None and s.total < self.min_total) \
                    or (self.max_total is not None and s.total > self.max_total):
                return False
        if self.text:
            needle = self.text.lower()
            if not any(needle in (h or "").lower() for h in (item.key, item.natural_key, payload_text)):
                return False
        return True


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


@dataclass
class ReviewItem:
    """One document in the review queue, with the summary a list shows."""

    key: str
    kind: str
    natural_key: str | None
    status: ReviewStatus
    #: the document's outbox status: pending (not sent), rejected, done (posted after approval), dead
    outbox_status: str
    held_at: str
    decided_by: str | None
    decided_at: str | None
    reason: str | None
    summary: DocumentSummary

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["summary"] = self.summary.to_dict()
        return out


@dataclass
class SourceRow:
    """A staged source row the document came from (`line`: the document line it became; None: the whole)."""

    stream: str
    key: str
    line: int | None
    record: dict[str, Any] | None


@dataclass
class ReviewDocument:
    """One document as the ledger will receive it (`payload`), the references planned with it (customers,
    items created with it unless they exist), and the source rows it came from."""

    item: ReviewItem
    payload: dict[str, Any]
    references: list[dict[str, Any]] = field(default_factory=list)
    source_rows: list[SourceRow] = field(default_factory=list)
    #: every decision on this document, oldest first
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item.to_dict(), "payload": self.payload, "references": self.references,
                "source_rows": [asdict(r) for r in self.source_rows], "history": self.history}


@dataclass
class ReviewDecision:
    """What a call to approve or reject did: the keys it decided, and each key it left alone with why."""

    decision: Literal["approved", "rejected"]
    by: str
    keys: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_ITEM_SQL = ("SELECT r.key, r.stream, o.natural_key, r.status, o.status, CAST(r.held_at AS VARCHAR), r.decided_by, "
             "CAST(r.decided_at AS VARCHAR), r.reason, o.data, o.depends_on FROM review r "
             "JOIN outbox o ON o.key = r.key")


def _references(store: Store, depends_on: list[str] | None) -> list[dict[str, Any]]:
    if not depends_on:
        return []
    rows = store.db.fetchall("SELECT key, stream, status, data FROM outbox WHERE key IN (SELECT unnest(?)) "
                             "AND NOT EXISTS (SELECT 1 FROM audit a WHERE a.outbox_key = outbox.key) ORDER BY seq",
                             [list(depends_on)])
    return [{"key": k, "kind": s, "status": st, "payload": jsonutil.loads(d)} for k, s, st, d in rows]


def _item(store: Store, row: tuple[Any, ...], refs: list[dict[str, Any]] | None = None) -> ReviewItem:
    key, kind, natural, status, outbox_status, held_at, by, at, reason, data, deps = row
    references = refs if refs is not None else _references(store, deps)
    summary = summarise(jsonutil.loads(data), [r["payload"] for r in references])
    return ReviewItem(key, kind, natural, status, outbox_status, held_at, by, at, reason, summary)


def review_items(store: Store, where: ReviewFilter | None = None, destination: str | None = None,
                 limit: int | None = None, offset: int = 0) -> list[ReviewItem]:
    """The documents in the review queue with `where.status` (default: awaiting approval) that match `where`,
    oldest first; `offset` matches skipped, then at most `limit` (a page of the console's list)."""
    where = where or ReviewFilter()
    if limit is not None and limit < 1:
        raise ConfigError(f"limit must be 1 or more, not {limit}")
    if offset < 0:
        raise ConfigError(f"offset must be 0 or more, not {offset}")
    live = "('pending', 'rejected')" if where.status != "approved" else "('pending', 'done', 'dead', 'awaiting')"
    rows = store.db.fetchall(
        f"{_ITEM_SQL} WHERE r.status = ? AND o.status IN {live} AND (? IS NULL OR r.destination = ?) "
        "ORDER BY r.held_at, o.seq", [where.status, destination, destination])
    out: list[ReviewItem] = []
    skip = offset
    for row in rows:
        item = _item(store, row)
        if not where.matches(item, row[9]):
            continue
        if skip:
            skip -= 1
            continue
        out.append(item)
        if limit is not None and len(out) >= limit:
            break
    return out


def resolve_keys(store: Store, ids: Iterable[str]) -> list[str]:
    """Review-queue keys for what a person typed: a key, or the source object's id (an order id) when it names
    exactly one document in the queue."""
    keys: list[str] = []
    for raw in ids:
        wanted = raw.strip()
        if not wanted:
            raise ConfigError("an empty document id", hint="give a key from `ledgerlink review list`")
        exact = store.db.fetchone("SELECT key FROM review WHERE key = ?", [wanted])
        if exact:
            keys.append(exact[0])
            continue
        found = [k for (k,) in store.db.fetchall(
            "SELECT r.key FROM review r JOIN outbox o ON o.key = r.key WHERE o.natural_key = ? "
            "OR ends_with(o.natural_key, '/' || ?) OR ends_with(r.key, '/' || ?) ORDER BY r.key",
            [wanted, wanted, wanted])]
        if not found:
            raise ConfigError(f"no document {wanted!r} in the review queue",
                              hint="`ledgerlink review list` shows the keys of what awaits approval")
        if len(found) > 1:
            raise ConfigError(f"{wanted!r} names {len(found)} documents: {', '.join(found[:5])}",
                              hint="give the full key of the one you mean")
        keys.append(found[0])
    return keys


def review_document(store: Store, key: str) -> ReviewDocument:
    """One document of the review queue (any status) with its payload, references, source rows and history."""
    (key,) = resolve_keys(store, [key])
    row = store.db.fetchone(f"{_ITEM_SQL} WHERE r.key = ?", [key])
    assert row is not None
    references = _references(store, row[10])
    item = _item(store, row, references)
    sources = [SourceRow(s["stream"], s["key"], s["line"], store.raw.get(s["stream"], s["key"]))
               for s in store.sources_of(key)]
    history = [dict(zip(("decision", "by", "at", "reason", "payload_hash"), h)) for h in store.db.fetchall(
        "SELECT decision, decided_by, CAST(decided_at AS VARCHAR), reason, payload_hash FROM review_decisions "
        "WHERE key = ? ORDER BY decided_at", [key])]
    return ReviewDocument(item, jsonutil.loads(row[9]), references, sources, history)


def _who(by: str) -> str:
    if not isinstance(by, str) or not by.strip():
        raise ConfigError("a review decision needs the name of who made it", hint="pass by= the signed-in user")
    if len(by) > MAX_BY or any(ord(c) < 32 for c in by):
        raise ConfigError(f"the decider's name must be one line of at most {MAX_BY} characters")
    return by.strip()


def _selected(store: Store, keys: Iterable[str] | None, where: ReviewFilter | None,
              statuses: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    if (keys is None) == (where is None):
        raise ConfigError("say which documents: give their keys, or a filter (an empty filter means all)")
    if where is not None:
        return [i.key for i in review_items(store, where)], {}
    chosen, skipped = [], {}
    for key in resolve_keys(store, keys or []):
        status, outbox_status, by = store.db.fetchone(
            "SELECT r.status, o.status, r.decided_by FROM review r JOIN outbox o ON o.key = r.key WHERE r.key = ?",
            [key])
        if outbox_status not in ("pending", "rejected"):
            skipped[key] = f"already {'posted' if outbox_status == 'done' else outbox_status}"
        elif status not in statuses:
            skipped[key] = f"{status} by {by}" + (
                ": a rejected document stays rejected until a change of its source brings it back"
                if status == "rejected" else "")
        elif key not in chosen:
            chosen.append(key)
    return chosen, skipped


def approve(store: Store, by: str, *, keys: Iterable[str] | None = None,
            where: ReviewFilter | None = None) -> ReviewDecision:
    """Approve awaiting documents (by key, or every one matching `where`): the next write pass posts them.
    Approving an already approved document changes nothing; a rejected one is skipped."""
    who = _who(by)
    if where is not None and where.status != "awaiting":
        raise ConfigError("only documents awaiting approval can be approved")
    chosen, skipped = _selected(store, keys, where, ("awaiting",))
    skipped = {k: v for k, v in skipped.items() if not v.startswith("approved")}
    _decide(store, chosen, "approved", who, None)
    return ReviewDecision("approved", who, chosen, skipped)


def reject(store: Store, by: str, *, keys: Iterable[str] | None = None, where: ReviewFilter | None = None,
           reason: str | None = None) -> ReviewDecision:
    """Reject documents awaiting approval (or approved and not yet posted): they never post. A later re-plan
    that changes a rejected document (its source changed) puts the new version back in the queue."""
    who = _who(by)
    if reason is not None and len(reason) > MAX_REASON:
        raise ConfigError(f"the reason is longer than {MAX_REASON} characters")
    if where is not None and where.status == "rejected":
        raise ConfigError("those documents are rejected already")
    chosen, skipped = _selected(store, keys, where, ("awaiting", "approved"))
    _decide(store, chosen, "rejected", who, reason.strip() if reason else None)
    return ReviewDecision("rejected", who, chosen, skipped)


def _decide(store: Store, keys: list[str], decision: str, by: str, reason: str | None) -> None:
    if not keys:
        return
    with store.db.transaction():
        # the decision is about the version a person sees now (`review_document` shows the outbox's payload)
        store.db.execute("UPDATE review SET status = ?, decided_by = ?, decided_at = now(), reason = ?, "
                         "payload_hash = o.payload_hash FROM outbox o WHERE o.key = review.key "
                         "AND review.key IN (SELECT unnest(?))", [decision, by, reason, keys])
        store.db.execute("INSERT INTO review_decisions SELECT key, payload_hash, ?, ?, now(), ? FROM review "
                         "WHERE key IN (SELECT unnest(?))", [decision, by, reason, keys])
        # a rejected document leaves the pending outbox, so no write pass (nor `dlq retry`) can send it
        store.db.execute("UPDATE outbox SET status = ?, updated_at = now() WHERE key IN (SELECT unnest(?)) "
                         "AND status IN ('pending', 'rejected')",
                         ["rejected" if decision == "rejected" else "pending", keys])


def review_counts(store: Store, destination: str | None = None) -> dict[str, int]:
    """How many documents await approval, are approved and not yet posted, and are rejected."""
    rows = store.db.fetchall(
        "SELECT r.status, count(*) FROM review r JOIN outbox o ON o.key = r.key WHERE o.status IN "
        "('pending', 'rejected') AND (? IS NULL OR r.destination = ?) GROUP BY ALL", [destination, destination])
    got = dict(rows)
    return {"awaiting_approval": int(got.get("awaiting", 0)), "approved_not_posted": int(got.get("approved", 0)),
            "rejected": int(got.get("rejected", 0))}
