"""The sandbox's reader of the QBO query language (the subset ledgerlink and most apps use).

    select Columns | count(*) from Entity [where Cond (and Cond)*] [orderby Field [asc|desc], ...]
    Columns := * | *, Field, ... | Field, ...     (`select *, Sku from Item`: python-quickbooks' item query)
           [startposition N] [maxresults N]
    Cond := Field (= | < | > | <= | >= | like) Value | Field in (Value, ...)

Strings are single-quoted with `\\'` for a quote; keywords are case-insensitive; there is no `or` (QBO has
none). A malformed statement raises QueryParseError (QBO fault 4000); a well-formed one with bad values
raises QueryValidationError (4001).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["Query", "Condition", "QueryParseError", "QueryValidationError", "parse_query", "matches", "sort_rows",
           "project"]

MAX_RESULTS = 1000
_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:\\'|[^'])*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op><=|>=|=|<|>)
                         |(?P<ident>[A-Za-z_][\w.]*)|(?P<sym>[*(),]))""", re.X)


class QueryParseError(ValueError):
    """The statement is not in the grammar (QBO: 4000 Error parsing query)."""


class QueryValidationError(ValueError):
    """The statement parses but asks for something invalid (QBO: 4001 Invalid query)."""


@dataclass(frozen=True)
class Condition:
    field: str
    op: str  # =, <, >, <=, >=, like, in
    values: tuple[Any, ...]


@dataclass
class Query:
    entity: str
    count: bool = False
    #: every field (`*`); with named fields only, the answer holds those (and the object's identity)
    star: bool = True
    fields: tuple[str, ...] = ()
    conditions: list[Condition] = field(default_factory=list)
    order_by: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    start_position: int = 1
    max_results: int = 100


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos, text = [], 0, text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise QueryParseError(f'QueryParserError: Encountered " "{text[pos:pos + 10].strip()}" "" at line 1, '
                                  f"column {pos + 1}.")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind), m.start(kind) + 1))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise QueryParseError('QueryParserError: Encountered "<EOF>" at the end of the statement.')
        self.i += 1
        return tok

    def fail(self, tok: tuple[str, str, int], expecting: str) -> QueryParseError:
        return QueryParseError(f'QueryParserError: Encountered " "{tok[1]}" "" at line 1, column {tok[2]}.\n'
                               f"Was expecting:\n    {expecting} ...")

    def keyword(self, word: str) -> None:
        tok = self.take()
        if tok[0] != "ident" or tok[1].lower() != word:
            raise self.fail(tok, word.upper())

    def at(self, word: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "ident" and tok[1].lower() == word

    def symbol(self, sym: str) -> None:
        tok = self.take()
        if tok[1] != sym:
            raise self.fail(tok, f'"{sym}"')

    def ident(self) -> str:
        tok = self.take()
        if tok[0] != "ident":
            raise self.fail(tok, "<IDENTIFIER>")
        return tok[1]

    def value(self) -> Any:
        tok = self.take()
        kind, text = tok[0], tok[1]
        if kind == "str":
            return re.sub(r"\\'", "'", text[1:-1])
        if kind == "num":
            return Decimal(text)
        if kind == "ident" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise self.fail(tok, "<STRING>")

    def integer(self) -> int:
        tok = self.take()
        if tok[0] != "num" or "." in tok[1]:
            raise self.fail(tok, "<INTEGER>")
        return int(tok[1])

    def parse(self) -> Query:
        self.keyword("select")
        count = False
        if self.at("count"):
            self.take()
            self.symbol("(")
            self.symbol("*")
            self.symbol(")")
            count = True
            star, fields = True, ()
        else:
            star, fields = self.columns()
        self.keyword("from")
        query = Query(entity=self.ident(), count=count, star=star, fields=fields)
        if self.at("where"):
            self.take()
            query.conditions.append(self.condition())
            while self.at("and"):
                self.take()
                query.conditions.append(self.condition())
        if self.at("orderby") or self.at("order"):
            if self.take()[1].lower() == "order":
                self.keyword("by")
            while True:
                name = self.ident()
                desc = False
                if self.at("asc") or self.at("desc"):
                    desc = self.take()[1].lower() == "desc"
                query.order_by.append((name, desc))
                if self.peek() is None or self.peek()[1] != ",":  # type: ignore[index]
                    break
                self.take()
        if self.at("startposition"):
            self.take()
            query.start_position = self.integer()
        if self.at("maxresults"):
            self.take()
            query.max_results = self.integer()
        tok = self.peek()
        if tok is not None:
            raise self.fail(tok, "<EOF>")
        if query.start_position < 1:
            raise QueryValidationError(f"QueryValidationError: value {query.start_position} is too small. "
                                       "Min allowed value is 1")
        if not 1 <= query.max_results <= MAX_RESULTS:
            raise QueryValidationError(f"QueryValidationError: value {query.max_results} is out of range. "
                                       f"Allowed values are 1 to {MAX_RESULTS}")
        return query

    def columns(self) -> tuple[bool, tuple[str, ...]]:
        """`*`, `*, Sku`, `Id, Name`: whether every field is asked for, and the fields named."""
        star, fields = False, []
        while True:
            tok = self.take()
            if tok[1] == "*" and not star:
                star = True
            elif tok[0] == "ident" and tok[1].lower() != "from":
                fields.append(tok[1])
            else:
                raise self.fail(tok, '"*" | <IDENTIFIER>')
            if self.peek() is None or self.peek()[1] != ",":  # type: ignore[index]
                return star, tuple(fields)
            self.take()

    def condition(self) -> Condition:
        name = self.ident()
        tok = self.take()
        if tok[0] == "op":
            return Condition(name, tok[1], (self.value(),))
        if tok[0] == "ident" and tok[1].lower() == "like":
            value = self.value()
            if not isinstance(value, str):
                raise QueryValidationError("QueryValidationError: like needs a string")
            return Condition(name, "like", (value,))
        if tok[0] == "ident" and tok[1].lower() == "in":
            self.symbol("(")
            values = [self.value()]
            while self.peek() is not None and self.peek()[1] == ",":  # type: ignore[index]
                self.take()
                values.append(self.value())
            self.symbol(")")
            return Condition(name, "in", tuple(values))
        raise self.fail(tok, '"=" | "<" | ">" | "like" | "in"')


def parse_query(text: str) -> Query:
    return _Parser(text).parse()


_MISSING = object()


def _field(row: dict[str, Any], path: str) -> Any:
    node: Any = row
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        hit = node.get(part, _MISSING)  # QBO field names are case-insensitive; most queries spell them exactly
        node = hit if hit is not _MISSING else next((v for k, v in node.items() if k.lower() == part.lower()), None)
    if isinstance(node, dict):  # refs and e-mail: compare their value (`CustomerRef = '3'`)
        node = node.get("value", node.get("Address"))
    return node


def _comparable(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    return value


_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
#: the sandbox company's zone, for a date-time written without an offset (QBO reads it in the company's)
_COMPANY_TZ = ZoneInfo("America/Los_Angeles")


def _instant(value: Any) -> datetime | None:
    """A date-time string (`2026-11-22T09:15:03-08:00`, `...Z`) as an aware datetime, else None."""
    if not isinstance(value, str) or not _DATE_TIME.match(value):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=_COMPANY_TZ)


def _coerce(actual: Any, wanted: Any) -> tuple[Any, Any]:
    """QBO compares numbers given as strings (`Id = '3'`, `TotalAmt > '10'`) as numbers, and date-times as
    instants (`Metadata.LastUpdatedTime >= '2026-11-22T17:00:00Z'` against a time stamped `-08:00`)."""
    left, right = _instant(actual), _instant(wanted)
    if left is not None and right is not None:
        return left, right
    if isinstance(actual, (int, Decimal)) and not isinstance(actual, bool) and isinstance(wanted, str):
        try:
            return Decimal(actual), Decimal(wanted)
        except InvalidOperation:
            return str(actual), wanted
    if isinstance(actual, str) and isinstance(wanted, Decimal):
        return actual, str(wanted)
    return actual, wanted


def _like(actual: str, pattern: str) -> bool:
    regex = "".join(".*" if c == "%" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, actual, re.S | re.I) is not None


def _compare(actual: Any, op: str, wanted: Any) -> bool:
    left, right = (_comparable(x) for x in _coerce(actual, wanted))
    try:
        if op == "=":
            return bool(left == right)
        return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]
    except TypeError:
        return False


