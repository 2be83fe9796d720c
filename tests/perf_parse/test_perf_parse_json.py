"""Reading JSON through msgspec gives what the standard library with exact Decimals gives (issue 18).

`ledgerlink.jsonutil.loads` decodes with msgspec (each float literal's own text into `Decimal`) and hands
anything msgspec refuses to the standard library, the reference (`loads_standard`). Same values of the same
types (1 stays an int, 1.10 a Decimal with its two places), same errors, for generated documents written in
several ways, for arbitrary text and bytes, and for the seeded Amazon pages the plugin reads.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerlink import json_dumps
from ledgerlink.jsonutil import loads, loads_standard


def typed(value: Any) -> Any:
    """The value with every scalar tagged by its type (Decimal('1') == 1 == True, which must not pass)."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    return (type(value).__name__, value)


def outcome(read: Any, text: Any) -> Any:
    try:
        return ("ok", typed(read(text)))
    except Exception as exc:  # noqa: BLE001 - both readers must fail alike
        return ("error", type(exc).__name__, str(exc))


def same(text: Any) -> None:
    assert outcome(loads, text) == outcome(loads_standard, text)


_numbers = (st.integers(-(10**30), 10**30)
            | st.decimals(allow_nan=False, allow_infinity=False)
            | st.sampled_from([Decimal("1.10"), Decimal("-0.0"), Decimal("1E+5"), Decimal("1e-7"), Decimal("0.00")]))
_scalars = st.none() | st.booleans() | st.text() | _numbers
_documents = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=25)


def _std_text(value: Any, ascii_only: bool, indent: int | None) -> str:
    class Exact(json.JSONEncoder):
        def default(self, o: Any) -> Any:
            raise TypeError(o)

    def number_text(v: Any) -> Any:
        if isinstance(v, Decimal):
            return _Raw(str(v))
        if isinstance(v, dict):
            return {k: number_text(x) for k, x in v.items()}
        if isinstance(v, list):
            return [number_text(x) for x in v]
        return v

    return json.dumps(number_text(value), ensure_ascii=ascii_only, indent=indent, cls=_RawEncoder)


class _Raw(str):
    pass


class _RawEncoder(json.JSONEncoder):
    """Writes a `_Raw` as its text unquoted (a number literal exactly as Decimal prints it)."""

    def iterencode(self, o: Any, _one_shot: bool = False) -> Any:
        marker = "\u0001RAW\u0001"

        def mark(v: Any) -> Any:
            if isinstance(v, _Raw):
                return marker + str(v) + marker
            if isinstance(v, dict):
                return {k: mark(x) for k, x in v.items()}
            if isinstance(v, list):
                return [mark(x) for x in v]
            return v

        text = "".join(super().iterencode(mark(o), _one_shot))
        quoted = json.dumps(marker, ensure_ascii=self.ensure_ascii)[1:-1]
        return iter([text.replace('"' + quoted, "").replace(quoted + '"', "")])


@settings(max_examples=300, deadline=None)
@given(value=_documents, ascii_only=st.booleans(), indent=st.none() | st.just(2), as_bytes=st.booleans())
def test_generated_documents_read_alike(value: Any, ascii_only: bool, indent: int | None, as_bytes: bool):
    text = _std_text(value, ascii_only, indent)
    same(text.encode() if as_bytes else text)
    try:
        written = json_dumps(value)  # the writer refuses integers beyond 64 bits: those are read above
    except TypeError:
        return
    same(written.encode() if as_bytes else written)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list('{}[]",:.-+eE0123456789 \t\n\\u/abtrfnl\ud800\ufeff\x00é'))))
def test_arbitrary_text_reads_or_fails_alike(text: str):
    same(text)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=40))
def test_arbitrary_bytes_read_or_fail_alike(data: bytes):
    same(data)


@pytest.mark.parametrize("text", [
    b'"\xed\xa0\x80"', "\ufeff[1]".encode(), '"é"'.encode("utf-16"), b"1" * 5000, b"[" * 3000 + b"]" * 3000,
    b'"\\ud800"', b"[NaN]", b"[Infinity]", b"[1] x", b'{"a":1,"a":2}', b"1e99999", b"-0.0e-0", b'"a\x01b"',
])
def test_what_msgspec_refuses_is_read_by_the_standard_library(text: bytes):
    same(text)


def test_seeded_amazon_pages_read_alike_and_amounts_stay_exact():
    from ledgerlink_amazon_sp.orders.streams import INCLUDED_DATA
    from ledgerlink_amazon_sp.sandbox.seed import SellerBook

    book = SellerBook(60, 3, datetime(2026, 3, 1, tzinfo=timezone.utc), uk_orders=20)
    orders = [book.order_2026(i, frozenset(INCLUDED_DATA)) for i in range(book.total)]
    page = json_dumps({"orders": orders, "pagination": {"nextToken": "t"}, "rate": Decimal("1.10")}).encode()
    same(page)
    assert loads(page)["rate"] == Decimal("1.10") and str(loads(page)["rate"]) == "1.10"


def test_a_document_of_megabytes_reads_alike():
    rows = [{"line": n, "values": {"amount": f"{n}.10", "sku": "A\u00e9"}} for n in range(120_000)]
    text = json_dumps({"rows": rows, "total": Decimal("1.10")})
    assert len(text) > 4 << 20
    same(text)
