"""The outbox: every planned write, keyed by its idempotency key, before and after it is written.

status: pending (to send) | awaiting (sent, waiting for the remote's confirmation) | done | dead (a dead letter)
| rejected (refused in review: never sent; a re-plan that changes it makes it pending, and review holds it again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import pyarrow as pa

from .. import jsonutil
from ..connectors import OutboundRecord, PlannedWrite
from .database import Database

__all__ = ["Outbox", "PlanOutcome", "EncodedWrite", "encode_payload"]


@dataclass
class PlanOutcome:
    new: int = 0
    unchanged: int = 0
    replaced: int = 0  # not yet written, payload updated in place
    revised: int = 0  # already written and now different: held as a revision, never rewritten silently


def encode_payload(data: dict[str, Any]) -> tuple[str, str]:
    """A payload as the outbox stores it: its JSON text and its hash (`PlannedWrite.payload_hash`)."""
    return jsonutil.dumps(data), PlannedWrite(stream="", key="", data=data).payload_hash


class EncodedWrite:
    """A planned write already in the outbox's form: its payload as JSON text with its hash, its audit rows as
    (line, source stream, source key). The plan helper process (`runtime.plan_workers`) hands its writes back so:
    text pickles at a fraction of the cost of dicts of Decimals, and the helper, not the process that writes
    the outbox, pays for the encoding. `data` (the payload read back) is only read where a write replaces a
    posted one; `memo` is the payload itself for writes rendered once per run (their first one wins)."""

    __slots__ = ("stream", "key", "text", "payload_hash", "depends_on", "natural_key", "audit", "memo")

    def __init__(self, stream: str, key: str, text: str, payload_hash: str, depends_on: list[str],
                 natural_key: str | None, audit: list[tuple[int | None, str, str]],
                 memo: dict[str, Any] | None = None):
        self.stream, self.key, self.text, self.payload_hash = stream, key, text, payload_hash
        self.depends_on, self.natural_key, self.audit, self.memo = depends_on, natural_key, audit, memo

    @classmethod
    def of(cls, write: PlannedWrite, encoded: tuple[str, str], *, memo: bool = False) -> "EncodedWrite":
        """`write` with its payload's `encode_payload` (computed once for a payload many writes share)."""
        audit = [(None, r.stream, r.key) for r in write.source_refs]
        audit.extend((line, r.stream, r.key) for line, r in write.line_refs)
        return cls(write.stream, write.key, encoded[0], encoded[1], write.depends_on, write.natural_key, audit,
                   write.data if memo else None)

    def __reduce__(self) -> tuple[Any, ...]:  # pickled as its arguments: about half the cost of its slots' state
        return EncodedWrite, (self.stream, self.key, self.text, self.payload_hash, self.depends_on, self.natural_key,
                              self.audit, self.memo)

    @property
    def data(self) -> dict[str, Any]:
        return self.memo if self.memo is not None else jsonutil.loads(self.text)


def _text(write: "PlannedWrite | EncodedWrite") -> str:
    return write.text if isinstance(write, EncodedWrite) else jsonutil.dumps(write.data)


def _document(data: dict[str, Any]) -> dict[str, Any]:
    """A payload without its private top-level `_…` keys: how to write it (look-ups, references to create on
    demand), not what the document says. A change there never makes a posted document a revision."""
    return {k: v for k, v in data.items() if not k.startswith("_")}


