"""finances (listTransactions 2024-06-19) and its v0 fallback financial_events against the sandbox over
loopback: windows, paging, DEFERRED → released replacing the staged record, throttling, the Refund normaliser,
and bad input becoming dead letters."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from click.testing import CliRunner

from ledgerlink import Destination, RecordError, Refund, json_dumps, json_loads, protocol
from ledgerlink.cli import cli
from ledgerlink.runtime.extract import extract
from ledgerlink.runtime.normalise import normalise_and_plan
from ledgerlink.store import Store
from ledgerlink_amazon_sp import AmazonSellingPartnerSource
from ledgerlink_amazon_sp.finances.normalise import normalise_financial_event, normalise_transaction
from ledgerlink_amazon_sp.finances.streams import FinancesStream
from ledgerlink_amazon_sp.timestamps import parse_time



def catalog(*names: str) -> protocol.ConfiguredCatalog:
    return protocol.ConfiguredCatalog.model_validate({"streams": [
        {"stream": {"name": n, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
         "sync_mode": "incremental", "destination_sync_mode": "append_dedup"} for n in names]})


def records(messages: list[protocol.Message]) -> list[dict[str, Any]]:
    return [m.record.data for m in messages if m.type == protocol.MessageType.RECORD]


def last_state(messages: list[protocol.Message]) -> list[dict[str, Any]]:
    states = [m.state for m in messages if m.type == protocol.MessageType.STATE]
    return [states[-1].model_dump(mode="json", by_alias=True, exclude_none=True)]


def token(url: str) -> dict[str, str]:
    body = httpx.post(f"{url}/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": "Atzr|r",
                                                    "client_id": "c", "client_secret": "s"}).json()
    return {"x-amz-access-token": body["access_token"]}


def read(source: Any, config: dict[str, Any], state: Any = None, stream: str = "finances") -> list[protocol.Message]:
    return list(source.read(config, catalog(stream), state))


def in_window(sb: Any, config: dict[str, Any]) -> list[Any]:
    start = int(datetime.fromisoformat(config["start_date"]).timestamp())
    return [e for e in sb.api.finances.book.events if e.posted >= start]


def test_reads_every_transaction_once_in_windows(sandbox, make_config, make_source, recording_transport):
    with sandbox(orders=300, transactions_page_size=25) as (url, sb):
        config = make_config(url, finances_window_days=20)
        messages = read(make_source(recording_transport), config)
        expected = {e.transaction_id for e in in_window(sb, config)}
        calls = sb.api.calls
    got = records(messages)
    assert len(got) == len(expected) > 250 and {t["transactionId"] for t in got} == expected
    kinds = Counter((t["transactionType"], t["transactionStatus"]) for t in got)
    assert kinds[("Shipment", "DEFERRED")] and kinds[("Shipment", "DEFERRED_RELEASED")]
    assert kinds[("Refund", "RELEASED")]
    assert kinds[("Adjustment", "RELEASED")]  # FBA reimbursements
    sent = [parse_qs(urlsplit(str(r.url)).query) for r in recording_transport.requests
            if r.url.path == FinancesStream.path]
    windows = [(parse_time(q["postedAfter"][0]), parse_time(q["postedBefore"][0])) for q in sent]
    assert all(b - a <= timedelta(days=20) for a, b in windows) and len({w for w in windows}) == 5  # 90 days
    assert all("marketplaceId" not in q for q in sent)  # Amazon would leave out US merchant-fulfilled orders
    assert calls["listTransactions"]["200"] == len(sent)
    state = last_state(messages)[0]["stream"]["stream_state"]
    oldest_deferred = min(t["postedDate"] for t in got if t["transactionStatus"] == "DEFERRED")
    assert state["deferredSince"] == oldest_deferred and parse_time(state["postedDate"]) > parse_time(oldest_deferred)


def test_a_shipment_carries_its_orders_money_to_the_cent(sandbox, make_config, make_source):
    with sandbox(orders=150) as (url, sb):
        got = records(read(make_source(), make_config(url)))
        book = sb.api.book
        checked = 0
        for txn in got:
            if txn["transactionType"] != "Shipment":
                continue
            order_id = next(i["relatedIdentifierValue"] for i in txn["relatedIdentifiers"]
                            if i["relatedIdentifierName"] == "ORDER_ID")
            order, items = book.order_and_items(book.index_of(order_id))
            sales = {b["breakdownType"]: b for b in txn["breakdowns"]}["Sales"]
            leaves = {b["breakdownType"]: b["breakdownAmount"]["currencyAmount"] for b in sales["breakdowns"]}
            assert leaves["Principal"] == sum(Decimal(i["ItemPrice"]["Amount"]) for i in items)
            assert leaves["Tax"] == sum(Decimal(i["ItemTax"]["Amount"]) for i in items)
            assert sales["breakdownAmount"]["currencyAmount"] == Decimal(order["OrderTotal"]["Amount"])
            total = sum(b["breakdownAmount"]["currencyAmount"] for b in txn["breakdowns"])
            assert txn["totalAmount"]["currencyAmount"] == total
            assert txn["totalAmount"]["currencyCode"] == order["OrderTotal"]["CurrencyCode"]
            checked += 1
    assert checked > 100


def test_a_released_deferral_replaces_the_staged_record(sandbox, make_config, make_source, tmp_path):
    """The release comes back under the same transactionId; the cursor has moved past its posted date, but the
    state's deferredSince brings the next run back to it, look-back or not."""
    store = Store(tmp_path / "state.duckdb")
    with sandbox(orders=200) as (url, sb):
        config = make_config(url, finances_lookback_days=0)
        source = make_source()
        first = extract(source, config, ["finances"], store, run_id=1)
        staged = {pk: json_loads(d) for pk, d, _ in store.raw.db.fetchall("SELECT pk, data, seq FROM raw_finances")}
        deferred = sorted((t for t in staged.values() if t["transactionStatus"] == "DEFERRED"),
                          key=lambda t: t["postedDate"])[0]
        assert parse_time(store.source_state()["finances"]["postedDate"]) - parse_time(deferred["postedDate"]) > \
            timedelta(days=1)
        released = httpx.post(f"{url}/_sandbox/finances/release", json={"transactionId": deferred["transactionId"]})
        assert released.status_code == 200
        second = extract(source, config, ["finances"], store, run_id=2)
    assert first["read_error"] is None and second["read_error"] is None
    assert store.raw.count("finances") == len(staged)  # replaced, not added
    now = store.raw.get("finances", deferred["transactionId"])
    assert now["transactionStatus"] == "DEFERRED_RELEASED"
    names = {i["relatedIdentifierName"] for i in now["relatedIdentifiers"]}
    assert {"SETTLEMENT_ID", "FINANCIAL_EVENT_GROUP_ID"} <= names
    assert "SETTLEMENT_ID" not in {i["relatedIdentifierName"] for i in deferred["relatedIdentifiers"]}
    store.close()


