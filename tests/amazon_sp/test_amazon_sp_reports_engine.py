"""The Reports engine against the sandbox over loopback (and a few MockTransport edge cases): a report's whole
life, FATAL, CANCELLED, expired document URLs, truncated gzip, and parsing by header name."""

from __future__ import annotations

import gzip
import json
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterator

import httpx
import pytest

from ledgerlink import HttpClient, PermanentError, RetryPolicy, TransientError
from ledgerlink_amazon_sp import AmazonSPConfig
from ledgerlink_amazon_sp.auth import lwa_auth
from ledgerlink_amazon_sp.client import sp_client
from ledgerlink_amazon_sp.reports.engine import ReportsEngine, parse_table, parse_xml

#: retries as the client makes them, minus the waiting (as in conftest.FAST_RETRY)
FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01)

ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
LEDGER = "GET_LEDGER_DETAIL_VIEW_DATA"
US = ["ATVPDKIKX0DER"]


@pytest.fixture
def engine_on(sandbox, make_config):
    """`with engine_on(orders=50, **options) as (engine, url, sb):` an engine talking to a fresh sandbox."""

    @contextmanager
    def start(**options: Any) -> Iterator[tuple[ReportsEngine, str, Any]]:
        with sandbox(**options) as (url, sb):
            config = AmazonSPConfig(**make_config(url))
            with sp_client(config, lwa_auth(config), retry=FAST_RETRY) as client:
                yield ReportsEngine(client, poll_interval=0.01, cooldown=0.001), url, sb

    return start


def window() -> tuple[datetime, datetime]:
    now = datetime.now(timezone.utc)
    return now - timedelta(days=30), now - timedelta(minutes=5)


def queue(url: str, outcome: str, count: int = 1, error: str = "") -> None:
    response = httpx.post(f"{url}/_sandbox/reports/next", json={"outcome": outcome, "count": count, "error": error})
    assert response.status_code == 200, response.text


def test_a_report_runs_from_creation_to_parsed_rows(engine_on):
    start, end = window()
    with engine_on(orders=80) as (engine, url, sb):
        text = engine.run(ALL_ORDERS, marketplace_ids=US, start=start, end=end)
        [report] = engine.list_reports([ALL_ORDERS], created_since=start)
    rows = parse_table(text)
    book = sb.api.book
    expected = {book.order_id(i) for i in book.select(US, int(start.timestamp()), int(end.timestamp()))}
    assert {r["amazon-order-id"] for r in rows} == expected and expected
    # a row carries the order's own values, read by header name
    row = rows[0]
    order, items = book.order_and_items(book.index_of(row["amazon-order-id"]))
    item = next(i for i in items if i.get("SellerSKU") == row["sku"])
    assert row["asin"] == item["ASIN"] and int(row["quantity"]) == item["QuantityOrdered"]
    if "ItemPrice" in item:
        assert Decimal(row["item-price"]) == Decimal(item["ItemPrice"]["Amount"])
    # the lifecycle: one create, polled until DONE, one document (gzip by default), downloaded once
    assert engine.stats["createReport"] == 1 and engine.stats["getReport"] >= 1
    assert engine.stats["getReportDocument"] == 1 and engine.stats["downloads"] == 1
    assert report["processingStatus"] == "DONE" and report["reportType"] == ALL_ORDERS
    assert report["reportDocumentId"].startswith("amzn1.spdoc.")
    assert sb.api.reports.documents[report["reportDocumentId"]].gzipped


def test_an_uncompressed_document_is_read_as_is(engine_on):
    start, end = window()
    with engine_on(orders=30, report_gzip_min_bytes=10**9) as (engine, url, sb):
        text = engine.run(ALL_ORDERS, marketplace_ids=US, start=start, end=end)
        [report] = engine.list_reports([ALL_ORDERS], created_since=start)
        assert not sb.api.reports.documents[report["reportDocumentId"]].gzipped
    assert text.startswith("amazon-order-id\t") and len(parse_table(text)) > 0


def test_a_fatal_report_is_retried_after_a_cooldown(engine_on):
    start, end = window()
    slept: list[float] = []

    def nap(seconds: float) -> None:  # record the engine's waits, sleep only as long as the sandbox needs
        slept.append(seconds)
        time.sleep(min(seconds, 0.01))

    with engine_on(orders=30) as (engine, url, sb):
        engine.sleep, engine.cooldown = nap, 60.0
        queue(url, "FATAL", 1, "temporary failure")
        text = engine.run(LEDGER, marketplace_ids=US, start=start, end=end)
    assert engine.stats["createReport"] == 2  # the FATAL one, then the good one
    assert 60.0 in slept  # the cooldown was observed before creating it again
    assert parse_table(text)[0]["EventType"] in ("Shipments", "CustomerReturns")


