"""Orders 2026 staged as Amazon's own JSON text (issue 18, `EncodedRecord`): what staging keeps reads back equal,
as Decimals, to what the old decode-and-re-encode path kept; a page that is not plain takes the old path; a re-read
after the upgrade (old re-encoded text staged, Amazon's text arriving) posts nothing again; a bad order is still
a dead letter naming it; RECORD lines stay valid Airbyte messages."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerlink import EncodedRecord, jsonutil, protocol
from ledgerlink.pipeline import load_pipeline
from ledgerlink.runtime import sync
from ledgerlink.runtime.extract import extract
from ledgerlink.store import Store
from ledgerlink.store.record_text import record_text
from ledgerlink_amazon_sp import AmazonSellingPartnerSource
from ledgerlink_amazon_sp.orders import streams as order_streams
from ledgerlink_amazon_sp.orders.streams import EncodedPage, read_encoded_page
from sandbox_helpers import amazon_env, qbo_env, sandbox_running, shipped

STREAM = "orders_2026"


def _config(url: str) -> dict[str, Any]:
    return {"endpoint": url, "lwa_endpoint": f"{url}/auth/o2/token", "client_id": "amzn1.application-oa2-client.t",
            "client_secret": "amzn1.oa2-cs.v1.sandbox-secret", "refresh_token": "Atzr|sandbox-refresh-token",
            "marketplace_ids": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"], "orders_api": "2026-01-01",
            "start_date": (datetime.now(timezone.utc) - timedelta(days=90)).isoformat()}


def _old_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page decoded as before this change (each order an object, re-encoded for staging)."""
    monkeypatch.setattr(order_streams, "read_encoded_page", lambda content: None)


def _staged(path: Path) -> dict[str, tuple[str | None, str]]:
    store = Store(path)
    try:
        return {pk: (cursor, data) for pk, cursor, data in
                store.db.fetchall(f"SELECT pk, cursor, data FROM raw_{STREAM} ORDER BY pk")}
    finally:
        store.close()


def _letters(path: Path) -> list[tuple[Any, ...]]:
    store = Store(path)
    try:
        return store.db.fetchall("SELECT stage, stream, record_key, message, detail FROM dead_letters ORDER BY ALL")
    finally:
        store.close()


def _read(url: str, path: Path) -> dict[str, Any]:
    store = Store(path)
    try:
        return extract(AmazonSellingPartnerSource(), _config(url), [STREAM], store, run_id=1)
    finally:
        store.close()


def test_the_seeded_orders_stage_as_text_and_read_back_as_the_old_path_staged_them(sandbox, tmp_path, monkeypatch):
    with sandbox(orders=150, uk_orders=30, defects=3) as (url, _):
        made: list[int] = []
        real = EncodedRecord.of.__func__  # type: ignore[attr-defined]
        monkeypatch.setattr(EncodedRecord, "of", classmethod(lambda cls, raw, fields: made.append(1) or
                                                             real(cls, raw, fields)))
        new = _read(url, tmp_path / "text.duckdb")
        monkeypatch.undo()
        _old_path(monkeypatch)
        old = _read(url, tmp_path / "old.duckdb")
    assert new == old and new["read_error"] is None and new["read_total"] >= 150
    assert len(made) >= new["read_total"]  # the orders came as text
    text, before = _staged(tmp_path / "text.duckdb"), _staged(tmp_path / "old.duckdb")
    assert text.keys() == before.keys()
    for key, (cursor, data) in text.items():
        assert cursor == before[key][0]
        assert jsonutil.loads(data) == jsonutil.loads(before[key][1]), key  # the same values (2026 amounts are texts)
    assert _letters(tmp_path / "text.duckdb") == _letters(tmp_path / "old.duckdb")


# ------------------------------------------------------------------------------------------- generated pages

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)  # no lone surrogates (see below)
_value = st.recursive(
    st.none() | st.booleans() | st.integers(-(1 << 63), (1 << 64) - 1) | _text
    | st.decimals(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4), max_leaves=12)