def test_throttling_and_outages_lose_and_repeat_nothing(sandbox, make_config, make_source):
    with sandbox(orders=200, transactions_page_size=30) as (url, sb):
        httpx.post(f"{url}/_sandbox/faults", json={"operation": "listTransactions", "status": 429, "count": 3})
        httpx.post(f"{url}/_sandbox/faults", json={"operation": "listTransactions", "status": 500, "count": 1})
        config = make_config(url)
        got = records(read(make_source(), config))
        expected = {e.transaction_id for e in in_window(sb, config)}
        calls = sb.api.calls["listTransactions"]
    assert calls["429"] >= 3 and calls["500"] == 1
    ids = [t["transactionId"] for t in got]
    assert len(ids) == len(set(ids)) and set(ids) == expected


def test_only_the_configured_marketplaces_are_kept(sandbox, make_config, make_source):
    with sandbox(orders=150) as (url, sb):
        got = records(read(make_source(), make_config(url, marketplace_ids=["A2EUQ1WTGCTBG2"])))
    assert got and {t["marketplaceDetails"]["marketplaceId"] for t in got} == {"A2EUQ1WTGCTBG2"}
    assert {t["totalAmount"]["currencyCode"] for t in got} == {"CAD"}


# ---------------------------------------------------------------------------------------------- refunds


