"""`HttpStream.stage_text`: a stream that opts in hands each record of a page over as the remote's own JSON text
(an `EncodedRecord` with only its key and cursor decoded), and staging stores that text as it is. What is staged
reads back to the same values, exactly, as the decoded path's records; the keys, cursors and STATE are the same;
the rest of the page (what `next_page_token` reads) is decoded as before; and a page that is unusual in any way
is read the old way, so what fails, and how, does not change."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import httpx
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerlink import Checkpoint, HttpStream, jsonutil
from ledgerlink.connectors import read_text_page
from ledgerlink.encoded_record import EncodedRecord
from ledgerlink.runtime.extract import _stager
from ledgerlink_bigcommerce.client import bc_client
from ledgerlink_bigcommerce.config import BigCommerceConfig
from sandbox_helpers import sandbox_running

FIELDS = ("id", "date_modified")


class Products(HttpStream):
    """BigCommerce's v3 products, paged by `meta.pagination`, read by HttpStream's own loop."""

    name = "products"
    path = "/v3/catalog/products"
    operation = "getProducts"
    primary_key = "id"
    cursor_field = "date_modified"
    records_path = ("data",)

    def request_params(self, state: dict[str, Any], page_token: Any | None) -> dict[str, Any]:
        return {"page": page_token or 1, "limit": 3, "include": "variants"}

    def next_page_token(self, response: httpx.Response, body: Any) -> Any | None:
        pagination = body["meta"]["pagination"]
        return pagination["current_page"] + 1 if pagination["current_page"] < pagination["total_pages"] else None


class ProductsAsText(Products):
    stage_text: ClassVar[bool] = True


def _read(cls: type[Products], url: str) -> tuple[list[Any], dict[str, Any], int]:
    config = BigCommerceConfig(base_url=url, store_hash="abc123", access_token="test-token")
    stream = cls(config, bc_client(config))
    items = list(stream.read_records({}))
    return [i for i in items if not isinstance(i, Checkpoint)], stream.state, sum(isinstance(i, Checkpoint)
                                                                                   for i in items)


def test_a_stream_that_stages_text_stages_what_the_decoded_path_did_against_the_bigcommerce_sandbox():
    with sandbox_running("bigcommerce", orders=3) as (url, _):
        decoded, state, pages = _read(Products, url)
        texts, text_state, text_pages = _read(ProductsAsText, url)
    assert len(decoded) > 3 and pages == text_pages > 1  # several pages, each followed by its checkpoint
    assert all(type(r) is EncodedRecord for r in texts) and all(type(r) is dict for r in decoded)
    assert text_state == state and state["date_modified"]  # the cursor moved the same way
    assert all(r._data is None for r in texts)  # reading the key and cursor decoded no record
    stage = _stager(Products, "products", None)
    old, new = [stage(r) for r in decoded], [stage(r) for r in texts]
    assert [(r.key, r.cursor) for r in new] == [(r.key, r.cursor) for r in old]
    # the staged text is the sandbox's own; read back it is the same record, every amount exact
    assert [jsonutil.loads(r.text) for r in new] == [jsonutil.loads(r.text) for r in old]
    assert any("price" in jsonutil.loads(r.text) for r in new)


record = st.fixed_dictionaries({
    "id": st.one_of(st.integers(1, 2**40), st.text(min_size=1, max_size=8)),
    "date_modified": st.sampled_from(["2026-01-01T00:00:00Z", "2026-02-03T04:05:06+00:00"]),
    "price": st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**6, max_value=10**6),
    "name": st.text(max_size=12),
    "tags": st.lists(st.text(max_size=4), max_size=3),
    "nested": st.dictionaries(st.text(max_size=3), st.integers(-2**63, 2**63 - 1) | st.booleans() | st.none(), max_size=3)})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(record, max_size=6), pretty=st.booleans())
def test_any_page_reads_back_as_the_decoded_page_with_exact_numbers(records, pretty):
    page = {"data": records, "meta": {"pagination": {"current_page": 1, "total_pages": 2}}}
    content = _dumps(page, pretty)
    body = read_text_page(content, ("data",), FIELDS)
    assert body is not None
    assert body["meta"] == orjson.loads(content)["meta"]  # what next_page_token reads
    expected = jsonutil.loads(content)["data"]
    assert [r.decode() for r in body["data"]] == expected
    for r, e in zip(body["data"], expected):
        assert r.get("id") == e["id"] and r.get("date_modified") == e["date_modified"] and r.get("none") is None


def _dumps(page: dict[str, Any], pretty: bool) -> bytes:
    """The page as a remote writes it: amounts as JSON numbers with their own digits."""
    def number(value: Any) -> Any:
        return orjson.Fragment(str(value)) if not isinstance(value, (int, str, bool)) and value is not None \
            else value
    page = {**page, "data": [{**r, "price": number(r["price"])} for r in page["data"]]}
    return orjson.dumps(page, option=orjson.OPT_INDENT_2 if pretty else 0)


def test_an_unusual_page_is_read_the_old_way():
    ok = b'{"data": [{"id": 1, "date_modified": "x"}], "meta": {}}'
    assert read_text_page(ok, ("data",), FIELDS) is not None
    for page in (b"not json", b'{"data": {"id": 1}}', b'{"data": [1, 2]}', b'{"data": [null]}', b'{"meta": {}}',
                 b'[{"id": 1}]', b'{"data": [{"id": 123456789012345678901234}]}',
                 b'{"data": [{"id": 1, "name": "\\ud800"}]}', b'{"data": [{"id": NaN}]}',
                 b'{"data": [{"id": 1}], "meta": {"a": 1e999999}}'):
        assert read_text_page(page, ("data",), FIELDS) is None, page
    nested = b'{"result": {"items": [{"id": "a"}], "next": 2}, "ok": true}'
    body = read_text_page(nested, ("result", "items"), FIELDS)
    assert body["ok"] is True and body["result"]["next"] == 2 and body["result"]["items"][0].text == '{"id": "a"}'


json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                          max_size=3), max_leaves=8)


@settings(max_examples=80, deadline=None)
@given(key=json_value, cursor=json_value, drop=st.sampled_from([(), ("id",), ("date_modified",)]))
def test_the_key_and_cursor_fields_decode_as_orjson_reads_them(key, cursor, drop):
    """The fields staging reads come from a decoder that skips the rest of the record; they must be the values
    orjson (the decoded path) gives, and a field the record lacks must be absent, not None."""
    record = {k: v for k, v in {"id": key, "date_modified": cursor, "x": [1, {"y": 2}]}.items() if k not in drop}
    content = orjson.dumps({"data": [record], "meta": {}})
    body = read_text_page(content, ("data",), FIELDS)
    assert body is not None
    expected = orjson.loads(content)["data"][0]
    assert body["data"][0].fields == {k: expected[k] for k in FIELDS if k in expected}
