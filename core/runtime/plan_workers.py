"""A helper process that normalises and plans half of each batch, so planning uses a second core.

Normalise + plan is Python bound by one core; on a machine with two, `normalise_and_plan` hands the second part
of each batch (three fifths: the parent also writes the outbox) to this helper while it plans the first part
itself, then joins the parts in record order. The
result must be the one planning in one process gives (the outbox, its audit rows, dead letters, counts), so the
helper only plans what it can plan the same way, and hands everything else back to be planned in the parent:

- only for a destination that says which canonical kinds it can plan this way (`Destination.plan_in_helper`,
  e.g. QuickBooks Online's orders) and which of its writes are rendered once per run and key
  (`Destination.run_memoised_streams`: its Customers and Items, held in `PlanContext.cache` under the write's
  key). Payloads of those writes are replaced by the first one of the run, in record order, when the halves
  are joined, exactly as one process's memo would have made them;
- the helper's `PlanContext.posted` knows the keys of its own objects (read by the parent in the batch's one
  query); a plan asking about any other key, a plan that fails, or an object of another kind makes the helper
  give the half back, and the parent plans it as it always did;
- a key planned in both halves of a batch is planned in the parent (the second half must see the first's).

The helper is forked from the parent once per run, inherits its normalisers, destination and mapping engine
(nothing user-written needs to pickle), never touches the state file, and ends with the run.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any, Callable

from .. import jsonutil
from ..connectors import Destination, Normaliser, PlannedWrite, PostedDocument
from ..errors import LedgerlinkError
from ..store.outbox import EncodedWrite, encode_payload
from .posted import PostedLookup

if TYPE_CHECKING:
    from .normalise import PlanContextImpl

__all__ = ["PlanHelper", "MIN_SHARE", "PARENT_SHARE", "COLUMNAR_PARENT_SHARE", "FIXED_SHARE", "plan_workers"]

log = logging.getLogger("ledgerlink.normalise")

#: records a helper takes at the least (a batch of fewer than twice this is planned in one process)
MIN_SHARE = 100
#: the part of a batch the parent plans itself: it also writes the outbox and joins the parts, so with an even
#: split it took 2.3 CPU-s where its helper took 1.7 (6,000 orders)
PARENT_SHARE = 0.4
#: the same with the columnar fast path (issue 18): planning a record is so much cheaper there that the parent's
#: own work (reading the batch, writing the outbox, joining the parts) takes a larger share of its time. Where a
#: run starts: since the helper answers with encoded writes and works on the next part while the parent writes
#: the outbox, a third is where the two processes' CPU times met at 10,000 orders (parent 1.32-1.45 CPU-s,
#: helper 1.38-1.52; with a fifth 1.15-1.22 and 1.50-1.60); each run then moves it (`normalise._Ahead.balance`)
_DEFAULT_COLUMNAR_SHARE = 0.3


def columnar_share_from_env(value: str | None) -> tuple[float, bool]:
    """The parent's starting share and whether it stays fixed, from LEDGERLINK_COLUMNAR_PARENT_SHARE (a tuning
    knob for benchmarks): a number between 0 and 1 (exclusive) is kept as set; anything else is named in a
    warning and the default is used, so a typo never stops a run (nor every command, at import)."""
    if not value:
        return _DEFAULT_COLUMNAR_SHARE, False
    try:
        share = float(value)
    except ValueError:
        share = float("nan")
    if not 0.0 < share < 1.0:  # also NaN
        log.warning("LEDGERLINK_COLUMNAR_PARENT_SHARE=%r is not a number between 0 and 1: using %s and moving it "
                    "towards balance as usual", value[:40], _DEFAULT_COLUMNAR_SHARE)
        return _DEFAULT_COLUMNAR_SHARE, False
    return share, True


#: a share set in the environment stays as set (else each run moves it towards balance, `normalise._Ahead`)
COLUMNAR_PARENT_SHARE, FIXED_SHARE = columnar_share_from_env(os.environ.get("LEDGERLINK_COLUMNAR_PARENT_SHARE"))
#: seconds between checks that the helper is still alive while waiting for it
_POLL_S = 1.0


def plan_workers(requested: int | None = None) -> int:
    """How many processes plan: `requested`, else `LEDGERLINK_PLAN_WORKERS`, else 2 when this process may use
    two cores or more, can fork and runs no other thread, else 1."""
    if requested is None:
        env = os.environ.get("LEDGERLINK_PLAN_WORKERS", "").strip()
        if env.isdigit():
            requested = int(env)
    if requested is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            cores = os.cpu_count() or 1
        # forking a process whose other threads may hold a lock (serve's syncs, a fleet worker, a web server)
        # can leave the copy waiting on it for ever: the helper is only chosen for a single-threaded run
        requested = 2 if cores >= 2 and threading.active_count() == 1 else 1
    if requested > 1 and "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(max(requested, 1), 2)


class _Unknown(Exception):
    """A plan asked the helper about a key it was not given."""


class _Snapshot(PostedLookup):
    """What the parent read from the outbox for the helper's objects; any other key is unknown here."""

    def __init__(self, docs: dict[str, list[PostedDocument]]):
        super().__init__(None, None)
        self._docs = {k: list(v) for k, v in docs.items()}

    def get(self, natural_key: str) -> list[PostedDocument]:
        if natural_key not in self._docs:
            raise _Unknown(natural_key)
        return list(self._docs[natural_key])


