"""Orders API 2026-01-01 (`orders_api: "2026-01-01"`, stream `orders_2026`): the sandbox against Amazon's model,
the source over loopback (full, incremental, paging, crash and resume), the normaliser, and Amazon's own
searchOrders sandbox cases replayed through the client."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jsonschema
import pytest

from ledgerlink import PermanentError, RecordError, protocol
from ledgerlink_amazon_sp import AmazonSellingPartnerSource, AmazonSPConfig, Orders2026Stream, normalise_order
from ledgerlink_amazon_sp.client import sp_client
from ledgerlink_amazon_sp.orders.normalise_2026 import normalise_order_2026
from ledgerlink_amazon_sp.orders.streams import INCLUDED_DATA
from ledgerlink_amazon_sp.sandbox.seed import SellerBook
from ledgerlink_amazon_sp.timestamps import format_time, parse_time
from amazon_models import strict  # noqa: E402



def token(url: str) -> dict[str, str]:
    body = httpx.post(f"{url}/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": "Atzr|r",
                                                    "client_id": "c", "client_secret": "s"}).json()
    return {"x-amz-access-token": body["access_token"]}

PATH = "/orders/2026-01-01/orders"
MARKETS = "ATVPDKIKX0DER,A2EUQ1WTGCTBG2"


@pytest.fixture(scope="module")
def model_2026(reference_dir: Path) -> dict[str, Any]:
    return json.loads((reference_dir / "amazon-sp-api" / "models" / "orders_2026-01-01.json").read_text())


@pytest.fixture(scope="module")
def validate(model_2026):
    definitions = strict(copy.deepcopy(model_2026["definitions"]))

    def check(status: int, body: Any) -> None:
        ref = model_2026["paths"][PATH]["get"]["responses"][str(status)]["schema"]["$ref"]
        jsonschema.Draft4Validator({"$ref": ref, "definitions": definitions}).validate(body)

    return check


def read(source: AmazonSellingPartnerSource, config: dict[str, Any], state: Any = None) -> list[protocol.Message]:
    return list(source.read({**config, "orders_api": "2026-01-01"}, state=state))


def records(messages: list[protocol.Message]) -> dict[str, dict[str, Any]]:
    return {m.record.data["orderId"]: m.record.data for m in messages if m.type == protocol.MessageType.RECORD}


def states(messages: list[protocol.Message]) -> list[dict[str, Any]]:
    return [m.state.model_dump(mode="json", by_alias=True, exclude_none=True)
            for m in messages if m.type == protocol.MessageType.STATE]


# ---------------------------------------------------------------------------------------------- sandbox


def test_search_orders_pages_match_the_model(sandbox, validate):
    after = format_time(datetime.now(timezone.utc) - timedelta(days=61))
    with sandbox(orders=120, defects=2) as (url, sb):
        with httpx.Client(base_url=url, headers=token(url)) as client:
            seen: list[str] = []
            params: dict[str, Any] = {"marketplaceIds": MARKETS, "lastUpdatedAfter": after, "maxResultsPerPage": 7,
                                      "includedData": ",".join(INCLUDED_DATA) + ",EXPENSE,PACKAGES"}
            while True:
                response = client.get(PATH, params=params)
                assert response.status_code == 200, response.text
                body = response.json()
                validate(200, body)
                assert len(body["orders"]) <= 7 and "lastUpdatedBefore" in body
                seen += [o["orderId"] for o in body["orders"]]
                if "pagination" not in body:
                    break
                params = {**params, "paginationToken": body["pagination"]["nextToken"]}
            bare = client.get(PATH, params={"createdAfter": after}).json()  # no includedData: the core only
            validate(200, bare)
    assert sorted(seen) == sorted(sb.api.book.order_id(i) for i in range(120))
    assert all(set(o) <= {"orderId", "createdTime", "lastUpdatedTime", "salesChannel", "orderItems", "programs"}
               for o in bare["orders"])
    assert "createdBefore" in bare


@pytest.mark.parametrize("params, message", [
    ({}, "One of createdAfter or lastUpdatedAfter"),
    ({"createdAfter": "A", "lastUpdatedAfter": "A"}, "Only one of"),
    ({"lastUpdatedAfter": "A", "createdBefore": "B"}, "createdBefore cannot be set"),
    ({"createdAfter": "A", "lastUpdatedBefore": "B"}, "lastUpdatedBefore cannot be set"),
    ({"lastUpdatedAfter": "A", "lastUpdatedBefore": "NOW"}, "at least two minutes before"),
    ({"lastUpdatedAfter": "A", "maxResultsPerPage": 101}, "between 1 and 100"),
    ({"lastUpdatedAfter": "A", "maxResultsPerPage": 0}, "between 1 and 100"),
    ({"lastUpdatedAfter": "A", "marketplaceIds": ",".join(["ATVPDKIKX0DER"] * 51)}, "at most 50"),
    ({"lastUpdatedAfter": "A", "includedData": "BUYER,EVERYTHING"}, "Invalid includedData: EVERYTHING"),
    ({"lastUpdatedAfter": "A", "paginationToken": "garbage"}, "Invalid paginationToken"),
    ({"lastUpdatedAfter": "not a time"}, "not an ISO 8601"),
])
def test_search_orders_refuses_what_amazon_refuses(sandbox, validate, params, message):
    now = datetime.now(timezone.utc)
    times = {"A": format_time(now - timedelta(days=1)), "B": format_time(now - timedelta(hours=1)),
             "NOW": format_time(now)}
    params = {k: times.get(v, v) if isinstance(v, str) else v for k, v in params.items()}
    with sandbox(orders=3) as (url, _):
        response = httpx.get(f"{url}{PATH}", params=params, headers=token(url))
    assert response.status_code == 400, response.text
    validate(400, response.json())
    assert response.json()["errors"][0]["code"] == "InvalidInput" and message in response.json()["errors"][0]["message"]


# ---------------------------------------------------------------------------------------------- source


def test_reads_every_order_with_its_items_in_few_requests(sandbox, make_config, make_source, recording_transport):
    with sandbox(orders=150) as (url, sb):
        messages = read(make_source(recording_transport), make_config(url))
        calls = sb.api.calls
    got = records(messages)
    book = sb.api.book
    assert set(got) == {book.order_id(i) for i in range(150)}
    some = next(iter(got.values()))
    assert some == book.order_2026(book.index_of(some["orderId"]), frozenset(INCLUDED_DATA))  # Amazon's own object
    assert set(calls) == {"searchOrders"} and calls["searchOrders"]["200"] <= 6  # 150 orders, 100 a page
    final = states(messages)[-1]
    assert final["stream"]["stream_descriptor"]["name"] == "orders_2026"
    assert "lastUpdatedTime" in final["stream"]["stream_state"]
    sent = [parse_qs(urlsplit(str(r.url)).query) for r in recording_transport.requests if r.url.path == PATH]
    assert all(q["includedData"] == [",".join(INCLUDED_DATA)] for q in sent)


def test_incremental_reads_nothing_new_then_only_what_changed(sandbox, make_config, make_source):
    with sandbox(orders=80) as (url, sb):
        config = make_config(url, lookback_minutes=1)
        first = read(make_source(), config)
        saved = states(first)[-1:]
        cursor = parse_time(saved[0]["stream"]["stream_state"]["lastUpdatedTime"])
        assert records(read(make_source(), config, saved)) == {}
        changed = sb.api.book.order_id(5)
        httpx.post(f"{url}/_sandbox/orders/{changed}",
                   json={"OrderStatus": "Shipped", "LastUpdateDate": format_time(cursor - timedelta(seconds=30))})
        third = records(read(make_source(), config, saved))
    assert set(third) == {changed} and third[changed]["fulfillment"]["fulfillmentStatus"] == "SHIPPED"


def test_windows_and_paging(sandbox, make_config, make_source, recording_transport):
    start = datetime.now(timezone.utc) - timedelta(days=40)
    with sandbox(orders=60) as (url, sb):
        config = make_config(url, max_window_days=7, page_size=5, start_date=start.isoformat())
        messages = read(make_source(recording_transport), config)
    calls = [parse_qs(urlsplit(str(r.url)).query) for r in recording_transport.requests if r.url.path == PATH]
    windows = sorted({(c["lastUpdatedAfter"][0], c["lastUpdatedBefore"][0]) for c in calls})
    assert len(windows) == 6 and all(windows[n][1] == windows[n + 1][0] for n in range(5))
    assert parse_time(windows[-1][1]) <= datetime.now(timezone.utc) - timedelta(minutes=2)
    assert any("paginationToken" in c for c in calls)
    assert all(c["maxResultsPerPage"] == ["5"] for c in calls)
    book = sb.api.book
    assert set(records(messages)) == {book.order_id(i) for i in range(60) if book.updated[i] >= int(start.timestamp())}
    # one STATE per completed window, each further on
    cursors = [s["stream"]["stream_state"]["lastUpdatedTime"] for s in states(messages)]
    assert len(cursors) == 6 and cursors == sorted(cursors)


@pytest.mark.parametrize("crash_after", [1, 3])
def test_a_crash_loses_nothing(sandbox, make_config, make_source, crash_after):
    with sandbox(orders=90) as (url, sb):
        config = make_config(url, page_size=10, max_window_days=10)
        kept: list[protocol.Message] = []
        seen = 0
        for message in make_source().read({**config, "orders_api": "2026-01-01"}):
            kept.append(message)
            if message.type == protocol.MessageType.STATE:
                seen += 1
                if seen == crash_after:
                    break
        after = read(make_source(), config, states(kept)[-1:])
    assert set(records(kept)) | set(records(after)) == {sb.api.book.order_id(i) for i in range(90)}


def test_throttling_is_retried_and_the_plan_is_searchorders(sandbox, make_config, make_source):
    with sandbox(orders=30) as (url, sb):
        httpx.post(f"{url}/_sandbox/faults", json={"operation": "searchOrders", "status": 429, "count": 2})
        got = records(read(make_source(), make_config(url)))
        calls = sb.api.calls
    assert len(got) == 30 and calls["searchOrders"]["429"] == 2
    from ledgerlink_amazon_sp.client import USAGE_PLANS
    assert (USAGE_PLANS["searchOrders"].rate, USAGE_PLANS["searchOrders"].burst) == (0.0056, 20)


def test_check_uses_search_orders(sandbox, make_config):
    with sandbox(orders=5) as (url, sb):
        status = AmazonSellingPartnerSource().check({**make_config(url), "orders_api": "2026-01-01"})
        calls = sb.api.calls
    assert status.status == protocol.Status.SUCCEEDED and calls == {"searchOrders": {"200": 1}}


def test_v0_streams_are_not_read_with_2026_and_vice_versa(sandbox, make_config, make_source):
    from ledgerlink.runtime.extract import configured_catalog

    catalog = configured_catalog(AmazonSellingPartnerSource(), None)  # the runtime's default: every normaliser's
    orders = {"orders", "order_items", "orders_2026"}
    assert orders <= {c.stream.name for c in catalog.streams}
    catalog.streams = [c for c in catalog.streams if c.stream.name in orders]  # the other families: their own tests
    with sandbox(orders=10) as (url, _):
        new = list(make_source().read({**make_config(url), "orders_api": "2026-01-01"}, catalog))
        old = list(make_source().read(make_config(url), catalog))
    assert {m.record.stream for m in new if m.record} == {"orders_2026"}
    assert {m.record.stream for m in old if m.record} == {"orders", "order_items"}


# ---------------------------------------------------------------------------------------------- normaliser


def test_every_sandbox_order_normalises_as_its_v0_twin():
    book = SellerBook(400, 11, datetime(2026, 3, 1, tzinfo=timezone.utc), defects=4)
    checked = errors = 0
    for i in range(book.count):
        order, items = book.order_and_items(i)
        related = {"order_items": [{**it, "AmazonOrderId": order["AmazonOrderId"]} for it in items]}
        try:
            v0 = normalise_order(order, related)[0]
        except RecordError:
            with pytest.raises(RecordError) as err:
                normalise_order_2026(book.order_2026(i, frozenset(INCLUDED_DATA)), {})
            assert err.value.field == "product.sellerSku" and err.value.stream == "orders_2026"
            errors += 1
            continue
        new = normalise_order_2026(book.order_2026(i, frozenset(INCLUDED_DATA)), {})[0]
        skip = {"source_refs", "status", "customer", "payment_method"}
        a, b = v0.model_dump(exclude=skip), new.model_dump(exclude=skip)
        for line in a["lines"] + b["lines"]:
            line.pop("source_ref")
        assert a == b
        assert new.natural_key == v0.natural_key and new.grand_total == v0.grand_total
        assert new.customer.natural_key.startswith("amazon_sp/customer/")
        assert [ln.source_ref.key for ln in new.lines] == [f"{new.order_id}/{ln.line_id}" for ln in new.lines]
        assert all(isinstance(ln.amount.amount, Decimal) for ln in new.lines)
        checked += 1
    assert checked > 350 and errors == 4


def _example(**item_changes: Any) -> dict[str, Any]:
    item = {"orderItemId": "1", "quantityOrdered": 2,
            "product": {"sellerSku": "SKU-1", "title": "Mug", "price": {"unitPrice": {"amount": "10.00",
                                                                                          "currencyCode": "USD"}}},
            "proceeds": {"proceedsTotal": {"amount": "22.60", "currencyCode": "USD"}, "breakdowns": [
                {"type": "ITEM", "subtotal": {"amount": "20.00", "currencyCode": "USD"}},
                {"type": "SHIPPING", "subtotal": {"amount": "4.00", "currencyCode": "USD"}},
                {"type": "TAX", "subtotal": {"amount": "1.60", "currencyCode": "USD"}, "detailedBreakdowns": [
                    {"subtype": "ITEM", "value": {"amount": "1.30", "currencyCode": "USD"}},
                    {"subtype": "SHIPPING", "value": {"amount": "0.30", "currencyCode": "USD"}}]},
                {"type": "DISCOUNT", "subtotal": {"amount": "-3.00", "currencyCode": "USD"}, "detailedBreakdowns": [
                    {"subtype": "ITEM", "value": {"amount": "-2.00", "currencyCode": "USD"}},
                    {"subtype": "SHIPPING", "value": {"amount": "-1.00", "currencyCode": "USD"}}]}]},
            "promotion": {"breakdowns": [{"promotionId": "PROMO-1"}]},
            "tax": {"taxCollections": [{"model": "MARKETPLACE_FACILITATOR", "responsibleParty": "Amazon Services, Inc."}]}}
    item.update(item_changes)
    return {"orderId": "111-0000000-0000001", "createdTime": "2026-01-02T03:04:05Z",
            "lastUpdatedTime": "2026-01-03T03:04:05Z", "programs": ["AMAZON_BUSINESS"],
            "salesChannel": {"channelName": "AMAZON", "marketplaceId": "ATVPDKIKX0DER", "marketplaceName": "Amazon.com"},
            "buyer": {"buyerName": "Jo", "buyerEmail": "jo@marketplace.amazon.com"},
            "recipient": {"deliveryAddress": {"city": "SEATTLE", "countryCode": "US", "postalCode": "98109"}},
            "proceeds": {"grandTotal": {"amount": "22.60", "currencyCode": "USD"}},
            "payment": {"paymentExecutions": [{"paymentMethod": "CreditCard"}]},
            "fulfillment": {"fulfillmentStatus": "SHIPPED", "fulfilledBy": "MERCHANT"}, "orderItems": [item]}


def test_money_fields_come_from_the_proceeds_breakdowns():
    [order] = normalise_order_2026(_example(), {})
    [line] = order.lines
    assert (line.quantity, line.unit_price.amount, line.amount.amount) == (2, Decimal("10.00"), Decimal("20.00"))
    assert (line.tax.amount, line.shipping.amount, line.shipping_tax.amount) == (
        Decimal("1.30"), Decimal("4.00"), Decimal("0.30"))
    assert (line.discount.amount, line.shipping_discount.amount) == (Decimal("2.00"), Decimal("1.00"))
    assert line.promotion_ids == ["PROMO-1"] and line.source_ref.key == "111-0000000-0000001/1"
    assert order.grand_total.amount == Decimal("22.60")
    assert order.tax_collected_by == "marketplace" and order.paid and order.is_business_order
    assert order.payment_method == "CreditCard" and order.customer.email == "jo@marketplace.amazon.com"
    assert order.shipping_address.city == "SEATTLE"


@pytest.mark.parametrize("change, field", [
    ({"product": {"title": "no sku"}}, "product.sellerSku"),
    ({"quantityOrdered": "two"}, "quantityOrdered"),
    ({"proceeds": {"proceedsTotal": {"amount": "1.00", "currencyCode": "USD"},
                   "breakdowns": [{"type": "ITEM", "subtotal": {"amount": "2.00", "currencyCode": "USD"}}]}},
     "proceeds.breakdowns"),
    ({"proceeds": {"breakdowns": [{"type": "ITEM", "subtotal": {"amount": 2.5, "currencyCode": "USD"}}]}},
     "proceeds.breakdowns[0].subtotal.amount"),
    ({"proceeds": {"breakdowns": [{"type": "COD_FEE", "subtotal": {"amount": "3.00", "currencyCode": "USD"}}]}},
     "proceeds.breakdowns[0].type"),
    ({"proceeds": {"breakdowns": [{"type": "ITEM", "subtotal": {"amount": "3.00", "currencyCode": "EUR"}}]}},
     "proceeds.breakdowns[0].subtotal.currencyCode"),
])
def test_unreadable_items_are_record_errors_naming_the_field(change, field):
    with pytest.raises(RecordError) as err:
        normalise_order_2026(_example(**change), {})
    assert err.value.field == field and err.value.stream == "orders_2026"


# ---------------------------------------------------------------------------------------------- Amazon's cases


def _static_cases(model_2026: dict[str, Any]) -> list[tuple[int, dict[str, Any], Any]]:
    out = []
    for status, response in model_2026["paths"][PATH]["get"]["responses"].items():
        for case in response.get("x-amzn-api-sandbox", {}).get("static", []):
            out.append((int(status), {k: v["value"] for k, v in case["request"]["parameters"].items()},
                        case["response"]))
    return out


def test_amazons_search_orders_cases_through_the_client(model_2026):
    """Each static case replayed through the real client (MockTransport answering as Amazon's sandbox does):
    200 pages parse and every order normalises; TEST_CASE_400 is a permanent error."""
    cases = _static_cases(model_2026)
    assert len(cases) == 4

    def answer(request: httpx.Request) -> httpx.Response:
        q = {k: v for k, v in parse_qs(request.url.query.decode()).items()}
        for status, params, body in cases:
            if q.get("createdAfter") == [params.get("createdAfter")] and (
                    ("paginationToken" in q) == ("paginationToken" in params)):
                return httpx.Response(status, json=body)
        return httpx.Response(404, json={"errors": [{"code": "NotFound", "message": "no case"}]})

    config = AmazonSPConfig(endpoint="https://sandbox.sellingpartnerapi-na.amazon.com", client_id="c",
                            client_secret="s", refresh_token="r", marketplace_ids=["ATVPDKIKX0DER"],
                            start_date="2024-01-01T00:00:00Z", orders_api="2026-01-01")
    with sp_client(config, None, transport=httpx.MockTransport(answer)) as client:
        stream = Orders2026Stream(config, client)
        seen = 0
        for status, params, body in cases:
            query = {k: ",".join(v) if isinstance(v, list) else v for k, v in params.items()}
            if status != 200:
                with pytest.raises(PermanentError):
                    client.get(PATH, operation="searchOrders", params=query)
                continue
            response = client.get(PATH, operation="searchOrders", params=query)
            from ledgerlink_amazon_sp.client import read_json
            for order in stream.parse_response(response, read_json(response)):
                [canonical] = normalise_order_2026(order, {})
                total = (order.get("proceeds") or {}).get("grandTotal")
                if total and not any(b["type"] == "DELIVERY_TIP" for b in order["proceeds"].get("breakdowns", [])):
                    assert canonical.grand_total.amount == Decimal(total["amount"])
                seen += 1
    assert seen == 3
