"""Schema inference: a JSON Schema for a stream from a sample of its rows.

CSV and TSV cells stay the file's exact text in records (an amount never passes through float, an order
number keeps its leading zeros), so a column's JSON type is string and its `format` names what the text
holds: integer, number, boolean, date or date-time. JSON lines keep their JSON types (numbers parsed as
Decimal). A column with an empty cell, or missing from some rows, is nullable.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable

__all__ = ["infer_schema", "text_type", "ROW_FIELDS"]

_INTEGER = re.compile(r"^[+-]?(0|[1-9]\d*)$")
_NUMBER = re.compile(r"^[+-]?((0|[1-9]\d*)(\.\d+)?|\.\d+)$")
_BOOLEAN = {"true", "false"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
#: pairs of types whose values all fit a wider one (else the column is text)
_WIDER = {frozenset({"integer", "number"}): "number", frozenset({"date", "date-time"}): "date-time"}

#: what every row carries besides its columns
ROW_FIELDS: dict[str, Any] = {
    "_file": {"type": "string", "description": "the file the row was read from"},
    "_line": {"type": "integer", "description": "the line the row starts on (1 is the first line, e.g. the header)"},
    "_error": {"type": ["string", "null"], "description": "set when the row could not be read: file, line and why"},
    "_raw": {"type": ["string", "null"], "description": "the text of a row that could not be read"},
    "_removed": {"type": ["boolean", "null"], "description": "true: the file was rewritten and this line holds no row"},
}

_TEXT_PATTERNS = {"integer": r"^[+-]?\d+$", "number": r"^[+-]?(\d+(\.\d+)?|\.\d+)$",
                  "boolean": r"^(?i:true|false)$"}


def text_type(value: str) -> str:
    """The most specific type a cell's text is: integer, number, boolean, date, date-time or string."""
    v = value.strip()
    if _INTEGER.match(v):
        return "integer"
    if _NUMBER.match(v):
        return "number"
    if v.lower() in _BOOLEAN:
        return "boolean"
    if _DATE.match(v) and _valid(date.fromisoformat, v):
        return "date"
    if _DATETIME.match(v) and _valid(datetime.fromisoformat, v.replace("Z", "+00:00")):
        return "date-time"
    return "string"


def _valid(parse: Any, v: str) -> bool:
    try:
        parse(v)
    except ValueError:
        return False
    return True


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, (Decimal, float)):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    t = text_type(value) if isinstance(value, str) else "string"
    return t if t in ("date", "date-time") else "string"


def _join(a: str | None, b: str) -> str:
    """The narrowest type values of both types fit."""
    if a is None or a == b:
        return b
    return _WIDER.get(frozenset({a, b}), "string")


def _column_schema(kind: str, nullable: bool, text: bool) -> dict[str, Any]:
    if text:  # a CSV/TSV cell: always text, its format says what it holds
        schema: dict[str, Any] = {"type": ["string", "null"] if nullable else "string"}
        if kind != "string":
            schema["format"] = kind
            if kind in _TEXT_PATTERNS:
                schema["pattern"] = _TEXT_PATTERNS[kind]
        return schema
    base = {"date": "string", "date-time": "string"}.get(kind, kind)
    schema = {"type": [base, "null"] if nullable else base}
    if kind in ("date", "date-time"):
        schema["format"] = kind
    return schema


def infer_schema(rows: Iterable[dict[str, Any]], *, text: bool,
                 overrides: dict[str, str] | None = None) -> dict[str, Any]:
    """Infer column types from `rows` (error rows are skipped); `overrides` (column → type) win."""
    kinds: dict[str, str | None] = {}
    nullable: set[str] = set()
    seen = 0
    for row in rows:
        if row.get("_error") or row.get("_removed"):
            continue
        seen += 1
        for name in kinds:
            if row.get(name) is None:
                nullable.add(name)
        for name, value in row.items():
            if name in ROW_FIELDS:
                continue
            if name not in kinds:
                kinds[name] = None
                if seen > 1:
                    nullable.add(name)  # absent from the rows before
            if value is None:
                nullable.add(name)
                continue
            kinds[name] = _join(kinds[name], text_type(value) if text else _json_type(value))
    properties: dict[str, Any] = {}
    for name, kind in kinds.items():
        chosen = (overrides or {}).get(name) or kind or "string"
        properties[name] = _column_schema(chosen, name in nullable or kind is None, text)
    for name, kind in (overrides or {}).items():
        properties.setdefault(name, _column_schema(kind, True, text))
    properties.update(ROW_FIELDS)
    return {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": properties,
            "additionalProperties": True}