def _pack_error(err: LedgerlinkError) -> tuple[type, tuple[Any, ...], dict[str, Any]]:
    """An error as (class, args, attributes): a RecordError's keyword-only arguments do not survive pickling."""
    return type(err), err.args, dict(err.__dict__)


def _unpack_error(packed: tuple[type, tuple[Any, ...], dict[str, Any]]) -> LedgerlinkError:
    cls, args, attrs = packed
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(attrs)
    return err


def _serve(conn: Any, parent_end: Any, destination: Destination, normalisers: list[Normaliser],
           ctx: "PlanContextImpl") -> None:
    """The helper's loop: ("normalise", stream index, rows) → natural keys; ("plan", posted) → results;
    ("columnar", stream index, rows, speculate) → natural keys, and with `speculate` the results at once, planned
    as if the outbox held nothing for them (the parent checks that it does not, see `PlanHelper.columnar`)."""
    from .normalise import natural_keys, normalise_records

    parent_end.close()  # the fork copied the parent's end: closed, a parent that dies ends this loop (EOF)

    kinds_allowed = frozenset(getattr(destination, "plan_in_helper", ()) or ())
    memoised = frozenset(getattr(destination, "run_memoised_streams", ()) or ())
    pending: tuple[Any, ...] | None = None
    columnar: dict[int, Any] = {}
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        try:
            if message[0] == "columnar":  # issue 18: the columnar fast path's part of a batch (see `_columnar_part`)
                pending = _columnar_part(columnar, message[1], message[2], normalisers, destination, ctx,
                                         kinds_allowed)
                conn.send(pending[3] if pending is not None else None)
                if pending is not None and len(message) > 3 and message[3]:  # speculate: plan before being asked
                    conn.send(_plan_part(pending, {key: [] for key in pending[3]}, destination, ctx, memoised))
            elif message[0] == "normalise":
                n = normalisers[message[1]]
                normalised = normalise_records(n, [(pk, jsonutil.loads(data)) for pk, data in message[2]], {})
                pending = (n, normalised)
                objects = [obj for _, _, objs, _ in normalised if not isinstance(objs, LedgerlinkError) for obj in objs]
                ok = all(obj.kind in kinds_allowed for obj in objects)
                conn.send(natural_keys(normalised) if ok else None)
            elif message[0] == "discard":
                pending = None
            elif message[0] == "plan":
                assert pending is not None
                part, pending = pending, None
                conn.send(_plan_part(part, message[1], destination, ctx, memoised))
        except Exception:  # noqa: BLE001 - anything unexpected: the parent plans the half itself
            log.debug("plan helper gave a half back", exc_info=True)
            pending = None
            try:
                conn.send(None)
            except Exception:  # noqa: BLE001 - the parent is gone
                return


def _plan_part(part: tuple[Any, ...], posted: dict[str, list[PostedDocument]], destination: Destination,
               ctx: "PlanContextImpl", memoised: frozenset[str]) -> tuple[Any, ...] | None:
    """Plan a normalised (or columnar-prepared) part against what the parent read from the outbox for its keys:
    (encoded writes, packed dead letters, resolved keys, counts, kinds), or None: the parent plans it."""
    from .normalise import normalise_records, plan_normalised

    ctx._posted = _Snapshot(posted)
    counts: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    try:
        if len(part) == 4:  # columnar: (batches, rows, prepared, keys)
            writes, dead, resolved = part[0].plan_prepared(part[1], part[2], counts, kinds, plan_normalised,
                                                           normalise_records)
        else:
            writes, dead, resolved = plan_normalised(part[0], part[1], destination, ctx, counts, kinds)
    except _Unknown:
        return None
    if any(stage != "normalise" for stage, *_ in dead):  # a failing plan: the parent plans it
        return None
    return (_encode(writes, memoised), [(s, k, r, _pack_error(e)) for s, k, r, e in dead], resolved, counts, kinds)


