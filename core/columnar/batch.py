"""Plan one staged batch through the columnar fast path, handing the rest to the reference path record by record.

For a batch of staged rows (pk, data, seq) of a stream whose normaliser has an `OrderProjection` and whose
destination has an `OrderPlanner`: the projection reads the batch's orders as columns; each
record, in staging order, is then planned by the columnar planner if the SQL was sure of it and the planner
accepts it, else normalised and planned exactly as `normalise.plan_normalised` does (dead letters included).
The writes, dead letters, resolved keys and counts are in the same order as the reference path's, so the outbox,
its audit rows and the dead-letter queue come out the same.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from .. import jsonutil
from ..connectors import Destination, Normaliser, PlannedWrite
from .columns import ColumnarOrder
from .contract import OrderProjection, PreparedPlanner, planner_for, projection_for

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["ColumnarBatches", "Prepared", "columnar_enabled"]

log = logging.getLogger("ledgerlink.normalise")


def columnar_enabled() -> bool:
    """`LEDGERLINK_COLUMNAR=0` turns the fast path off (the reference path plans everything)."""
    return os.environ.get("LEDGERLINK_COLUMNAR", "1").strip() not in ("0", "false", "no", "off")


@dataclass
class Prepared:
    """A batch read: columns by pk (None: declined), the declined records' reference normalisation, the keys."""

    columns: dict[str, ColumnarOrder | None]
    reference: dict[str, list[Any]]
    keys: list[str]


class ColumnarBatches:
    """The fast path of one normaliser of one run (see the module's docstring)."""

    def __init__(self, n: Normaliser, projection: OrderProjection, planner: PreparedPlanner, destination: Destination,
                 ctx: Any, store: "Store | None", scope: tuple[str | None, bool]):
        self.n, self.projection, self.planner, self.ctx, self.store = n, projection, planner, ctx, store
        self.destination = destination
        self.store_id, self.in_key = scope
        #: how many records each path planned this run (for benchmarks and tests)
        self.fast = self.reference = 0

    @classmethod
    def start(cls, n: Normaliser, destination: Destination, ctx: Any, store: "Store | None", *,
              in_helper: bool = False) -> "ColumnarBatches | None":
        """The fast path for this normaliser and destination, or None when either side offers none, the
        normaliser joins other streams, or this run's options are ones the planner does not reproduce."""
        if ctx is None or (store is None and not in_helper) or n.join or not columnar_enabled():
            return None
        projection = projection_for(n.function)
        planner = planner_for(destination.name) if projection is not None else None
        if projection is None or planner is None or projection.stream != n.stream:
            return None
        try:
            prepared = planner(destination, ctx)
        except Exception:  # noqa: BLE001 - a planner that cannot prepare: the reference path reports the problem
            log.debug("columnar planner declined the run", exc_info=True)
            return None
        if prepared is None:
            return None
        scope = getattr(n.function, "key_scope", None)
        return cls(n, projection, prepared, destination, ctx, store,
                   (getattr(scope, "store", None), getattr(scope, "in_key", True)))

    def read(self, rows: list[tuple[str, str, int]]) -> dict[str, ColumnarOrder | None]:
        """The batch's orders as columns by staged pk (None, or absent: the reference path reads it)."""
        try:
            orders = self.projection.read(rows)
        except Exception:  # noqa: BLE001 - a projection must decline, not raise: if it does, the reference reads all
            log.debug("columnar projection failed for a batch of %s", self.n.stream, exc_info=True)
            return {}
        for order in orders.values():
            if order is not None:
                order.store, order.store_in_key = self.store_id, self.in_key
        return orders

    def prepare(self, rows: list[tuple[str, str, int]],
                normalise_reference: Callable[..., list[Any]], natural_keys: Callable[[list[Any]], list[str]]
                ) -> "Prepared":
        """Read a batch: its columns, the declined records normalised by the reference, and every record's
        natural keys in order (what the outbox is asked about before planning)."""
        columns = self.read(rows)
        reference: dict[str, list[Any]] = {}
        slow = [(pk, data) for pk, data, _ in rows if columns.get(pk) is None]
        if slow:
            normalised = normalise_reference(self.n, [(pk, jsonutil.loads(data)) for pk, data in slow], {})
            for item in normalised:
                reference[item[0]] = [item]
        keys: list[str] = []
        for pk, _, _ in rows:
            order = columns.get(pk)
            keys.extend([order.natural_key] if order is not None else natural_keys(reference[pk]))
        return Prepared(columns, reference, keys)

    def plan(self, rows: list[tuple[str, str, int]], counts: Counter[str], kinds: Counter[str],
             plan_reference: Callable[..., tuple[list[PlannedWrite], list[Any], list[tuple[str, str]]]],
             normalise_reference: Callable[..., list[Any]], natural_keys: Callable[[list[Any]], list[str]]
             ) -> tuple[list[PlannedWrite], list[Any], list[tuple[str, str]]]:
        """Plan one batch: the reference functions are `normalise.normalise_records`, `plan_normalised` and
        `natural_keys` (passed in, so this package never imports the runtime that calls it)."""
        prepared = self.prepare(rows, normalise_reference, natural_keys)
        self.ctx.begin_batch(prepared.keys)
        return self.plan_prepared(rows, prepared, counts, kinds, plan_reference, normalise_reference)

    def plan_prepared(self, rows: list[tuple[str, str, int]], prepared: "Prepared", counts: Counter[str],
                      kinds: Counter[str],
                      plan_reference: Callable[..., tuple[list[PlannedWrite], list[Any], list[tuple[str, str]]]],
                      normalise_reference: Callable[..., list[Any]]
                      ) -> tuple[list[PlannedWrite], list[Any], list[tuple[str, str]]]:
        """Plan a prepared batch in record order (the outbox was asked about its keys: `begin_batch`)."""
        columns, reference = prepared.columns, prepared.reference
        writes: list[PlannedWrite] = []
        dead: list[Any] = []
        resolved: list[tuple[str, str]] = []
        for pk, data, _ in rows:
            order = columns.get(pk)
            planned = self._plan_fast(order) if order is not None else None
            if planned is None:
                self.reference += 1
                part = reference.get(pk)
                if part is None:
                    part = normalise_reference(self.n, [(pk, jsonutil.loads(data))], {})
                first = plan_reference(self.n, part, self.destination, self.ctx, counts, kinds)
                writes.extend(first[0])
                dead.extend(first[1])
                resolved.extend(first[2])
                continue
            self.fast += 1
            key = order.natural_key  # type: ignore[union-attr]
            counts["normalised"] += 1
            kinds[order.kind] += 1  # type: ignore[union-attr]
            resolved.append(("normalise", pk))
            if not planned:
                counts["not_posted"] += 1
            for w in planned:
                w.natural_key = w.natural_key or key
            self.ctx.remember(planned)
            writes.extend(planned)
            resolved.append(("plan", key))
        return writes, dead, resolved

    def _plan_fast(self, order: ColumnarOrder) -> list[PlannedWrite] | None:
        try:
            return self.planner(order, self.ctx)
        except Exception:  # noqa: BLE001 - a planner must decline, not raise; if it does, the reference plans
            log.debug("columnar planner raised for %s", order.order_id, exc_info=True)
            return None