class Outbox:
    def __init__(self, db: Database):
        self.db = db
        # `sends`: how many times an item went to the destination, ever. Unlike `attempts` (the retry budget,
        # restarted by `dlq retry` and by a re-plan) it never goes back, so a send never reuses the request id
        # of an earlier one that the remote answered with an error (QBO replays a repeated id's first answer).
        # Added here, not in schema.sql's CREATE, so state files written before it gain the column too.
        self.db.execute("ALTER TABLE outbox ADD COLUMN IF NOT EXISTS sends INTEGER DEFAULT 0")

    def add(self, destination: str, writes: "list[PlannedWrite] | list[PlannedWrite | EncodedWrite]",
            run_id: int | None) -> PlanOutcome:
        """Insert planned writes in bulk; decide per key what a re-plan means."""
        outcome = PlanOutcome()
        if not writes:
            return outcome
        by_key: dict[str, PlannedWrite | EncodedWrite] = {}
        hashes: dict[str, str] = {}
        for w in writes:  # the last plan of a key in a batch wins
            by_key[w.key] = w
        for key, w in by_key.items():  # hashed once per key (a batch repeats its shared Customer and Items)
            hashes[key] = w.payload_hash
        keys = list(by_key)
        existing = {k: (h, s) for k, h, s in self.db.fetchall(
            "SELECT key, payload_hash, status FROM outbox WHERE key IN (SELECT unnest(?))", [keys])}
        fresh, replace, revise, back = [], [], [], []
        for key, w in by_key.items():
            if key not in existing:
                fresh.append(w)
            elif existing[key][0] == hashes[key]:
                outcome.unchanged += 1
                back.append(key)
            elif existing[key][1] == "done":
                revise.append(w)
            else:
                replace.append(w)
        if revise:  # a posted document whose only change is in its private `_…` write instructions is the same
            posted = dict(self.db.fetchall("SELECT key, data FROM outbox WHERE key IN (SELECT unnest(?))",
                                           [[w.key for w in revise]]))
            same = {w.key for w in revise if _document(jsonutil.loads(posted[w.key])) == _document(w.data)}
            outcome.unchanged += len(same)
            back.extend(same)
            revise = [w for w in revise if w.key not in same]
        if back:  # planned as posted again (an option set back): a revision held for it is released
            self.db.execute("UPDATE revisions SET status = 'released' WHERE status = 'held' AND key IN "
                            "(SELECT unnest(?))", [back])
        if fresh:
            table = pa.table({
                "key": [w.key for w in fresh],
                "stream": [w.stream for w in fresh],
                "data": [_text(w) for w in fresh],
                "payload_hash": [hashes[w.key] for w in fresh],
                "depends_on": pa.array([w.depends_on for w in fresh], pa.list_(pa.string())),
                "natural_key": [w.natural_key for w in fresh],
            })
            with self.db.lock:
                self.db.con.register("ll_plan", table)
                try:
                    self.db.execute(
                        "INSERT INTO outbox (key, destination, stream, data, payload_hash, depends_on, natural_key, "
                        "status, attempts, seq, planned_run, updated_at, sends) SELECT key, ?, stream, data, "
                        "payload_hash, depends_on, natural_key, 'pending', 0, nextval('ll_seq'), ?, now(), 0 "
                        "FROM ll_plan", [destination, run_id])
                finally:
                    self.db.con.unregister("ll_plan")
            self._audit(fresh)
            outcome.new = len(fresh)
        for w in replace:
            self.db.execute("UPDATE outbox SET data = ?, payload_hash = ?, depends_on = ?, status = 'pending', "
                            "attempts = 0, updated_at = now() WHERE key = ?",
                            [_text(w), hashes[w.key], w.depends_on, w.key])
            self.db.execute("DELETE FROM audit WHERE outbox_key = ?", [w.key])
            self._audit([w])
            outcome.replaced += 1
        for w in revise:
            self.db.execute("INSERT OR IGNORE INTO revisions VALUES (?, ?, ?, ?, 'held', now())",
                            [w.key, hashes[w.key], _text(w), run_id])
            self.db.execute("UPDATE revisions SET status = 'held', created_at = now() WHERE key = ? AND "
                            "payload_hash = ? AND status = 'released'", [w.key, hashes[w.key]])  # changed again
            outcome.revised += 1
        return outcome

    def _audit(self, writes: "list[PlannedWrite | EncodedWrite]") -> None:
        rows: list[tuple[str, int | None, str, str]] = []
        for w in writes:
            if isinstance(w, EncodedWrite):
                rows.extend((w.key, line, stream, key) for line, stream, key in w.audit)
                continue
            rows.extend((w.key, None, r.stream, r.key) for r in w.source_refs)
            rows.extend((w.key, line, r.stream, r.key) for line, r in w.line_refs)
        if rows:
            table = pa.table({"outbox_key": [r[0] for r in rows], "line": pa.array([r[1] for r in rows], pa.int32()),
                              "source_stream": [r[2] for r in rows], "source_key": [r[3] for r in rows]})
            with self.db.lock:
                self.db.con.register("ll_audit", table)
                try:
                    self.db.execute("INSERT INTO audit SELECT * FROM ll_audit")
                finally:
                    self.db.con.unregister("ll_audit")

    def pending(self, destination: str, stream: str, batch: int, *, held: frozenset[str] = frozenset()
                ) -> Iterator[list[tuple[OutboundRecord, list[str]]]]:
        """Pending records of one object type, oldest plan first, with their dependencies; `held` keys (waiting
        for review) are left out."""
        after = -1
        while True:
            rows = self.db.fetchall(
                "SELECT key, data, attempts, depends_on, seq, sends FROM outbox WHERE destination = ? AND stream = ? "
                "AND status = 'pending' AND seq > ? ORDER BY seq LIMIT ?", [destination, stream, after, batch])
            if not rows:
                return
            ready = [(OutboundRecord(key=k, stream=stream, data=jsonutil.loads(d), attempts=a, sends=s or 0),
                      list(deps or [])) for k, d, a, deps, _, s in rows if k not in held]
            if ready:
                yield ready
            after = rows[-1][4]

    def streams_pending(self, destination: str) -> list[str]:
        return [r[0] for r in self.db.fetchall(
            "SELECT DISTINCT stream FROM outbox WHERE destination = ? AND status = 'pending'", [destination])]

    def statuses(self, keys: list[str]) -> dict[str, str]:
        if not keys:
            return {}
        return dict(self.db.fetchall("SELECT key, status FROM outbox WHERE key IN (SELECT unnest(?))", [keys]))

    def mark(self, key: str, status: str, *, attempt: bool = False) -> None:
        step = 1 if attempt else 0
        self.db.execute("UPDATE outbox SET status = ?, attempts = attempts + ?, sends = coalesce(sends, 0) + ?, "
                        "updated_at = now() WHERE key = ?", [status, step, step, key])

    def mark_done(self, destination: str, stream: str, results: list[tuple[str, str | None, str | None, bool]],
                  run_id: int | None) -> None:
        """Record successful writes in bulk: (key, destination id, version, created)."""
        if not results:
            return
        table = pa.table({"key": [r[0] for r in results], "destination_id": [r[1] for r in results],
                          "version": [r[2] for r in results], "created": [r[3] for r in results]})
        with self.db.lock:
            self.db.con.register("ll_done", table)
            try:
                self.db.execute("UPDATE outbox SET status = 'done', attempts = attempts + 1, "
                                "sends = coalesce(sends, 0) + 1, updated_at = now() WHERE key IN (SELECT key FROM ll_done)")
                self.db.execute("INSERT OR REPLACE INTO results SELECT key, ?, ?, destination_id, version, created, "
                                "?, now() FROM ll_done", [destination, stream, run_id])
            finally:
                self.db.con.unregister("ll_done")

    def get(self, key: str) -> dict[str, Any] | None:
        row = self.db.fetchone("SELECT key, destination, stream, data, status, attempts, depends_on, natural_key "
                               "FROM outbox WHERE key = ?", [key])
        if row is None:
            return None
        names = ("key", "destination", "stream", "data", "status", "attempts", "depends_on", "natural_key")
        out = dict(zip(names, row))
        out["data"] = jsonutil.loads(out["data"])
        return out

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for stream, status, n in self.db.fetchall("SELECT stream, status, count(*) FROM outbox GROUP BY ALL"):
            out.setdefault(stream, {})[status] = n
        return out