_order = st.fixed_dictionaries(
    {"orderId": st.from_regex(r"\A[0-9]{3}-[0-9]{7}-[0-9]{7}\Z"),
     "lastUpdatedTime": st.just("2026-03-01T00:00:00Z"),
     "amount": st.decimals(allow_nan=False, allow_infinity=False, places=12) | st.from_regex(r"\A-?[0-9]{1,9}\.[0-9]{20,40}\Z").map(Decimal),
     "buyer": _text, "extra": _value})


def _page_text(orders: list[dict[str, Any]], style: str) -> bytes:
    """A page as a remote might write it: compact, indented, or with every non-ASCII character escaped."""
    body = {"orders": orders, "pagination": {"nextToken": "t"}, "createdTime": "2026-03-01T00:00:00Z"}
    if style == "compact":
        return jsonutil.dumps_bytes(body)
    if style == "indented":
        return jsonutil.dumps_bytes(body, indent=2)
    return _ascii(jsonutil.dumps(body)).encode()


def _ascii(text: str) -> str:
    """The JSON text with every non-ASCII character written as a \\u escape (surrogate pairs above the BMP)."""
    out = []
    for ch in text:
        if ord(ch) < 0x80:
            out.append(ch)
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            v = ord(ch) - 0x10000
            out.append(f"\\u{0xD800 + (v >> 10):04x}\\u{0xDC00 + (v & 0x3FF):04x}")
    return "".join(out)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders=st.lists(_order, min_size=1, max_size=5, unique_by=lambda o: o["orderId"]),
       style=st.sampled_from(["compact", "indented", "escaped"]))
def test_generated_pages_stage_the_text_that_reads_back_as_the_old_path(orders, style):
    content = _page_text(orders, style)
    page = read_encoded_page(content)
    old = jsonutil.loads(content)["orders"]
    has_pairs = style == "escaped" and any(ord(c) > 0xFFFF for c in jsonutil.dumps(orders))
    if has_pairs:  # a surrogate-pair escape: the careful path (decoded, checked, re-encoded)
        assert page is None
        return
    assert isinstance(page, EncodedPage) and page.next_token == "t"
    assert len(page.orders) == len(old)
    for record, decoded in zip(page.orders, old):
        assert type(record) is EncodedRecord
        assert jsonutil.loads(record.text) == decoded == jsonutil.loads(record_text(decoded))
        assert record.field("orderId") == decoded["orderId"]
        assert record.field("lastUpdatedTime") == decoded["lastUpdatedTime"]
        assert dict(record) == decoded  # it reads as the mapping it stands for
        line = protocol.dumps(protocol.record(STREAM, record))  # type: ignore[arg-type]
        assert jsonutil.loads(line)["record"]["data"] == decoded  # a valid Airbyte RECORD line


def test_generated_texts_staged_in_duckdb_read_back_exactly(tmp_path):
    """Through DuckDB's JSON column: the stored text is the text, amounts of 40 decimal places and integers
    beyond 64 bits included (the text holds any number exactly)."""
    orders = [{"orderId": f"111-0000000-000000{i}", "lastUpdatedTime": "2026-03-01T00:00:00Z",
               "amount": Decimal(f"{i}." + "7" * 40), "name": "Zoë \u2603 \"q\" \\ \n", "e": Decimal("1E+2"),
               "n": (1 << 70) + i} for i in range(5)]
    texts = [jsonutil.dumps({k: v for k, v in o.items() if k != "n"}, indent=2)[:-2] + f',\n  "n": {o["n"]}\n}}'
             for o in orders]  # the JSON writer holds no integer beyond 64 bits; the text does
    page = read_encoded_page(("{\"orders\": [" + ", ".join(texts) + "]}").encode())
    assert page is not None and page.next_token is None
    store = Store(tmp_path / "s.duckdb")
    try:
        assert [r.text for r in page.orders] == texts
        store.raw.stage(STREAM, [o["orderId"] for o in orders], [o["lastUpdatedTime"] for o in orders], texts,
                        [None] * len(orders), run_id=1)
        staged = dict(store.db.fetchall(f"SELECT pk, data FROM raw_{STREAM}"))
        for order, text in zip(orders, texts):
            assert staged[order["orderId"]] == text
            assert jsonutil.loads(staged[order["orderId"]]) == order
    finally:
        store.close()