def test_a_fatal_report_that_persists_names_the_report_and_amazons_reason(engine_on):
    start, end = window()
    with engine_on(orders=10) as (engine, url, sb):
        queue(url, "FATAL", 3, "The report could not be generated for the requested date range.")
        with pytest.raises(PermanentError) as caught:
            engine.run(LEDGER, marketplace_ids=US, start=start, end=end)
        last = max(sb.api.reports.reports.values(), key=lambda r: r.created)
    error = caught.value
    assert engine.stats["createReport"] == 3
    assert error.code == "FATAL" and last.report_id in str(error) and LEDGER in str(error)
    assert "could not be generated for the requested date range" in str(error)
    assert error.remote_message == "The report could not be generated for the requested date range."


def test_a_fatal_report_without_an_error_document_still_names_the_report(engine_on):
    start, end = window()
    with engine_on(orders=10) as (engine, url, sb):
        engine.fatal_attempts = 1
        queue(url, "FATAL", 1)
        with pytest.raises(PermanentError, match=r"report 5\d+ .*ended FATAL \(1 attempt\)\n"):
            engine.run(LEDGER, marketplace_ids=US, start=start, end=end)


def test_a_cancelled_report_reads_as_no_data(engine_on):
    start, end = window()
    with engine_on(orders=10) as (engine, url, sb):
        queue(url, "CANCELLED")
        assert engine.run(LEDGER, marketplace_ids=US, start=start, end=end) == ""
        assert engine.stats["createReport"] == 1 and engine.stats["getReportDocument"] == 0
        # with a retry policy for CANCELLED, it is asked for again
        engine.cancelled_attempts = 2
        queue(url, "CANCELLED")
        assert parse_table(engine.run(LEDGER, marketplace_ids=US, start=start, end=end))
        assert engine.stats["createReport"] == 3


def test_a_window_with_no_data_comes_back_cancelled_as_amazon_does(engine_on):
    with engine_on(orders=10) as (engine, url, sb):
        old = datetime.now(timezone.utc) - timedelta(days=300)
        assert engine.run(ALL_ORDERS, marketplace_ids=US, start=old, end=old + timedelta(days=1)) == ""
        [report] = engine.list_reports([ALL_ORDERS], created_since=old, processing_statuses=("CANCELLED",))
        assert "reportDocumentId" not in report


def test_an_expired_document_url_is_fetched_again_once(engine_on):
    start, end = window()
    with engine_on(orders=20) as (engine, url, sb):
        queue(url, "EXPIRED_URL")
        text = engine.run(LEDGER, marketplace_ids=US, start=start, end=end)
        assert parse_table(text)
        assert engine.stats["getReportDocument"] == 2 and engine.stats["downloads"] == 2
        queue(url, "EXPIRED_URL", 2)
        with pytest.raises(PermanentError, match="expired twice") as caught:
            engine.run(LEDGER, marketplace_ids=US, start=start, end=end)
    assert caught.value.code == "ExpiredUrl"


def test_a_truncated_gzip_is_a_clear_error(engine_on):
    start, end = window()
    with engine_on(orders=20) as (engine, url, sb):
        queue(url, "TRUNCATED")
        with pytest.raises(PermanentError) as caught:
            engine.run(LEDGER, marketplace_ids=US, start=start, end=end)
    error = caught.value
    assert error.code == "CorruptDocument" and "truncated or corrupt" in str(error)
    assert "amzn1.spdoc." in str(error) and "nothing of it was read" in str(error)


def test_cancel_report_only_while_in_queue(engine_on):
    start, end = window()
    with engine_on(orders=5, report_queue_s=3600) as (engine, url, sb):
        report_id = engine.create(LEDGER, marketplace_ids=US, start=start, end=end)
        engine.cancel(report_id)
        assert engine.report(report_id)["processingStatus"] == "CANCELLED"
        with pytest.raises(PermanentError, match="Only IN_QUEUE reports can be cancelled"):
            engine.cancel(report_id)


def test_a_report_still_in_progress_after_max_wait_is_a_transient_error(engine_on):
    start, end = window()
    with engine_on(orders=5, report_processing_s=36000) as (engine, url, sb):
        engine.max_wait = 0.05
        with pytest.raises(TransientError, match="still IN_(QUEUE|PROGRESS) after"):
            engine.run(LEDGER, marketplace_ids=US, start=start, end=end)


def test_settlement_reports_cannot_be_created(engine_on):
    with engine_on(orders=5) as (engine, url, sb):
        with pytest.raises(PermanentError) as caught:
            engine.create("GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2", marketplace_ids=US)
    assert caught.value.status == 400 and caught.value.code == "InvalidInput"
    assert "Settlement reports cannot be requested" in str(caught.value)


# ------------------------------------------------------------------------------------------------ MockTransport


def mock_client(handler) -> HttpClient:
    return HttpClient("https://sellingpartnerapi-na.amazon.com", transport=httpx.MockTransport(handler),
                      retry=FAST_RETRY)