def test_refunds_normalise_with_lines_per_sku_that_match_the_order(sandbox, make_config, make_source):
    with sandbox(orders=300) as (url, sb):
        got = records(read(make_source(), make_config(url)))
        book = sb.api.book
        refunds = [r for t in got for r in normalise_transaction(t, {})]
        assert len(refunds) == sum(1 for t in got if t["transactionType"] == "Refund") > 10
        assert all(normalise_transaction(t, {}) == [] for t in got if t["transactionType"] != "Refund")
        for refund in refunds:
            assert isinstance(refund, Refund)
            [line] = refund.lines
            items = {i["SellerSKU"]: i for i in book.items(book.index_of(refund.order_id))}
            item = items[line.sku]
            discount = Decimal(item.get("PromotionDiscount", {}).get("Amount", "0")) + Decimal(
                item.get("ShippingDiscount", {}).get("Amount", "0"))
            assert line.amount.amount == Decimal(item["ItemPrice"]["Amount"]) - discount
            assert line.tax.amount == Decimal(item["ItemTax"]["Amount"]) + Decimal(
                item.get("ShippingTax", {}).get("Amount", "0"))
            assert line.quantity == item["QuantityOrdered"]
            assert (refund.shipping.amount if refund.shipping else 0) == Decimal(
                item.get("ShippingPrice", {}).get("Amount", "0"))
            assert refund.currency == item["ItemPrice"]["CurrencyCode"] == line.amount.currency


def test_v0_fallback_reads_released_events_and_gives_the_same_refunds(sandbox, make_config, make_source):
    with sandbox(orders=300) as (url, sb):
        config = make_config(url)
        current = records(read(make_source(), config))
        # a catalog listing both streams reads only the configured API's
        fallback = list(make_source().read({**config, "finances_api": "v0"}, catalog("finances", "financial_events")))
        calls = sb.api.calls
    events = records(fallback)
    assert {m.record.stream for m in fallback if m.type == protocol.MessageType.RECORD} == {"financial_events"}
    assert calls["listFinancialEvents"]["200"] >= 3 and calls["listTransactions"]["200"] >= 3
    released = [t for t in current if t["transactionStatus"] != "DEFERRED"]
    assert len(events) == len(released)  # v0 shows a deferred event only once released
    assert len({e["eventKey"] for e in events}) == len(events)
    assert Counter(e["eventType"] for e in events) == Counter(
        {"Shipment": "ShipmentEventList", "Refund": "RefundEventList", "Adjustment": "AdjustmentEventList"}[
            t["transactionType"]] for t in released)
    old = {r.natural_key: r for e in events for r in normalise_financial_event(e, {})}
    new = {r.natural_key: r for t in current for r in normalise_transaction(t, {})}
    assert old.keys() == new.keys() and len(old) > 10  # switching APIs posts nothing twice
    for key, refund in new.items():
        assert [(ln.sku, ln.quantity, ln.amount, ln.tax) for ln in refund.lines] == [
            (ln.sku, ln.quantity, ln.amount, ln.tax) for ln in old[key].lines]
        assert refund.shipping == old[key].shipping and refund.refunded_at == old[key].refunded_at


