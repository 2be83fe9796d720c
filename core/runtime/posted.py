"""What a destination's outbox holds for each natural key, read batch by batch while normalise plans.

A plan asks what was already planned or posted for an object (`PlanContext.posted`): an order's receipt before
its payment or void, a sale before its refund. Reading the whole outbox once per run and adding every planned
write to it made memory grow with the run (4 GB at 500,000 orders); this reads, per batch, only the keys the
batch's objects name (one query), plus any other key a plan asks for (one query each), and forgets them once
the batch is committed: by then the outbox itself holds what the batch planned.
"""

from __future__ import annotations

from typing import Any, Iterable

from .. import jsonutil
from ..connectors import PlannedWrite, PostedDocument

__all__ = ["PostedLookup"]

_QUERY = ("SELECT o.key, o.stream, o.natural_key, o.data, o.status, r.destination_id FROM outbox o "
          "LEFT JOIN results r ON r.key = o.key WHERE o.destination = ? AND o.natural_key IN (SELECT unnest(?)) "
          "ORDER BY o.seq")


class PostedLookup:
    """Outbox rows by natural key for the batch being planned, with the batch's own plans on top (as pending).
    Without a database (`db` None) there is nothing to read: it only remembers what was planned."""

    def __init__(self, db: Any | None, destination: str | None):
        self._db, self._destination = db, destination
        self._docs: dict[str, list[PostedDocument]] = {}

    def prefetch(self, natural_keys: Iterable[str]) -> None:
        """Read the rows of these keys (those not read yet in this batch) in one query."""
        missing = sorted({k for k in natural_keys if k and k not in self._docs})
        if not missing:
            return
        for key in missing:
            self._docs[key] = []
        if self._db is None:
            return
        for key, stream, nk, data, status, dest_id in self._db.fetchall(_QUERY, [self._destination, missing]):
            self._docs[nk].append(PostedDocument(key=key, stream=stream, data=jsonutil.loads(data),
                                                 destination_id=dest_id, natural_key=nk, status=status))

    def get(self, natural_key: str) -> list[PostedDocument]:
        if natural_key not in self._docs:
            self.prefetch([natural_key])
        return list(self._docs.get(natural_key, []))

    def remember(self, writes: list[PlannedWrite]) -> None:
        """Writes just planned replace their key's row (as pending) until the batch is committed."""
        self.prefetch(w.natural_key for w in writes if w.natural_key)
        for w in writes:
            if not w.natural_key:
                continue
            docs = self._docs[w.natural_key]
            docs[:] = [d for d in docs if d.key != w.key]
            docs.append(PostedDocument(key=w.key, stream=w.stream, data=w.data, natural_key=w.natural_key,
                                       status="pending"))

    def end_batch(self) -> None:
        """The batch is committed: the outbox holds its writes, so forget them (memory stays one batch deep).
        Without a database the plans are all there is, so they are kept."""
        if self._db is not None:
            self._docs.clear()

    def refunds_of(self, order_key: str) -> list[PostedDocument]:
        """Documents planned or posted as refunds of an order (their payload's `_ledgerlink.refund_of` names
        its natural key), the batch's own plans on top: a later refund counts the earlier ones."""
        found: dict[str, PostedDocument] = {}
        if self._db is not None:
            for key, stream, nk, data, status, dest_id in self._db.fetchall(
                    "SELECT o.key, o.stream, o.natural_key, o.data, o.status, r.destination_id FROM outbox o "
                    "LEFT JOIN results r ON r.key = o.key WHERE o.destination = ? AND o.natural_key LIKE '%/refund/%' "
                    "AND json_extract_string(o.data, '$._ledgerlink.refund_of') = ?", [self._destination, order_key]):
                found[key] = PostedDocument(key=key, stream=stream, data=jsonutil.loads(data), destination_id=dest_id,
                                            natural_key=nk, status=status)
        for docs in self._docs.values():
            for d in docs:
                if ((d.data.get("_ledgerlink") or {}) if isinstance(d.data, dict) else {}).get("refund_of") == order_key:
                    found[d.key] = d
        return list(found.values())

    def __len__(self) -> int:
        return len(self._docs)