def test_list_reports_follows_next_token_sent_alone():
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen.append(params)
        if "nextToken" in params:
            return httpx.Response(200, json={"reports": [{"reportId": "2", "reportType": "T", "createdTime": "x",
                                                          "processingStatus": "DONE"}]})
        return httpx.Response(200, json={"nextToken": "tok==", "reports": [
            {"reportId": "1", "reportType": "T", "createdTime": "x", "processingStatus": "DONE"}]})

    with mock_client(handler) as client:
        since = datetime(2026, 1, 1, tzinfo=timezone.utc)
        got = list(ReportsEngine(client).list_reports(["T", "U"], created_since=since, marketplace_ids=US))
    assert [r["reportId"] for r in got] == ["1", "2"]
    assert seen[0] == {"reportTypes": "T,U", "createdSince": "2026-01-01T00:00:00Z", "pageSize": "100",
                       "processingStatuses": "DONE", "marketplaceIds": "ATVPDKIKX0DER"}
    assert seen[1] == {"nextToken": "tok=="}


def test_an_unknown_processing_status_is_a_clear_error():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(202, json={"reportId": "42"})
        return httpx.Response(200, json={"reportId": "42", "reportType": "T", "createdTime": "x",
                                         "processingStatus": "HALF_DONE"})

    with mock_client(handler) as client:
        with pytest.raises(PermanentError, match="report 42: unknown processingStatus 'HALF_DONE'"):
            ReportsEngine(client, sleep=lambda s: None).run("T", marketplace_ids=US, start=None, end=None)


@pytest.mark.parametrize("reply", [b"{not json", b"[1, 2]"])
def test_a_malformed_reply_is_a_clear_error(reply):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(202, json={"reportId": "42"})
        return httpx.Response(200, content=reply, headers={"content-type": "application/json"})

    with mock_client(handler) as client:
        with pytest.raises(PermanentError) as caught:
            ReportsEngine(client, sleep=lambda s: None).run("T", marketplace_ids=US, start=None, end=None)
    assert caught.value.code == "MalformedJson" and caught.value.operation == "getReport"
    assert str(caught.value).startswith("getReport: ")


def test_document_text_decodes_the_charset_amazon_names():
    body = "sku\tproduct-name\nLL-1\tCaf\u00e9 cr\u00e8me\n".encode("cp1252")

    def api(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"reportDocumentId": "amzn1.spdoc.1", "url": "https://s3.example/doc",
                                         "compressionAlgorithm": "GZIP"})

    def s3(request: httpx.Request) -> httpx.Response:
        assert "x-amz-access-token" not in request.headers  # presigned: no SP-API credentials sent to S3
        return httpx.Response(200, content=gzip.compress(body), headers={"content-type": "text/plain;charset=Cp1252"})

    with mock_client(api) as client:
        engine = ReportsEngine(client, download=httpx.Client(transport=httpx.MockTransport(s3)))
        text = engine.document_text("amzn1.spdoc.1")
    assert parse_table(text) == [{"sku": "LL-1", "product-name": "Caf\u00e9 cr\u00e8me"}]


# ------------------------------------------------------------------------------------------------ parsing


def test_rows_are_read_by_header_name_whatever_the_column_order():
    a = "\ufeffsku\tquantity \tproduct-name\nLL-1\t2\tMug \"Black\"  \nLL-2\t1\n\n"
    b = "product-name\tsku\tquantity\nMug \"Black\"\tLL-1\t2\n\tLL-2\t1\n"
    assert parse_table(a) == parse_table(b) == [
        {"sku": "LL-1", "quantity": "2", "product-name": 'Mug "Black"'},  # a quote is a character in TSV
        {"sku": "LL-2", "quantity": "1", "product-name": ""},  # a trimmed row is padded
    ]
    assert parse_table('sku,product-name\nLL-1,"Mug, Black"\n', delimiter=",") == [
        {"sku": "LL-1", "product-name": "Mug, Black"}]
    with pytest.raises(ValueError, match="line 3: 3 cells under a header of 2"):
        parse_table("sku\tquantity\nLL-1\t1\nLL-2\t1\textra\n")


def test_xml_reports_are_parsed_without_entity_expansion():
    xml = ("<?xml version='1.0'?><AmazonEnvelope><Message><Order><AmazonOrderID>111-1</AmazonOrderID>"
           "<OrderItem><SKU>A</SKU></OrderItem><OrderItem><SKU>B</SKU></OrderItem></Order></Message></AmazonEnvelope>")
    assert parse_xml(xml, "Order") == [{"AmazonOrderID": "111-1", "OrderItem": [{"SKU": "A"}, {"SKU": "B"}]}]
    bomb = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><r><Order>&b;</Order></r>'
    with pytest.raises(ValueError, match="unreadable XML report"):
        parse_xml(bomb, "Order")
    assert json.loads(json.dumps(parse_xml(xml, "SKU"))) == ["A", "B"]
