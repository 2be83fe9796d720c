"""What a source plugin and a destination plugin offer for the columnar fast path, and where they register it.

A source offers an `OrderProjection` for one of its normalisers: it reads a batch of the stream's staged
records into the canonical order and line columns of `columns.py`, declining each record it is not sure of.
A destination offers an `OrderPlanner`: the writes of one `ColumnarOrder`, or None when the reference
path must plan it. Neither imports the other; the runtime (`ledgerlink.columnar.batch`) joins them by the
normaliser function and the destination name, as `register_native_mapping` joins a template and its Python twin.

The contract both sides keep: for every order they accept, the writes (payloads, keys, dependencies, source and
line refs), the counts and the audit trail are exactly what normalising with the normaliser and planning with
the destination's `plan` gives. Anything they are not sure of they decline, and the reference path plans it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

from ..connectors import PlannedWrite
from .columns import ColumnarOrder

__all__ = ["OrderProjection", "OrderPlanner", "PreparedPlanner", "register_order_projection",
           "register_order_planner", "projection_for", "planner_for"]


@dataclass(frozen=True)
class OrderProjection:
    """A source's projection of one stream's staged records onto canonical order columns, in bulk.

    `read(rows)` gets a batch of staged `(pk, data, seq)` rows and returns, by pk, each record's `ColumnarOrder`,
    or None for a record it is not sure of (the reference path then normalises it, or dead-letters it with the
    normaliser's own message). It must never return columns that differ from what the normaliser makes of the
    record, and never raise. `stands_for` is the normaliser function it reproduces: a pipeline that overrides
    the normaliser (or binds other arguments to it) never takes the fast path."""

    stream: str
    stands_for: Callable[..., Any]
    read: Callable[[list[tuple[str, str, int]]], dict[str, ColumnarOrder | None]]


class PreparedPlanner(Protocol):
    def __call__(self, order: ColumnarOrder, ctx: Any) -> list[PlannedWrite] | None:
        """The writes of one order, exactly as the destination's `plan` makes them for the canonical order; None
        to have the reference path plan it (it may not raise for an order it declines)."""


class OrderPlanner(Protocol):
    def __call__(self, destination: Any, ctx: Any) -> PreparedPlanner | None:
        """Called once per run with the run's destination and PlanContext: the per-order planner, or None when
        this run's destination, options or mappings are ones it does not reproduce (a subclass that plans
        otherwise, an overridden template, an option it does not know)."""


_PROJECTIONS: dict[Callable[..., Any], OrderProjection] = {}
_PLANNERS: dict[tuple[str, str], OrderPlanner] = {}


def register_order_projection(projection: OrderProjection) -> None:
    """Offer `projection` for the normaliser function it stands for."""
    _PROJECTIONS[projection.stands_for] = projection


def register_order_planner(destination: str, planner: OrderPlanner, *, kind: str = "order") -> None:
    """Offer a columnar planner of canonical `kind` objects for the destination connector named `destination`."""
    _PLANNERS[(destination, kind)] = planner


def projection_for(function: Callable[..., Any]) -> OrderProjection | None:
    """The projection registered for a normaliser function (looking through the runtime's wrappers)."""
    seen = 0
    while function is not None and seen < 8:
        found = _PROJECTIONS.get(function)
        if found is not None:
            return found
        function = getattr(function, "__wrapped__", None)
        seen += 1
    return None


def planner_for(destination: str, kind: str = "order") -> OrderPlanner | None:
    return _PLANNERS.get((destination, kind))
