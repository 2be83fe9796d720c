"""Bad input on the orders streams: a malformed JSON body, a reply without its list, missing fields, unknown enum
values, a 403 for data the app may not see. Each gives a clear error naming the operation or the record and field,
and across runs every order and item is staged exactly once: nothing is lost, nothing doubled."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from ledgerlink import RecordError, RetryPolicy
from ledgerlink.runtime.extract import extract
from ledgerlink.runtime.normalise import PlanContextImpl, mapping_engine, normalise_and_plan
from ledgerlink.store import Store
from ledgerlink_amazon_sp import (
    AmazonSellingPartnerDestination, AmazonSellingPartnerSource, normalise_order, normalise_order_2026,
)

FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01)
ORDERS, ITEMS = "/orders/v0/orders", "/orderItems"
#: rewrite(request path, call number of that kind, body) -> new body (bytes), a status + body, or None to keep it
Rewrite = Callable[[str, int, bytes], "bytes | tuple[int, bytes] | None"]


class Tamper(httpx.HTTPTransport):
    """A real loopback transport that rewrites chosen replies, as a broken proxy or a changed API would."""

    def __init__(self, rewrite: Rewrite):
        super().__init__()
        self.rewrite = rewrite
        self.calls: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        path = request.url.path
        kind = ITEMS if path.endswith(ITEMS) else path
        self.calls[kind] += 1
        body = response.read()
        new = self.rewrite(kind, self.calls[kind], body) if response.status_code == 200 else None
        if new is None:
            return response
        status, content = new if isinstance(new, tuple) else (200, new)
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}
        return httpx.Response(status, headers=headers, content=content)


def edit_orders(change: Callable[[list[dict[str, Any]]], None]) -> Callable[[bytes], bytes]:
    def apply(body: bytes) -> bytes:
        doc = json.loads(body)
        change(doc["payload"]["Orders"])
        return json.dumps(doc).encode()
    return apply


def run(url: str, make_config: Any, store: Store, transport: httpx.BaseTransport | None = None,
        **config: Any) -> dict[str, Any]:
    """One read of orders and order_items into the store, as `ledgerlink sync` does it."""
    source = AmazonSellingPartnerSource(retry=FAST_RETRY, transport=transport)
    run_id = store.runs.start("bad-input", False)
    config = {"page_size": 20, "max_window_days": 120, **config}  # one window of several pages
    return extract(source, make_config(url, **config), ["orders", "order_items"], store, run_id)


def staged(store: Store, stream: str) -> set[str]:
    if not store.raw.exists(stream):
        return set()
    return {pk for (pk,) in store.db.fetchall(f"SELECT pk FROM raw_{stream}")}


def expected(sb: Any) -> tuple[set[str], set[str]]:
    book = sb.api.book
    return ({book.order_id(i) for i in range(book.count)},
            {f"{book.order_id(i)}/{it['OrderItemId']}" for i in range(book.count) for it in book.items(i)})


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "state.duckdb")
    yield s
    s.close()


# ------------------------------------------------------------------------------------------- malformed bodies


def test_a_malformed_json_page_is_asked_for_again_and_nothing_is_lost(sandbox, make_config, store):
    truncate = Tamper(lambda kind, n, body: body[: len(body) // 2] if (kind, n) == (ORDERS, 2) else None)
    with sandbox(orders=80) as (url, sb):
        counts = run(url, make_config, store, truncate)
        orders, items = expected(sb)
    assert counts["read_error"] is None
    assert staged(store, "orders") == orders and staged(store, "order_items") == items
    assert store.raw.count("orders") == len(orders) and store.raw.count("order_items") == len(items)


@pytest.mark.parametrize("broken, says", [
    (lambda body: body[:40], "getOrders: Amazon's reply is not valid JSON"),
    (lambda body: b'{"payload": {}}', "getOrders: Amazon's reply has no payload.Orders list"),
    (lambda body: b"<html>502 Bad Gateway</html>", "getOrders: Amazon's reply is not valid JSON"),
])
def test_a_page_that_stays_broken_stops_the_run_clearly_and_the_next_run_loses_and_doubles_nothing(
        sandbox, make_config, store, broken, says):
    """Read as an empty page, `{"payload": {}}` would move the state past orders never seen."""
    always = Tamper(lambda kind, n, body: broken(body) if kind == ORDERS and n >= 2 else None)
    with sandbox(orders=80) as (url, sb):
        first = run(url, make_config, store, always)
        saved = store.source_state()
        partial = staged(store, "orders")
        second = run(url, make_config, store)
        orders, items = expected(sb)
    assert first["read_error"].startswith(f"amazon_sp: {says}") and "next sync reads it again" in first["read_error"]
    assert always.calls[ORDERS] == 3  # the good first page, the broken second page and its one repeat
    assert 0 < len(partial) < len(orders) and not saved.get("orders")  # no window completed: no cursor saved
    assert second["read_error"] is None
    assert staged(store, "orders") == orders and staged(store, "order_items") == items
    assert store.raw.count("orders") == len(orders) and store.raw.count("order_items") == len(items)


# ------------------------------------------------------------------------------------------- missing fields, enums


def test_missing_fields_and_unknown_enum_values_are_dead_letters_naming_the_field(sandbox, make_config, store):
    hurt: dict[str, str] = {}

    def damage(orders: list[dict[str, Any]]) -> None:
        hurt["no-id"] = orders[0].pop("AmazonOrderId")
        orders[1]["OrderStatus"] = "Teleported"
        hurt["status"] = orders[1]["AmazonOrderId"]
        orders[2]["FulfillmentChannel"] = "DRONE"
        hurt["channel"] = orders[2]["AmazonOrderId"]
        del orders[3]["OrderStatus"]
        hurt["no-status"] = orders[3]["AmazonOrderId"]

    def damage_items(n: int, body: bytes) -> bytes | None:
        doc = json.loads(body)
        items, order_id = doc["payload"]["OrderItems"], doc["payload"]["AmazonOrderId"]
        if n == 9:
            del items[0]["OrderItemId"]  # a read dead letter; its order must not post without the line
            hurt["item"] = order_id
        elif "TaxCollection" in items[0] and "tax" not in hurt:
            items[0]["TaxCollection"]["Model"] = "SellerCollectsSometimes"
            hurt["tax"] = order_id
        else:
            return None
        return json.dumps(doc).encode()

    tamper = Tamper(lambda kind, n, body: edit_orders(damage)(body) if (kind, n) == (ORDERS, 1) else (
        damage_items(n, body) if kind == ITEMS and n >= 9 else None))
    with sandbox(orders=40) as (url, sb):
        counts = run(url, make_config, store, tamper)
        orders, _ = expected(sb)
    assert counts["read_error"] is None and counts["read_dead_letters"] == 2  # no AmazonOrderId, no OrderItemId
    read_letters = store.dead_letters.list(stage="read")
    assert {d.stream for d in read_letters} == {"orders", "order_items"}
    assert all("record has no primary key" in d.message for d in read_letters)
    assert staged(store, "orders") == orders - {hurt["no-id"]}  # the rest are all there

    destination = AmazonSellingPartnerDestination()
    ctx = PlanContextImpl(mapping_engine(destination, {}, "."), {})
    planned = normalise_and_plan(AmazonSellingPartnerSource().normalisers()[:1], destination, ctx, store,
                                 store.runs.start("bad-input", False))
    letters = {d.record_key: d for d in store.dead_letters.list(stage="normalise")}
    assert "field 'OrderStatus': unknown OrderStatus 'Teleported'" in letters[hurt["status"]].message
    assert "upgrade the plugin" in letters[hurt["status"]].hint
    assert "field 'FulfillmentChannel': unknown FulfillmentChannel 'DRONE'" in letters[hurt["channel"]].message
    assert "field 'OrderStatus': order has no OrderStatus" in letters[hurt["no-status"]].message
    assert "field 'TaxCollection.Model': unknown TaxCollection.Model" in letters[hurt["tax"]].message
    assert "field 'OrderItems': the order has" in letters[hurt["item"]].message
    assert planned["normalised"] == len(orders) - 1 - len(letters)  # every other order became an Order, once
    assert len(letters) == planned["normalise_dead_letters"] == 5


def test_unknown_2026_enum_values_are_record_errors_naming_the_field():
    order = {"orderId": "112-1234567-1234567", "createdTime": "2026-01-02T03:04:05Z",
             "lastUpdatedTime": "2026-01-02T03:04:05Z", "salesChannel": {"marketplaceId": "ATVPDKIKX0DER"},
             "fulfillment": {"fulfillmentStatus": "SHIPPED", "fulfilledBy": "MERCHANT"},
             "orderItems": [{"orderItemId": "1", "quantityOrdered": 1, "product": {
                 "sellerSku": "S", "price": {"unitPrice": {"amount": "1.00", "currencyCode": "USD"}}}}]}
    assert normalise_order_2026(order, {})[0].fulfilment == "merchant"
    for change, field, text in (({"fulfillmentStatus": "BEAMED_UP"}, "fulfillment.fulfillmentStatus", "BEAMED_UP"),
                                ({"fulfilledBy": "ROBOT"}, "fulfillment.fulfilledBy", "ROBOT"),
                                ({"fulfilledBy": None}, "fulfillment.fulfilledBy", "None")):
        bad = {**order, "fulfillment": {**order["fulfillment"], **change}}
        with pytest.raises(RecordError) as err:
            normalise_order_2026(bad, {})
        assert err.value.field == field and err.value.key == order["orderId"] and text in str(err.value)


def test_unknown_v0_enum_values_are_record_errors_naming_the_field():
    order = {"AmazonOrderId": "112-1234567-1234567", "PurchaseDate": "2026-01-02T03:04:05Z",
             "LastUpdateDate": "2026-01-02T03:04:05Z", "OrderStatus": "Unshipped", "FulfillmentChannel": "MFN",
             "MarketplaceId": "ATVPDKIKX0DER"}
    items = [{"OrderItemId": "1", "SellerSKU": "S", "QuantityOrdered": 1,
              "ItemPrice": {"CurrencyCode": "USD", "Amount": "5.00"}}]
    assert normalise_order(order, {"order_items": items})[0].fulfilment == "merchant"
    for change, field in (({"OrderStatus": "Lost"}, "OrderStatus"),
                          ({"FulfillmentChannel": "XFN"}, "FulfillmentChannel")):
        with pytest.raises(RecordError) as err:
            normalise_order({**order, **change}, {"order_items": items})
        assert err.value.field == field and err.value.stream == "orders" and err.value.key == order["AmazonOrderId"]


# ------------------------------------------------------------------------------------------- 403 for restricted data


def test_a_403_mid_run_stops_clearly_and_the_next_run_loses_and_doubles_nothing(sandbox, make_config, store):
    """An order whose items the app may not read (Amazon answers 403 Unauthorized: the role is missing, or the
    data is restricted). LWA refreshes once on a 403, so the refusal comes twice; the run stops naming the fix."""
    denied = b'{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":""}]}'
    tamper = Tamper(lambda kind, n, body: (403, denied) if kind == ITEMS and n in (7, 8) else None)
    with sandbox(orders=60) as (url, sb):
        first = run(url, make_config, store, tamper)
        partial = staged(store, "orders")
        second = run(url, make_config, store)
        orders, items = expected(sb)
    error = first["read_error"]
    assert "getOrderItems: HTTP 403 [Unauthorized]: Access to requested resource is denied." in error
    assert "the app has the Orders role" in error
    assert 0 < len(partial) < len(orders)
    assert second["read_error"] is None
    assert staged(store, "orders") == orders and staged(store, "order_items") == items


def test_a_403_for_buyer_and_recipient_data_names_the_restricted_roles(sandbox, make_config, store):
    denied = b'{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":""}]}'
    tamper = Tamper(lambda kind, n, body: (403, denied) if kind == "/orders/2026-01-01/orders" else None)
    with sandbox(orders=30) as (url, sb):
        source = AmazonSellingPartnerSource(retry=FAST_RETRY, transport=tamper)
        counts = extract(source, make_config(url, orders_api="2026-01-01"), ["orders_2026"], store,
                         store.runs.start("bad-input", False))
    assert "searchOrders: HTTP 403 [Unauthorized]" in counts["read_error"]
    assert "includedData BUYER, RECIPIENT" in counts["read_error"] and "restricted roles" in counts["read_error"]
    assert store.raw.count("orders_2026") == 0 and "orders_2026" not in store.source_state()