def _encode(writes: list[PlannedWrite], memoised: frozenset[str]) -> list[EncodedWrite]:
    """The writes in the outbox's form, each distinct payload encoded once (a part's writes of one Customer or
    Item share it); run-memoised writes keep their payload too, for the parent's memo (`PlanHelper.adopt`)."""
    encoded: dict[int, tuple[str, str]] = {}
    out = []
    for w in writes:
        done = encoded.get(id(w.data))
        if done is None:
            done = encoded[id(w.data)] = encode_payload(w.data)
        out.append(EncodedWrite.of(w, done, memo=w.stream in memoised))
    return out


def _columnar_part(columnar: dict[int, Any], index: int, rows: list[tuple[str, str, int]],
                   normalisers: list[Normaliser], destination: Destination, ctx: "PlanContextImpl",
                   kinds_allowed: frozenset[str]) -> tuple[Any, ...] | None:
    """Read the helper's part of a batch through the columnar fast path: (batches, rows, prepared, keys), or
    None when the part must be planned in the parent (no fast path here, or an object of another kind)."""
    from ..columnar import ColumnarBatches
    from .normalise import natural_keys, normalise_records

    if index not in columnar:
        columnar[index] = ColumnarBatches.start(normalisers[index], destination, ctx, None, in_helper=True)
    batches = columnar[index]
    if batches is None:
        return None
    prepared = batches.prepare(rows, normalise_records, natural_keys)
    objects = [obj for part in prepared.reference.values() for _, _, objs, _ in part
               if not isinstance(objs, LedgerlinkError) for obj in objs]
    if "order" not in kinds_allowed or any(obj.kind not in kinds_allowed for obj in objects):
        return None
    return batches, rows, prepared, prepared.keys