@pytest.mark.parametrize("case, content", [
    ("lone surrogate", b'{"orders": [{"orderId": "1", "buyer": "\\ud800"}]}'),
    ("a pair escaped", b'{"orders": [{"orderId": "1", "buyer": "\\ud83d\\ude00"}]}'),
    ("not an object", b'{"orders": ["1"]}'),
    ("deep", b'{"orders": [{"orderId": "1", "x": ' + b"[" * 300 + b"]" * 300 + b"}]}"),
    ("not UTF-8", b'{"orders": [{"orderId": "1", "buyer": "\xff"}]}'),
    ("no list", b'{"orders": null}'),
    ("NaN", b'{"orders": [{"orderId": "1", "x": NaN}]}'),
    ("not JSON", b'{"orders": [}'),
    ("pagination not an object", b'{"orders": [], "pagination": [1]}'),
])
def test_a_page_that_is_not_plain_is_read_as_before(case, content):
    assert read_encoded_page(content) is None, case


def test_a_malformed_order_in_a_page_is_a_dead_letter_naming_it(tmp_path):
    """A page whose orders are text: the one without an orderId, and the one whose orderId is an object, are
    dead letters saying which field; the others stage."""
    orders = [{"orderId": "111-0000000-0000001", "lastUpdatedTime": "2026-03-01T00:00:00Z", "a": Decimal("1.10")},
              {"lastUpdatedTime": "2026-03-01T00:00:00Z", "buyer": "no id"},
              {"orderId": {"nested": 1}, "lastUpdatedTime": "2026-03-01T00:00:00Z"},
              {"orderId": "111-0000000-0000004", "lastUpdatedTime": "2026-03-01T00:00:00Z"}]
    page = read_encoded_page(jsonutil.dumps_bytes({"orders": orders}))
    assert page is not None

    class PageSource(AmazonSellingPartnerSource):
        def read(self, config: Any, catalog: Any = None, state: Any = None) -> Any:
            for record in page.orders:
                yield protocol.record(STREAM, record)  # type: ignore[arg-type]
            yield protocol.state_for_stream(STREAM, {"lastUpdatedTime": "2026-03-01T00:00:00Z"})

    store = Store(tmp_path / "s.duckdb")
    try:
        counts = extract(PageSource(), _config("http://127.0.0.1:9"), [STREAM], store, run_id=1)
        assert counts["read_total"] == 2 and counts["read_dead_letters"] == 2
        letters = store.db.fetchall("SELECT record_key, detail, message, record FROM dead_letters ORDER BY id")
        assert [json.loads(detail).get("field") for _, detail, _, _ in letters] == ["orderId", "orderId"]
        assert "no primary key" in letters[0][2] and "is a dict, not a text" in letters[1][2]
        assert json.loads(letters[0][3])["buyer"] == "no id"  # the letter keeps the order itself
        staged = dict(store.db.fetchall(f"SELECT pk, data FROM raw_{STREAM}"))
        assert staged.keys() == {"111-0000000-0000001", "111-0000000-0000004"}
        assert jsonutil.loads(staged["111-0000000-0000001"]) == {
            "orderId": "111-0000000-0000001", "lastUpdatedTime": "2026-03-01T00:00:00Z", "a": Decimal("1.10")}
    finally:
        store.close()


# -------------------------------------------------------------------------------- after the upgrade, end to end

