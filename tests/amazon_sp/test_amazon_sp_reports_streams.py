"""The report streams end to end against the sandbox over loopback (the source's `read`, the CLI, the runtime's
staging), a crash in the middle and its resume, and the all-orders report normalising to the same `Order` as
Orders v0."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from ledgerlink import PermanentError, RecordError, protocol
from ledgerlink.cli import cli
from ledgerlink_amazon_sp import AmazonSellingPartnerSource, normalise_order
from ledgerlink_amazon_sp.reports.normalise import normalise_all_orders
from ledgerlink_amazon_sp.reports.streams import AllOrdersReportStream
from ledgerlink_amazon_sp.sandbox.seed import SellerBook
from ledgerlink_amazon_sp.sandbox.seed_reports import FbaEvents, all_orders_rows

MARKETS = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]
STREAMS = {"fba_customer_returns": "returns", "fba_inventory_ledger": "ledger", "fba_reimbursements": "reimbursements"}


def catalog(*names: str) -> protocol.ConfiguredCatalog:
    classes = {c.name: c for c in AmazonSellingPartnerSource().stream_classes()}
    return protocol.ConfiguredCatalog(streams=[protocol.ConfiguredStream(
        stream=classes[n].airbyte_stream(), sync_mode=protocol.SyncMode.incremental,
        destination_sync_mode=protocol.DestinationSyncMode.append_dedup) for n in names])


def report_config(make_config, url: str, days: int = 70, **overrides: Any) -> dict[str, Any]:
    start = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat()
    overrides.setdefault("backfill", "reports")
    return make_config(url, start_date=start, report_poll_seconds=0.005, report_retry_cooldown_seconds=0.001,
                       **overrides)


def records(messages: list[protocol.Message], stream: str) -> list[dict[str, Any]]:
    return [m.record.data for m in messages if m.type == protocol.MessageType.RECORD and m.record.stream == stream]


def states(messages: list[protocol.Message], stream: str) -> list[dict[str, Any]]:
    return [m.state.stream.stream_state.model_dump() for m in messages
            if m.type == protocol.MessageType.STATE and m.state.stream.stream_descriptor.name == stream]


def state_list(messages: list[protocol.Message]) -> list[dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for m in messages:
        if m.type == protocol.MessageType.STATE:
            latest[m.state.stream.stream_descriptor.name] = m.state.model_dump(mode="json", by_alias=True,
                                                                                exclude_none=True)
    return list(latest.values())


@pytest.mark.parametrize("stream", sorted(STREAMS))
def test_each_fba_report_stream_reads_every_row_with_a_state_per_report(stream, sandbox, make_config, make_source):
    with sandbox(orders=400) as (url, sb):
        config = report_config(make_config, url, report_window_days=30)
        messages = list(make_source().read(config, catalog(stream)))
        now = int(datetime.now(timezone.utc).timestamp())
        expected = FbaEvents(sb.api.book).select(STREAMS[stream], MARKETS, 0, now)
        created = len(sb.api.reports.reports)
    got = records(messages, stream)
    as_text = lambda rows: sorted(json.dumps(r, sort_keys=True) for r in rows)  # noqa: E731
    assert got and as_text(got) == as_text(expected)  # every row, as Amazon wrote it
    every = states(messages, stream)
    saved = [s for s in every if "pendingReport" not in s]
    assert len({s["dataEndTime"] for s in saved}) == created == 3  # 70 days in windows of 30: a STATE per report
    # each report was saved in a STATE as soon as it was requested (a crash never requests a window twice)
    assert len({s["pendingReport"]["reportId"] for s in every if "pendingReport" in s}) == created
    assert [s["dataEndTime"] for s in saved] == sorted(s["dataEndTime"] for s in saved)
    assert datetime.fromisoformat(saved[-1]["dataEndTime"].replace("Z", "+00:00")) > datetime.now(
        timezone.utc) - timedelta(minutes=3)


def test_returns_rows_carry_the_disposition_by_name(sandbox, make_config, make_source):
    with sandbox(orders=400) as (url, sb):
        got = records(list(make_source().read(report_config(make_config, url), catalog("fba_customer_returns"))),
                      "fba_customer_returns")
    assert {r["detailed-disposition"] for r in got} <= {"SELLABLE", "CUSTOMER_DAMAGED", "DEFECTIVE", "CARRIER_DAMAGED"}
    assert all(sb.api.book.index_of(r["order-id"]) is not None and r["license-plate-number"] for r in got)


def test_all_orders_report_groups_an_orders_rows_into_one_record(sandbox, make_config, make_source):
    with sandbox(orders=150, lines_per_order=2) as (url, sb):
        messages = list(make_source().read(report_config(make_config, url), catalog("all_orders_report")))
        book = sb.api.book
    got = {r["amazon-order-id"]: r for r in records(messages, "all_orders_report")}
    assert set(got) == {book.order_id(i) for i in range(book.count)}
    some = next(iter(got.values()))
    assert len(some["rows"]) == 2 and {r["amazon-order-id"] for r in some["rows"]} == {some["amazon-order-id"]}
    assert some["last-updated-date"] == some["rows"][0]["last-updated-date"]


def test_a_resumed_read_starts_at_the_saved_window(sandbox, make_config, make_source):
    with sandbox(orders=100) as (url, sb):
        config = report_config(make_config, url)
        first = list(make_source().read(config, catalog("fba_inventory_ledger")))
        before = len(sb.api.reports.reports)
        again = list(make_source().read(config, catalog("fba_inventory_ledger"), state_list(first)))
        after = sb.api.reports.reports
    assert before == 3 and len(after) - before <= 1  # at most the few minutes since the last window
    assert not records(again, "fba_inventory_ledger")
    assert states(again, "fba_inventory_ledger")[-1]["dataEndTime"] >= states(first, "fba_inventory_ledger")[-1][
        "dataEndTime"]


def test_a_truncated_document_stops_the_read_without_staging_half_a_report(sandbox, make_config, make_source):
    with sandbox(orders=200) as (url, sb):
        config = report_config(make_config, url, days=65, report_window_days=30)
        httpx.post(f"{url}/_sandbox/reports/next", json={"outcome": "TRUNCATED", "skip": 1})
        messages: list[protocol.Message] = []
        with pytest.raises(PermanentError, match="truncated or corrupt"):
            for message in make_source().read(config, catalog("all_orders_report")):
                messages.append(message)
        first_window = {r["amazon-order-id"] for r in records(messages, "all_orders_report")}
        # the first window only (the second window's report was saved when requested, then dropped: unreadable)
        saved = states(messages, "all_orders_report")[-1]
        assert "pendingReport" not in saved and len({s["dataEndTime"] for s in states(messages, "all_orders_report")
                                                      if "dataEndTime" in s}) == 1
        end = datetime.fromisoformat(saved["dataEndTime"].replace("Z", "+00:00"))
        book = sb.api.book
        assert first_window == {book.order_id(i) for i in book.select(MARKETS, 0, int(end.timestamp()))}
        # the run resumes at the truncated window and reads the rest
        resumed = list(make_source().read(config, catalog("all_orders_report"), state_list(messages)))
    rest = {r["amazon-order-id"] for r in records(resumed, "all_orders_report")}
    assert first_window | rest == {book.order_id(i) for i in range(book.count)}
    assert not first_window & rest  # nothing read twice


def test_a_fatal_report_that_persists_fails_the_read_naming_it(sandbox, make_config, make_source):
    with sandbox(orders=50) as (url, sb):
        httpx.post(f"{url}/_sandbox/reports/next", json={"outcome": "FATAL", "count": 3, "error": "Internal failure"})
        with pytest.raises(PermanentError, match=r"GET_FBA_REIMBURSEMENTS_DATA report \d+ .*FATAL.*Internal failure"):
            list(make_source().read(report_config(make_config, url), catalog("fba_reimbursements")))


def test_cli_read_selects_report_streams_by_catalog(sandbox, make_config, tmp_path):
    with sandbox(orders=120) as (url, sb):
        config_file, catalog_file = tmp_path / "config.json", tmp_path / "catalog.json"
        config_file.write_text(json.dumps(report_config(make_config, url)))
        catalog_file.write_text(catalog("fba_customer_returns", "all_orders_report").model_dump_json(exclude_none=True))
        result = CliRunner().invoke(cli, ["read", "amazon_sp", "--config", str(config_file), "--catalog",
                                          str(catalog_file)])
        types = {r.report_type for r in sb.api.reports.reports.values()}
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    streams = {m["record"]["stream"] for m in lines if m["type"] == "RECORD"}
    assert streams == {"fba_customer_returns", "all_orders_report"}  # orders and the rest were not read
    assert types == {"GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA",
                     "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"}
    assert any(m["type"] == "STATE" for m in lines)


def test_all_orders_report_reads_only_with_backfill_reports(sandbox, make_config, make_source):
    with sandbox(orders=20) as (url, sb):
        messages = list(make_source().read(report_config(make_config, url, backfill="api"),
                                           catalog("all_orders_report")))
        assert not sb.api.reports.reports  # no report was created
    assert not records(messages, "all_orders_report")
    [warning] = [m.log.message for m in messages if m.type == protocol.MessageType.LOG]
    assert "backfill is 'api'" in warning and "backfill: reports" in warning


def test_staging_keeps_one_row_per_order_across_overlapping_reads(sandbox, make_config, tmp_path):
    from ledgerlink.runtime.extract import extract
    from ledgerlink.store import Store

    with sandbox(orders=120) as (url, sb):
        config = report_config(make_config, url, lookback_minutes=60 * 24 * 40)  # re-read 40 days each run
        store = Store(tmp_path / "state.duckdb")
        try:
            for run in (1, 2):
                extract(AmazonSellingPartnerSource(), config, ["all_orders_report", "fba_inventory_ledger"], store,
                        run_id=run)
            now = int(datetime.now(timezone.utc).timestamp())
            staged = store.raw.count("all_orders_report")
            ledger = store.raw.count("fba_inventory_ledger")
        finally:
            store.close()
    assert staged == 120
    assert ledger == len(FbaEvents(sb.api.book).select("ledger", MARKETS, 0, now))


# ------------------------------------------------------------------------------------------------ normalise


def v0_and_report(book: SellerBook, i: int) -> tuple[Any, Any]:
    order, items = book.order_and_items(i)
    via_api = normalise_order(order, {"order_items": [{**it, "AmazonOrderId": order["AmazonOrderId"]}
                                                      for it in items]})[0]
    rows = all_orders_rows(book, MARKETS, book.updated[i], book.updated[i])
    [record] = [r for r in AllOrdersReportStream.records(None, rows)  # type: ignore[arg-type]
                if r["amazon-order-id"] == order["AmazonOrderId"]]
    via_report = normalise_all_orders(json.loads(json.dumps(record)), {})[0]
    return via_api, via_report


def test_a_back_filled_order_is_the_same_order_as_through_get_orders():
    book = SellerBook(300, 11, datetime.now(timezone.utc), lines_per_order=None)
    money = ("amount", "tax", "shipping", "shipping_tax", "discount", "shipping_discount", "gift_wrap", "gift_wrap_tax")
    compared = 0
    for i in range(book.count):
        via_api, via_report = v0_and_report(book, i)
        assert via_report.natural_key == via_api.natural_key  # the same idempotency key, whatever the path
        for name in ("order_id", "marketplace", "sales_channel", "fulfilment", "status", "paid", "currency",
                     "placed_at", "updated_at", "tax_collected_by", "is_business_order"):
            assert getattr(via_report, name) == getattr(via_api, name), (via_api.order_id, name)
        assert [o.shipping_address and o.shipping_address.model_dump(exclude_none=True)
                for o in (via_report, via_api)] in ([None, None], [via_api.shipping_address and
                                                                   via_api.shipping_address.model_dump(
                                                                       exclude_none=True)] * 2)
        by_sku = {line.sku: line for line in via_api.lines}
        assert sorted(by_sku) == sorted(line.sku for line in via_report.lines)
        for line in via_report.lines:
            other = by_sku[line.sku]
            assert line.quantity == other.quantity and line.promotion_ids == other.promotion_ids
            for name in money:
                assert getattr(line, name) == getattr(other, name), (via_api.order_id, line.sku, name)
        for name in money:
            assert via_report.total(name) == via_api.total(name)
        compared += 1
    assert compared == 300


def test_report_discounts_are_positive_like_orders_v0():
    book = SellerBook(300, 11, datetime.now(timezone.utc))
    rows = all_orders_rows(book, MARKETS, 0, 2**31)
    discounted = [r for r in rows if r["item-promotion-discount"] not in ("", "0.00", "0")]
    assert discounted and all(r["item-promotion-discount"].startswith("-") for r in discounted)
    record = {"amazon-order-id": discounted[0]["amazon-order-id"], "rows": [discounted[0]]}
    [order] = normalise_all_orders(record, {})
    assert order.lines[0].discount.amount == -Decimal(discounted[0]["item-promotion-discount"]) > 0


@pytest.mark.parametrize("column,value,message", [
    ("order-status", "Teleported", "unknown order-status 'Teleported'"),
    ("item-price", "12.3.4", "unreadable amount '12.3.4'"),
    ("sku", "", "missing SKU"),
    ("sales-channel", "Non-Amazon", "unknown sales-channel 'Non-Amazon'"),
    ("quantity", "two", "'two' is not a quantity"),
    ("purchase-date", "yesterday", "'yesterday' is not an ISO 8601 time"),
])
def test_a_bad_report_row_is_a_record_error_naming_the_field(column, value, message):
    book = SellerBook(20, 3, datetime.now(timezone.utc))
    row = next(r for r in all_orders_rows(book, MARKETS, 0, 2**31) if r["item-price"])
    record = {"amazon-order-id": row["amazon-order-id"], "rows": [{**row, column: value}]}
    with pytest.raises(RecordError) as caught:
        normalise_all_orders(record, {})
    assert caught.value.field == column and message in str(caught.value)
    assert caught.value.stream == "all_orders_report" and row["amazon-order-id"] in str(caught.value.key)


def test_fba_shipments_become_canonical_shipments_with_carrier_and_tracking(sandbox, make_config, make_source):
    """Every shipped FBA order's items, grouped by shipment, with Amazon's carrier and tracking number."""
    from ledgerlink_amazon_sp.reports.normalise import normalise_fba_shipment

    with sandbox(orders=200) as (url, sb):
        messages = list(make_source().read(report_config(make_config, url), catalog("fba_shipments")))
        book = sb.api.book
        expected = {}
        for i in range(book.count):
            order, items = book.order_and_items(i)
            if order["FulfillmentChannel"] == "AFN" and order["OrderStatus"] == "Shipped" \
                    and order["MarketplaceId"] in MARKETS:
                expected[order["AmazonOrderId"]] = {(it.get("SellerSKU"), it["OrderItemId"]): it["QuantityShipped"]
                                                    for it in items if it["QuantityShipped"]}
    got = records(messages, "fba_shipments")
    assert got and len({s["dataEndTime"] for s in states(messages, "fba_shipments")
                        if "pendingReport" not in s}) == 3  # a report per window
    shipments = [s for r in got for s in normalise_fba_shipment(r, {})]
    assert {s.order_id for s in shipments} == set(expected)
    for s in shipments:
        assert s.carrier in ("AMZN_US", "UPS", "USPS") and s.tracking_number and s.shipped_at is not None
        assert {(ln.sku, ln.line_id): ln.quantity for ln in s.lines} == expected[s.order_id]


def test_a_shipment_row_without_a_quantity_is_a_record_error_naming_the_field():
    from ledgerlink import RecordError
    from ledgerlink_amazon_sp.reports.normalise import normalise_fba_shipment

    record = {"shipment-id": "DABC", "amazon-order-id": "111-1", "rows": [
        {"shipment-id": "DABC", "sku": "LL-MUG-11OZ", "quantity-shipped": "0", "shipment-date": "2026-01-02T00:00:00+00:00"}]}
    with pytest.raises(RecordError) as info:
        normalise_fba_shipment(record, {})
    assert info.value.field == "quantity-shipped" and info.value.key == "DABC"