def test_cli_reads_the_finances_stream(sandbox, make_config, tmp_path):
    with sandbox(orders=40) as (url, sb):
        (tmp_path / "config.json").write_text(json.dumps(make_config(url)))
        (tmp_path / "catalog.json").write_text(catalog("finances").model_dump_json(by_alias=True))
        result = CliRunner().invoke(cli, ["read", "amazon_sp", "--config", str(tmp_path / "config.json"),
                                          "--catalog", str(tmp_path / "catalog.json")])
        expected = {e.transaction_id for e in sb.api.finances.book.events}
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    got = {m["record"]["data"]["transactionId"] for m in lines if m["type"] == "RECORD"}
    assert got == expected and any(m["type"] == "STATE" for m in lines)


# ------------------------------------------------------------------------------------------- bad input


def refund_txn(**change: Any) -> dict[str, Any]:
    txn = {
        "transactionId": "T1", "transactionType": "Refund", "transactionStatus": "RELEASED",
        "postedDate": "2026-03-01T10:00:00Z", "totalAmount": {"currencyCode": "USD", "currencyAmount": Decimal("-9")},
        "relatedIdentifiers": [{"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": "111-1234567-1234567"}],
        "items": [{"contexts": [{"contextType": "ProductContext", "sku": "LL-MUG-11OZ", "quantityShipped": 1}],
                   "breakdowns": [{"breakdownType": "Sales", "breakdowns": [
                       {"breakdownType": "Principal", "breakdownAmount": {"currencyCode": "USD",
                                                                         "currencyAmount": Decimal("-14.99")}}]}]}]}
    txn.update(change)
    return txn


@pytest.mark.parametrize("change, field", [
    ({"transactionStatus": "ON_HOLD"}, "transactionStatus"),
    ({"transactionStatus": None}, "transactionStatus"),
    ({"relatedIdentifiers": []}, "relatedIdentifiers"),
    ({"postedDate": None}, "postedDate"),
    ({"items": []}, "items"),
    ({"items": [{"contexts": [], "breakdowns": []}]}, "items[0].contexts"),
    ({"items": [{"contexts": [{"sku": "X", "quantityShipped": "one"}]}]}, "items[0].contexts.quantityShipped"),
    ({"items": [{"contexts": [{"sku": "X", "quantityShipped": 1}], "breakdowns": [
        {"breakdownType": "Principal", "breakdownAmount": {"currencyCode": "CAD", "currencyAmount": 1}}]}]},
     "items[0].breakdowns[0].breakdownAmount.currencyCode"),
    ({"items": [{"contexts": [{"sku": "X", "quantityShipped": 1}], "breakdowns": [
        {"breakdownType": "Principal", "breakdownAmount": {"currencyCode": "USD", "currencyAmount": "12,3x"}}]}]},
     "items[0].breakdowns[0].breakdownAmount.currencyAmount"),
])
def test_unreadable_transactions_are_clear_record_errors(change, field):
    with pytest.raises(RecordError) as caught:
        normalise_transaction(refund_txn(**change), {})
    assert caught.value.field == field and caught.value.stream == "finances" and caught.value.key == "T1"


def test_a_refund_normalises_from_a_minimal_transaction():
    [refund] = normalise_transaction(refund_txn(), {})
    assert refund.natural_key == "amazon_sp/refund/111-1234567-1234567/2026-03-01T10:00:00Z"
    assert refund.lines[0].amount.amount == Decimal("14.99") and refund.lines[0].tax.amount == 0


class _Tamper(httpx.HTTPTransport):
    """Amazon sends something new: an unknown transactionStatus, a transaction without its id."""

    done = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path != FinancesStream.path or self.done:
            return response
        response.read()
        body = json_loads(response.content)
        refunds = [t for t in body["payload"]["transactions"] if t["transactionType"] == "Refund"]
        self.done = len(refunds) >= 2  # once
        for txn in refunds[:1]:
            txn["transactionStatus"] = "ON_HOLD"
        for txn in refunds[1:2]:
            del txn["transactionId"]
        return httpx.Response(200, headers={"content-type": "application/json"}, content=json_dumps(body).encode())


class _Nowhere(Destination):
    name = "nowhere"

    def plan(self, obj: Any, ctx: Any) -> list[Any]:
        return []