def _pipeline(tmp_path: Path, amazon: str, qbo: str) -> Any:
    text = shipped("amazon-to-qbo.yaml")
    text = text.replace("  streams: [orders, order_items]", "  streams: [orders_2026]")
    text = text.replace("    marketplace_ids: [ATVPDKIKX0DER]",
                        "    marketplace_ids: [ATVPDKIKX0DER]\n    orders_api: \"2026-01-01\"")
    assert "orders_2026" in text and "orders_api" in text
    path = tmp_path / "amazon-2026-to-qbo.yaml"
    path.write_text(text)
    env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon),
           **qbo_env(qbo, batch_per_minute="40000"), "AMAZON_START_DATE":
               (datetime.now(timezone.utc) - timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    return load_pipeline(path, env=env)


def _forget_read_state(path: Path) -> None:
    store = Store(path)
    try:
        store.db.execute("DELETE FROM source_state")
    finally:
        store.close()


def test_a_re_read_after_the_upgrade_revises_nothing_and_posts_nothing_again(tmp_path, monkeypatch):
    """Run 1 stages ledgerlink's re-encoding (the old path) and posts; every order is then read again as
    Amazon's own text, written differently (indented): staged anew, normalised, planned, and nothing is
    revised or posted."""
    with sandbox_running("amazon_sp", orders=40) as (amazon, _), sandbox_running("qbo") as (qbo, qbo_sb):
        pipeline = _pipeline(tmp_path, amazon, qbo)
        with monkeypatch.context() as m:
            _old_path(m)
            first = sync(pipeline)
        assert first.status == "succeeded", first.errors
        receipts = qbo_sb.company.entities["SalesReceipt"]
        assert len(receipts) > 20
        books = json.loads(jsonutil.dumps(qbo_sb.company.entities))
        old_text = _staged(tmp_path / "state.duckdb")
        assert all(jsonutil.dumps(jsonutil.loads(t)) == t for _, t in old_text.values())  # the re-encoding

        real = order_streams.read_encoded_page
        monkeypatch.setattr(order_streams, "read_encoded_page",
                            lambda content: real(jsonutil.dumps_bytes(jsonutil.loads(content), indent=2)))
        _forget_read_state(tmp_path / "state.duckdb")  # every order is read again
        second = sync(pipeline)
        assert second.status == "succeeded", second.errors
        new_text = _staged(tmp_path / "state.duckdb")
        assert new_text.keys() == old_text.keys()
        assert all(new_text[k][1] != old_text[k][1] and "\n  " in new_text[k][1] for k in old_text)  # as read
        assert all(jsonutil.loads(new_text[k][1]) == jsonutil.loads(old_text[k][1]) for k in old_text)
        assert json.loads(jsonutil.dumps(qbo_sb.company.entities)) == books  # nothing posted, nothing changed
        for what in ("created", "updated", "revised", "voided"):
            assert not sum((second.counts.get(what) or {}).values()), (what, second.counts)


class _BreakOrders(httpx.HTTPTransport):
    """The real transport; in the first searchOrders page, one order loses its orderId and another's becomes an
    object (as a remote's bug would send them), the page otherwise as the sandbox wrote it."""

    def __init__(self) -> None:
        super().__init__()
        self.broken: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path != "/orders/2026-01-01/orders" or self.broken:
            return response
        body = jsonutil.loads(response.read())
        if len(body.get("orders") or []) < 3:
            return response
        first, second = body["orders"][0], body["orders"][1]
        self.broken = [first.pop("orderId"), second["orderId"]]
        second["orderId"] = {"id": second["orderId"]}
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}
        return httpx.Response(response.status_code, headers=headers, content=jsonutil.dumps_bytes(body))


def test_malformed_orders_in_a_sandbox_page_are_dead_letters_and_the_rest_stage_as_text(sandbox, tmp_path,
                                                                                       monkeypatch):
    made: list[int] = []
    real = EncodedRecord.of.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(EncodedRecord, "of", classmethod(lambda cls, raw, fields: made.append(1) or
                                                         real(cls, raw, fields)))
    transport = _BreakOrders()
    with sandbox(orders=60) as (url, _):
        store = Store(tmp_path / "s.duckdb")
        try:
            counts = extract(AmazonSellingPartnerSource(transport=transport), _config(url), [STREAM], store,
                             run_id=1)
            letters = store.db.fetchall("SELECT record_key, detail, message, record FROM dead_letters ORDER BY id")
            staged = store.raw.count(STREAM)
        finally:
            store.close()
    assert counts["read_error"] is None and counts["read_dead_letters"] == 2 and len(made) >= counts["read_total"]
    assert staged == counts["read_total"] >= 58
    assert [json.loads(detail)["field"] for _, detail, _, _ in letters] == ["orderId", "orderId"]
    assert "no primary key" in letters[0][2] and "is a dict" in letters[1][2]
    assert {json.loads(record)["orderId"]["id"] for *_, record in letters[1:]} == {transport.broken[1]}
    assert "orderId" not in json.loads(letters[0][3])  # the letter keeps the order as it came, to find it by