@functools.lru_cache(maxsize=256)
def _folded_strings(values: tuple[Any, ...]) -> frozenset[str] | None:
    """The casefolded set of an `in (...)` list of strings (None when it holds other literals)."""
    if all(isinstance(v, str) for v in values):
        return frozenset(v.casefold() for v in values)
    return None


def _holds(row: dict[str, Any], cond: Condition) -> bool:
    actual = _field(row, cond.field)  # read once: an `in` of 50 values compares 50 times, not reads
    if actual is None:
        return False
    if cond.op == "like":
        return _like(str(actual), str(cond.values[0]))
    if cond.op == "in":
        if isinstance(actual, str):
            folded = _folded_strings(cond.values)
            if folded is not None:
                return actual.casefold() in folded
        return any(_compare(actual, "=", v) for v in cond.values)
    return _compare(actual, cond.op, cond.values[0])


def project(row: dict[str, Any], query: Query) -> dict[str, Any]:
    """A row as QBO answers the query's columns: whole for `*`; else the named fields (a dotted name keeps its
    top-level object), the object's Id and SyncToken, and `sparse: true` (it is not the whole object)."""
    if query.star:
        return row
    keep = {"id", "synctoken", "domain"} | {name.split(".")[0].lower() for name in query.fields}
    out = {k: v for k, v in row.items() if k.lower() in keep}
    out["sparse"] = True
    return out


def matches(row: dict[str, Any], conditions: list[Condition]) -> bool:
    return all(_holds(row, c) for c in conditions)


def sort_rows(rows: list[dict[str, Any]], order_by: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    for name, desc in reversed(order_by):
        rows = sorted(rows, key=lambda r: (_field(r, name) is None, _sortable(_field(r, name))), reverse=desc)
    return rows


def _sortable(value: Any) -> Any:
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return (0, Decimal(value), "")
    when = _instant(value)
    if when is not None:
        return (0, Decimal(str(when.timestamp())), "")
    return (1, Decimal(0), str(value).casefold() if value is not None else "")