def test_unknown_enum_values_and_missing_ids_become_dead_letters_not_crashes(sandbox, make_config, tmp_path):
    store = Store(tmp_path / "state.duckdb")
    with sandbox(orders=300) as (url, sb):
        source = AmazonSellingPartnerSource(transport=_Tamper())
        outcome = extract(source, make_config(url, finances_window_days=180), ["finances"], store, run_id=1)
    counts = normalise_and_plan([n for n in source.normalisers() if n.stream == "finances"], _Nowhere(), None,
                                store, run_id=1)
    letters = {(d.stage, d.stream): d for d in store.dead_letters.list()}
    assert outcome["read_error"] is None and outcome["read_dead_letters"] == 1
    assert counts["normalise_dead_letters"] == 1 and counts["objects"]["refund"] > 5
    read_letter, normalise_letter = letters[("read", "finances")], letters[("normalise", "finances")]
    assert "transactionId" in read_letter.message and read_letter.record["transactionType"] == "Refund"
    assert "ON_HOLD" in normalise_letter.message and normalise_letter.detail["field"] == "transactionStatus"
    assert normalise_letter.hint and "upgrade" in normalise_letter.hint
    store.close()


# --------------------------------------------------------------------------------------- the sandbox


def test_sandbox_refuses_what_amazon_refuses(sandbox):
    now = datetime.now(timezone.utc)

    def at(delta: timedelta) -> str:
        return (now + delta).strftime("%Y-%m-%dT%H:%M:%SZ")

    with sandbox(orders=100, transactions_page_size=5) as (url, sb), httpx.Client(base_url=url) as http:
        headers = token(url)

        def get(path: str = FinancesStream.path, **params: str) -> httpx.Response:
            return http.get(path, params=params, headers=headers)

        too_recent = get(postedAfter=at(-timedelta(seconds=30)))
        backwards = get(postedAfter=at(-timedelta(days=3)), postedBefore=at(-timedelta(days=4)))
        bad_status = get(postedAfter=at(-timedelta(days=3)), transactionStatus="PENDING")
        bad_name = get(relatedIdentifierName="REFUND_ID", relatedIdentifierValue="1")
        nothing = get()
        too_wide = get(postedAfter=at(-timedelta(days=200)), postedBefore=at(-timedelta(days=10)))
        first = get(postedAfter=at(-timedelta(days=60))).json()["payload"]
        other_args = get(postedAfter=at(-timedelta(days=59)), nextToken=first["nextToken"])
        same_args = get(postedAfter=at(-timedelta(days=60)), nextToken=first["nextToken"])
        v0_backwards = get("/finances/v0/financialEvents", PostedAfter=at(-timedelta(days=3)),
                           PostedBefore=at(-timedelta(days=4)))
        v0_page = get("/finances/v0/financialEvents", PostedAfter=at(-timedelta(days=60)), MaxResultsPerPage="500")
        us_only = get(postedAfter=at(-timedelta(days=60)), marketplaceId="ATVPDKIKX0DER").json()["payload"]
        us_mfn = [e for e in sb.api.finances.book.events if (e.marketplace, e.fulfilment) == ("ATVPDKIKX0DER", "MFN")]
    for response in (too_recent, backwards, bad_status, bad_name, nothing, other_args, v0_backwards, v0_page):
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["code"] == "InvalidInput"
    assert too_wide.status_code == 200 and too_wide.json() == {"payload": {"transactions": []}}  # as Amazon
    assert len(first["transactions"]) == 5 and same_args.status_code == 200
    assert same_args.json()["payload"]["transactions"] != first["transactions"]
    networks = {c["fulfillmentNetwork"] for t in us_only["transactions"] for i in t["items"] for c in i["contexts"]}
    assert networks == {"AFN"}  # the model's note: with marketplaceId US, merchant-fulfilled orders are left out
    assert len(us_only["transactions"]) == 5 and len(us_mfn) > 20
