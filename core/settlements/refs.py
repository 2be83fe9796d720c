"""The audit refs of a settlement's journal lines: one `SourceRef` per report row a line sums.

A 100,000-row settlement needs 100,000 of them. They are built as `SourceRef.model_construct` builds them
(same fields, same `model_fields_set`), without its per-call plan look-ups, which were most of the cost of
planning such a settlement's audit rows; `tests/perf_settle/` holds the two to each other."""

from __future__ import annotations

from typing import Any, Iterable

from ..commerce import Settlement, SourceRef

__all__ = ["row_refs", "line_refs"]

_new = object.__new__
_set = object.__setattr__
_FIELDS = frozenset({"stream", "key"})


def _ref(stream: str, key: str, fields_set: set[str] | None = None) -> SourceRef:
    """`fields_set`: a set of both field names shared by the refs of one call (pydantic only ever adds an assigned
    field's name to it, which it holds already): 100,000 fewer sets to allocate and for the collector to walk."""
    ref = _new(SourceRef)
    _set(ref, "__dict__", {"stream": stream, "key": key})
    _set(ref, "__pydantic_fields_set__", set(_FIELDS) if fields_set is None else fields_set)
    _set(ref, "__pydantic_extra__", None)
    _set(ref, "__pydantic_private__", None)
    return ref


def _stream(settlement: Settlement) -> str:
    return settlement.source_refs[0].stream if settlement.source_refs else "settlements"


def row_refs(settlement: Settlement, rows: Iterable[int], stream: str | None = None) -> list[SourceRef]:
    """A ref to each report row (`<stream>/<settlement id>/row/<n>`): the settlement's staged stream, unless
    `stream` says."""
    stream = stream or _stream(settlement)
    prefix = f"{settlement.settlement_id}/row/"
    shared = set(_FIELDS)
    return [_ref(stream, f"{prefix}{row}", shared) for row in rows]


def line_refs(settlement: Settlement, lines: Iterable[Any], stream: str | None = None) -> list[tuple[int, SourceRef]]:
    """(line number in the document, ref) for every report row each of `lines` (journal lines, in document
    order) sums: the `PlannedWrite.line_refs` that become the audit rows."""
    stream = stream or _stream(settlement)
    prefix = f"{settlement.settlement_id}/row/"
    shared = set(_FIELDS)
    return [(i, _ref(stream, f"{prefix}{row}", shared)) for i, line in enumerate(lines) for row in line.rows]