class PlanHelper:
    """The parent's side of the helper process (started on first use, stopped with the run)."""

    def __init__(self, destination: Destination, normalisers: list[Normaliser], ctx: "PlanContextImpl",
                 before_fork: Callable[[], None] | None = None):
        self._args = (destination, normalisers, ctx)
        self._before_fork = before_fork
        self._memoised = frozenset(getattr(destination, "run_memoised_streams", ()) or ())
        self._process: Any = None
        self._conn: Any = None
        self._broken = False
        #: answers the helper owes (a helper still planning is ended, not waited for, when the run ends)
        self._owed = 0
        #: the run's first payload of a memoised write, encoded (`adopt`), by key
        self._first: dict[str, tuple[dict[str, Any], str, str]] = {}
        #: whether the last answer had to be waited for (the helper was still working when it was asked for)
        self.waited = False
        #: messages for the helper, sent in order by `_sender` (see `_post`)
        self._messages: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._sender: threading.Thread | None = None
        self._send_failed = False

    @classmethod
    def start(cls, destination: Destination, normalisers: list[Normaliser], ctx: "PlanContextImpl",
              workers: int | None, before_fork: Callable[[], None] | None = None) -> "PlanHelper | None":
        """A helper when planning may use two processes and the destination allows it, else None.
        `before_fork` runs just before the process is forked (to shrink what it inherits)."""
        if not getattr(destination, "plan_in_helper", None) or plan_workers(workers) < 2:
            return None
        return cls(destination, normalisers, ctx, before_fork)

    def _ensure(self) -> bool:
        if self._broken:
            return False
        if self._process is None:
            context = multiprocessing.get_context("fork")
            parent, child = context.Pipe()
            self._process = context.Process(target=_serve, args=(child, parent, *self._args), daemon=True,
                                            name="ledgerlink-plan-helper")
            if self._before_fork is not None:  # what the parent need not hand the helper (its cached pages)
                self._before_fork()
            self._process.start()
            child.close()
            self._conn = parent
            # started after the fork: a process forked while another thread runs may inherit a held lock
            self._sender = threading.Thread(target=self._send_all, name="ledgerlink-plan-helper-sender",
                                            daemon=True)
            self._sender.start()
        return True

    def _post(self, message: Any, answers: int) -> bool:
        """Queue a message for the helper, which owes `answers` answers to it. A thread sends them, in order, so
        this process never waits for the helper to read: it may send a part while the helper still plans the
        one before, whose answer it sends back meanwhile (two processes each blocked sending to the other
        would wait for ever)."""
        if self._broken or self._send_failed:
            self._broken = True
            return False
        self._messages.put(message)
        self._owed += answers
        return True

    def _send_all(self) -> None:
        while True:
            message = self._messages.get()
            try:
                self._conn.send(message)
            except (OSError, ValueError):  # the helper is gone (or was ended): the waiting side finds out
                self._send_failed = True
                return
            if message is None:
                return

    def _receive(self) -> Any:
        """The helper's answer; None (plan it here) if the helper died."""
        try:
            self.waited = not self._conn.poll(0)
            while self.waited and not self._conn.poll(_POLL_S):
                if not self._process.is_alive() or self._send_failed:
                    raise EOFError
            self._owed -= 1
            return self._conn.recv()
        except (EOFError, OSError):
            log.warning("the plan helper process stopped; planning in one process")
            self._broken = True
            return None

    def normalise(self, index: int, rows: list[tuple[str, str, int]]) -> bool:
        """Send the helper its half of a batch (True if it took it)."""
        if not self._ensure():
            return False
        return self._post(("normalise", index, [(pk, data) for pk, data, _ in rows]), 1)

    def columnar(self, index: int, rows: list[tuple[str, str, int]], *, speculate: bool = False) -> bool:
        """Send the helper its part of a batch for the columnar fast path (True if it took it). It answers with
        the part's natural keys; with `speculate` it then plans the part at once as if the outbox held nothing
        for those keys, without waiting for `plan`: the parent may send a part before the batch ahead of it is
        committed, and keeps the answer only if the outbox, read after that commit, indeed holds nothing for
        them (`speculation_holds`); else it asks again with what the outbox holds (`plan`)."""
        if not self._ensure():
            return False
        return self._post(("columnar", index, rows, speculate), 2 if speculate else 1)

    @staticmethod
    def speculation_holds(my_keys: list[str], their_keys: list[str],
                          posted: dict[str, list[PostedDocument]]) -> bool:
        """Whether a part planned as if the outbox held nothing for its keys is what planning it now would give:
        none of its keys is in the other part, and the outbox (read after the last commit) holds none of them."""
        return not set(their_keys) & set(my_keys) and not any(posted.get(key) for key in their_keys)

    def natural_keys(self) -> list[str] | None:
        """The natural keys of the helper's objects; None if it cannot plan them (another kind)."""
        keys = self._receive()
        if keys is None and self._owed > 0 and not self._broken:  # a speculative part it did not take: no plan follows
            self._owed -= 1
        return keys

    def plan(self, posted: dict[str, list[PostedDocument]]) -> bool:
        return self._post(("plan", posted), 1)

    def discard(self) -> None:
        """Forget the half the helper normalised (this process plans it)."""
        self._post(("discard",), 0)

    def planned(self, counts: Counter[str], kinds: Counter[str]) -> tuple[list[EncodedWrite], list[Any],
                                                                         list[tuple[str, str]]] | None:
        """The helper's writes (in the outbox's form), dead letters and resolved keys (its counts added to
        `counts`, `kinds`), or None: plan the half here."""
        answer = self._receive()
        if answer is None:
            return None
        writes, dead, resolved, their_counts, their_kinds = answer
        counts.update(their_counts)
        kinds.update(their_kinds)
        return writes, [(s, k, r, _unpack_error(e)) for s, k, r, e in dead], resolved

    def adopt(self, writes: list[EncodedWrite], ctx: "PlanContextImpl") -> None:
        """Give the helper's run-memoised writes the payload one process would have: the run's first for the
        key (this process's memo, in record order), remembering theirs where it is the first."""
        memo = ctx.cache
        for w in writes:
            if w.stream in self._memoised:
                first = memo.get(w.key)
                if first is None:
                    memo[w.key] = w.memo
                elif first is not w.memo:
                    known = self._first.get(w.key)
                    if known is None or known[0] is not first:
                        known = self._first[w.key] = (first, *encode_payload(first))
                    w.memo, w.text, w.payload_hash = first, known[1], known[2]

    def stop(self) -> None:
        if self._process is None:
            return
        if self._owed > 0:  # still planning a part nobody will read (the run stopped, or failed): end it now
            self._process.kill()
        self._messages.put(None)
        if self._sender is not None:
            self._sender.join(timeout=5)
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=5)
        self._conn.close()
        self._process = None
