"""The source against the sandbox over real loopback: full and incremental reads, windows, crash and
resume, retried faults, permanent refusals."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ledgerlink import PermanentError, protocol
from ledgerlink_amazon_sp.timestamps import format_time, parse_time

MARKETS = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]


def split(messages: list[protocol.Message]) -> dict[str, Any]:
    """Records by stream (keyed), STATE messages, and CONTROL messages, in the order they came."""
    out: dict[str, Any] = {"orders": {}, "order_items": {}, "states": [], "controls": []}
    for m in messages:
        if m.type == protocol.MessageType.RECORD:
            data = m.record.data
            key = data["AmazonOrderId"] if m.record.stream == "orders" else (data["AmazonOrderId"], data["OrderItemId"])
            out[m.record.stream][key] = data
        elif m.type == protocol.MessageType.STATE:
            out["states"].append(m)
        elif m.type == protocol.MessageType.CONTROL:
            out["controls"].append(m)
    return out


def expected(sb: Any) -> tuple[set[str], set[tuple[str, str]]]:
    book = sb.api.book
    orders = {book.order_id(i) for i in range(book.count)}
    items = {(book.order_id(i), it["OrderItemId"]) for i in range(book.count) for it in book.items(i)}
    return orders, items


def state_list(messages: list[protocol.Message]) -> list[dict[str, Any]]:
    """The latest STATE per stream, as the runtime would pass it back."""
    latest: dict[str, dict[str, Any]] = {}
    for m in messages:
        if m.type == protocol.MessageType.STATE:
            latest[m.state.stream.stream_descriptor.name] = m.state.model_dump(mode="json", by_alias=True,
                                                                                exclude_none=True)
    return list(latest.values())


def test_reads_every_order_and_item(sandbox, make_config, make_source):
    with sandbox(orders=120) as (url, sb):
        messages = list(make_source().read(make_config(url)))
    got = split(messages)
    orders, items = expected(sb)
    assert set(got["orders"]) == orders
    assert set(got["order_items"]) == items
    # records are Amazon's objects unchanged; items gain only their parent's id
    some = next(iter(got["orders"].values()))
    assert some == sb.api.book.order(sb.api.book.index_of(some["AmazonOrderId"]))
    (oid, iid), item = next(iter(got["order_items"].items()))
    raw = {i["OrderItemId"]: i for i in sb.api.book.items(sb.api.book.index_of(oid))}[iid]
    assert item == {**raw, "AmazonOrderId": oid}
    assert isinstance(item["ItemPrice"]["Amount"], str)
    # both streams carry the same cursor, the end of the last window
    final = [m.state.stream.stream_state.model_dump() for m in got["states"][-2:]]
    assert final[0] == final[1] and "LastUpdateDate" in final[0]


def test_items_come_before_the_state_that_covers_their_order(sandbox, make_config, make_source):
    with sandbox(orders=60, lines_per_order=3, items_page_size=2) as (url, sb):
        messages = list(make_source().read(make_config(url, page_size=7)))
    all_items = defaultdict(set)
    for key in split(messages)["order_items"]:
        all_items[key[0]].add(key[1])
    seen_orders: set[str] = set()
    seen_items: dict[str, set[str]] = defaultdict(set)
    for m in messages:
        if m.type == protocol.MessageType.RECORD and m.record.stream == "orders":
            seen_orders.add(m.record.data["AmazonOrderId"])
        elif m.type == protocol.MessageType.RECORD:
            seen_items[m.record.data["AmazonOrderId"]].add(m.record.data["OrderItemId"])
        elif m.type == protocol.MessageType.STATE:
            assert all(seen_items[o] == all_items[o] for o in seen_orders)
    assert all(len(v) == 3 for v in all_items.values())  # items paged 2 + 1 and all read


def test_incremental_reads_nothing_new_then_only_what_changed(sandbox, make_config, make_source):
    with sandbox(orders=80) as (url, sb):
        config = make_config(url, lookback_minutes=1)
        first = list(make_source().read(config))
        cursor = parse_time(split(first)["states"][-1].state.stream.stream_state.model_dump()["LastUpdateDate"])
        second = split(list(make_source().read(config, state=state_list(first))))
        assert second["orders"] == {} and second["order_items"] == {}

        changed = sb.api.book.order_id(5)
        httpx.post(f"{url}/_sandbox/orders/{changed}",
                   json={"OrderStatus": "Shipped", "LastUpdateDate": format_time(cursor - timedelta(seconds=30))})
        third = split(list(make_source().read(config, state=state_list(first))))
    assert set(third["orders"]) == {changed}  # inside the look-back only
    assert {k[0] for k in third["order_items"]} == {changed}
    assert third["orders"][changed]["OrderStatus"] == "Shipped"


def test_windows_and_paging_follow_amazons_rules(sandbox, make_config, make_source, recording_transport):
    start = datetime.now(timezone.utc) - timedelta(days=40)
    with sandbox(orders=60) as (url, sb):
        config = make_config(url, max_window_days=7, page_size=5, start_date=start.isoformat())
        got = split(list(make_source(recording_transport).read(config)))
    calls = [parse_qs(urlsplit(str(r.url)).query) for r in recording_transport.requests
             if r.url.path == "/orders/v0/orders"]
    windows = [(parse_time(c["LastUpdatedAfter"][0]), parse_time(c["LastUpdatedBefore"][0]))
               for c in calls if "LastUpdatedAfter" in c]
    assert len(windows) == 6  # 40 days in windows of at most 7
    assert all(b - a <= timedelta(days=7) for a, b in windows)
    assert all(windows[n][1] == windows[n + 1][0] for n in range(len(windows) - 1))  # contiguous
    assert windows[-1][1] <= datetime.now(timezone.utc) - timedelta(minutes=2)
    paged = [c for c in calls if "NextToken" in c]
    assert paged and all(set(c) == {"MarketplaceIds", "NextToken"} for c in paged)
    in_range = {sb.api.book.order_id(i) for i in range(sb.api.book.count)
                if sb.api.book.updated[i] >= int(start.timestamp())}
    assert set(got["orders"]) == in_range


@pytest.mark.parametrize("crash_at", [1, 3, 6])
def test_a_crash_mid_window_loses_nothing(sandbox, make_config, make_source, crash_at):
    with sandbox(orders=90) as (url, sb):
        config = make_config(url, page_size=10)
        kept: list[protocol.Message] = []
        states = 0
        for message in make_source().read(config):  # the runtime dies after the crash_at-th STATE
            kept.append(message)
            if message.type == protocol.MessageType.STATE:
                states += 1
                if states == crash_at * 2:  # each checkpoint yields one STATE per stream
                    break
        committed = state_list(kept)
        before = split(kept)
        # a committed state must never stand past an order it has not seen: resume and compare
        after = split(list(make_source().read(config, state=committed)))
    orders, items = expected(sb)
    assert set(before["orders"]) | set(after["orders"]) == orders
    assert set(before["order_items"]) | set(after["order_items"]) == items


@pytest.mark.parametrize("status", [429, 500, 503])
def test_injected_faults_are_retried_and_the_read_completes(sandbox, make_config, make_source, status):
    with sandbox(orders=40) as (url, sb):
        for operation in ("getOrders", "getOrderItems"):
            httpx.post(f"{url}/_sandbox/faults", json={"operation": operation, "status": status, "count": 2})
        got = split(list(make_source().read(make_config(url))))
        calls = sb.api.calls
    orders, items = expected(sb)
    assert set(got["orders"]) == orders and set(got["order_items"]) == items
    assert calls["getOrders"][str(status)] == 2 and calls["getOrderItems"][str(status)] == 2


def test_403_from_sp_api_is_a_clear_permanent_error(sandbox, make_config, make_source):
    with sandbox(orders=5) as (url, _):
        httpx.post(f"{url}/_sandbox/faults", json={"operation": "getOrders", "status": 403, "count": 2})
        with pytest.raises(PermanentError) as info:
            list(make_source().read(make_config(url)))
    err = info.value
    assert err.status == 403 and err.code == "Unauthorized" and err.operation == "getOrders"
    assert "Access to requested resource is denied." in str(err)
    assert "Orders role" in (err.hint or "")


def test_expired_access_token_is_refreshed_once(sandbox, make_config, make_source):
    with sandbox(orders=5) as (url, _):
        src = make_source()
        config = src.parse_config(make_config(url))
        with src.client(config) as client:
            params = {"MarketplaceIds": "ATVPDKIKX0DER", "CreatedAfter": format_time(config.start_date)}
            assert client.get("/orders/v0/orders", operation="getOrders", params=params).status_code == 200
            httpx.post(f"{url}/_sandbox/expire_tokens")
            assert client.get("/orders/v0/orders", operation="getOrders", params=params).status_code == 200
            assert client._client.auth.refreshes == 2


def test_wrong_refresh_token_is_refused_by_lwa(sandbox, make_config, make_source):
    with sandbox(orders=5, refresh_token="Atzr|the-right-one") as (url, _):
        src = make_source()
        status = src.check(make_config(url, refresh_token="Atzr|a-wrong-one"))
        with pytest.raises(PermanentError) as info:
            list(src.read(make_config(url, refresh_token="Atzr|a-wrong-one")))
        assert src.check(make_config(url, refresh_token="Atzr|the-right-one")).status == protocol.Status.SUCCEEDED
    assert status.status == protocol.Status.FAILED and "invalid_grant" in status.message
    assert "a-wrong-one" not in status.message
    assert info.value.hint and "re-authorise" in info.value.hint


def test_a_rotated_refresh_token_is_handed_to_the_runtime(sandbox, make_config, make_source):
    with sandbox(orders=3, rotate_refresh_token=True) as (url, _):
        got = split(list(make_source().read(make_config(url))))
    assert len(got["controls"]) == 1
    new = got["controls"][0].control.connectorConfig.config["refresh_token"]
    assert new.startswith("Atzr|") and new != "Atzr|sandbox-refresh-token"


def test_secrets_never_reach_the_logs(sandbox, make_config, make_source, caplog):
    caplog.set_level(logging.DEBUG)
    with sandbox(orders=10) as (url, _):
        config = make_config(url)
        httpx.post(f"{url}/_sandbox/faults", json={"operation": "getOrders", "status": 500, "count": 1})
        list(make_source().read(config))
    text = caplog.text
    assert "retry" in text  # the fault was logged…
    for secret in (config["client_secret"], config["refresh_token"]):
        assert secret not in text  # …without the credentials


def test_sandbox_validation_errors_are_400_invalid_input(sandbox, make_config, make_source):
    with sandbox(orders=5) as (url, _):
        src = make_source()
        config = src.parse_config(make_config(url))
        now = datetime.now(timezone.utc)
        old = format_time(now - timedelta(days=3))
        with src.client(config) as client:
            with pytest.raises(PermanentError) as info:
                client.get("/orders/v0/orders", operation="getOrders",
                           params={"MarketplaceIds": MARKETS[0], "CreatedAfter": old, "LastUpdatedAfter": old})
        assert (info.value.status, info.value.code) == (400, "InvalidInput")
        assert "not both" in info.value.remote_message

        token = httpx.post(f"{url}/auth/o2/token", data={
            "grant_type": "refresh_token", "refresh_token": "r", "client_id": "c", "client_secret": "s"}).json()
        headers = {"x-amz-access-token": token["access_token"]}

        def get(path: str, **params: Any) -> httpx.Response:
            return httpx.get(url + path, params=params, headers=headers)

        refused = [
            get("/orders/v0/orders", CreatedAfter=old),  # no MarketplaceIds
            get("/orders/v0/orders", MarketplaceIds=MARKETS[0]),  # neither After
            get("/orders/v0/orders", MarketplaceIds=MARKETS[0], LastUpdatedAfter=old,
                LastUpdatedBefore=format_time(now)),  # Before within two minutes of now
            get("/orders/v0/orders", MarketplaceIds=MARKETS[0], LastUpdatedAfter=old,
                LastUpdatedBefore=format_time(now - timedelta(days=4))),  # Before < After
            get("/orders/v0/orders", MarketplaceIds=MARKETS[0], LastUpdatedAfter=old, MaxResultsPerPage=101),
            get("/orders/v0/orders", MarketplaceIds=MARKETS[0], LastUpdatedAfter="yesterday"),
            get("/orders/v0/orders", MarketplaceIds=MARKETS[0], LastUpdatedAfter=old, CreatedBefore=old),
            get("/orders/v0/orders", MarketplaceIds=MARKETS[0], NextToken="not-a-token"),
            get("/orders/v0/orders/not-an-order/orderItems"),
        ]
        for response in refused:
            assert response.status_code == 400, response.text
            assert response.json()["errors"][0]["code"] == "InvalidInput"
            assert "x-amzn-RateLimit-Limit" in response.headers
        missing = get("/orders/v0/orders/111-0000000-0000000/orderItems")
        assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "NotFound"
        anonymous = httpx.get(f"{url}/orders/v0/orders", params={"MarketplaceIds": MARKETS[0], "CreatedAfter": old})
        assert anonymous.status_code == 403
        assert anonymous.json()["errors"][0]["message"] == "Access to requested resource is denied."


def test_usage_plan_is_enforced_with_429_quota_exceeded(sandbox):
    with sandbox(orders=5, time_scale=1) as (url, _):  # Amazon's real plan: getOrders burst 20, 1 per minute
        token = httpx.post(f"{url}/auth/o2/token", data={
            "grant_type": "refresh_token", "refresh_token": "r", "client_id": "c", "client_secret": "s"}).json()
        params = {"MarketplaceIds": MARKETS[0], "LastUpdatedAfter": format_time(datetime.now(timezone.utc) - timedelta(days=1))}
        with httpx.Client(base_url=url, headers={"x-amz-access-token": token["access_token"]}) as client:
            responses = [client.get("/orders/v0/orders", params=params) for _ in range(21)]
    assert [r.status_code for r in responses[:20]] == [200] * 20
    assert responses[0].headers["x-amzn-RateLimit-Limit"] == "0.0167"
    assert responses[20].status_code == 429
    assert responses[20].json()["errors"][0]["code"] == "QuotaExceeded"


def test_client_adopts_the_rate_amazon_reports(sandbox, make_config, make_source):
    with sandbox(orders=5) as (url, _):
        src = make_source()
        config = src.parse_config(make_config(url))
        with src.client(config) as client:
            client.get("/orders/v0/orders", operation="getOrders",
                       params={"MarketplaceIds": MARKETS[0], "CreatedAfter": format_time(config.start_date)})
            bucket = client.limiter._buckets[f"{config.rate_key}/getOrders"]
    assert bucket.limit.rate == pytest.approx(16.7) and bucket.limit.burst == 20


def test_only_selected_streams_are_emitted(sandbox, make_config, make_source):
    def catalog(*names: str) -> protocol.ConfiguredCatalog:
        from ledgerlink_amazon_sp import AmazonSellingPartnerSource

        streams = {s.name: s for s in AmazonSellingPartnerSource().discover({}).streams}
        return protocol.ConfiguredCatalog(streams=[protocol.ConfiguredStream(
            stream=streams[n], sync_mode=protocol.SyncMode.incremental,
            destination_sync_mode=protocol.DestinationSyncMode.append_dedup) for n in names])

    with sandbox(orders=20) as (url, sb):
        only_orders = list(make_source().read(make_config(url), catalog("orders")))
        only_items = list(make_source().read(make_config(url), catalog("order_items")))
        calls = sb.api.calls
    assert {m.record.stream for m in only_orders if m.record} == {"orders"}
    assert {m.state.stream.stream_descriptor.name for m in only_orders if m.state} == {"orders"}
    assert {m.record.stream for m in only_items if m.record} == {"order_items"}
    assert {m.state.stream.stream_descriptor.name for m in only_items if m.state} == {"order_items"}
    assert calls["getOrderItems"]["200"] == 20  # items fetched once, for the items-only read


def test_a_run_with_nothing_to_read_still_confirms_state(sandbox, make_config, make_source):
    with sandbox(orders=5) as (url, _):
        config = make_config(url, start_date=datetime.now(timezone.utc).isoformat())
        messages = list(make_source().read(config, state={"orders": {"LastUpdateDate": "2024-01-01T00:00:00Z"}}))
    states = [m.state.stream for m in messages if m.type == protocol.MessageType.STATE]
    assert {s.stream_descriptor.name for s in states} == {"orders", "order_items"}
    assert not [m for m in messages if m.type == protocol.MessageType.RECORD]
