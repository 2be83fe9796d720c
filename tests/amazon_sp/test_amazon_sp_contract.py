"""Client contract: Amazon's own Orders v0 sandbox cases, replayed from cassettes through our client.

The cassettes are generated from the model's `x-amzn-api-sandbox` static cases by
`make_amazon_sp_cassettes.py`. To re-record them against Amazon's sandbox, with a sandbox app's credentials:

    AMAZON_SP_CLIENT_ID=... AMAZON_SP_CLIENT_SECRET=... AMAZON_SP_REFRESH_TOKEN=... \\
        python -m pytest tests/amazon_sp/test_amazon_sp_contract.py -p no:xdist --record-mode=rewrite

The LWA exchange (api.amazon.com) is never recorded and `x-amz-access-token` is filtered out.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any, Generator

import httpx
import pytest

from ledgerlink import PermanentError
from ledgerlink_amazon_sp import AmazonSPConfig, OrderItemsStream, OrdersStream, normalise_order
from ledgerlink_amazon_sp.auth import lwa_auth
from ledgerlink_amazon_sp.client import read_json, sp_client

AMAZON_SANDBOX = "https://sandbox.sellingpartnerapi-na.amazon.com"
GET_ORDERS_CASES = ["TEST_CASE_200", "TEST_CASE_200_NEXT_TOKEN", "TEST_CASE_400"]
GET_ORDER_ITEMS_CASES = ["TEST_CASE_200", "TEST_CASE_400"]


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {"filter_headers": ["x-amz-access-token", "authorization", "user-agent"],
            "ignore_hosts": ["api.amazon.com"], "decode_compressed_response": True}


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(Path(__file__).parent / "cassettes")


class _ReplayToken(httpx.Auth):
    """Replaying needs no credentials; the header is filtered from cassettes anyway."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["x-amz-access-token"] = "Atza|replay"
        yield request


@pytest.fixture
def client():
    env = {k: os.environ.get(f"AMAZON_SP_{k.upper()}") for k in ("client_id", "client_secret", "refresh_token")}
    config = AMAZON_SANDBOX_CONFIG.model_copy(update={k: v for k, v in env.items() if v})
    auth = lwa_auth(config) if all(env.values()) else _ReplayToken()
    with sp_client(config, auth) as c:
        yield c


AMAZON_SANDBOX_CONFIG = AmazonSPConfig(
    endpoint=AMAZON_SANDBOX, lwa_endpoint="https://api.amazon.com/auth/o2/token", client_id="replay",
    client_secret="replay", refresh_token="replay", marketplace_ids=["ATVPDKIKX0DER"],
    start_date="2017-01-01T00:00:00Z")


def model_case(orders_model: dict[str, Any], path: str, marker: str) -> tuple[int, Any]:
    """(status, response) of the first-page static case named `marker` (the oracle)."""
    for status, response in orders_model["paths"][path]["get"]["responses"].items():
        for case in response.get("x-amzn-api-sandbox", {}).get("static", []):
            params = {k: v["value"] for k, v in case["request"]["parameters"].items()}
            if marker in (params.get("CreatedAfter"), params.get("orderId")) and "NextToken" not in params:
                return int(status), case["response"]
    raise LookupError(marker)


def test_cassettes_cover_every_static_case(orders_model):
    def markers(path: str) -> set[str]:
        return {c["request"]["parameters"].get("CreatedAfter", c["request"]["parameters"].get("orderId"))["value"]
                for r in orders_model["paths"][path]["get"]["responses"].values()
                for c in r.get("x-amzn-api-sandbox", {}).get("static", [])}

    assert markers("/orders/v0/orders") == set(GET_ORDERS_CASES)
    assert markers("/orders/v0/orders/{orderId}/orderItems") == set(GET_ORDER_ITEMS_CASES)


@pytest.mark.vcr
@pytest.mark.default_cassette("getOrders-TEST_CASE_200.yaml")
def test_get_orders(client, orders_model):
    stream = OrdersStream(AMAZON_SANDBOX_CONFIG, client)
    response = client.get(stream.path, operation=stream.operation,
                          params={"CreatedAfter": "TEST_CASE_200", "MarketplaceIds": "ATVPDKIKX0DER"})
    body = read_json(response)
    orders = list(stream.parse_response(response, body))
    _, oracle = model_case(orders_model, "/orders/v0/orders", "TEST_CASE_200")
    assert orders == json.loads(json.dumps(oracle["payload"]["Orders"]), parse_float=Decimal)
    assert orders[0]["OrderTotal"]["Amount"] == "11.01"
    assert stream.next_page_token(response, body) is None


@pytest.mark.vcr
@pytest.mark.default_cassette("getOrders-TEST_CASE_200_NEXT_TOKEN.yaml")
def test_get_orders_follows_next_token(client, orders_model):
    stream = OrdersStream(AMAZON_SANDBOX_CONFIG, client)
    params = {"CreatedAfter": "TEST_CASE_200_NEXT_TOKEN", "MarketplaceIds": "ATVPDKIKX0DER"}
    pages = []
    while True:
        response = client.get(stream.path, operation=stream.operation, params=params)
        body = read_json(response)
        pages.append([o["AmazonOrderId"] for o in stream.parse_response(response, body)])
        token = stream.next_page_token(response, body)
        if token is None:
            break
        params = {**params, "NextToken": token}  # Amazon's static case repeats CreatedAfter with the token
    assert pages == [["902-3159896-1390916"], ["902-3159896-1390916"]]


@pytest.mark.vcr
@pytest.mark.default_cassette("getOrders-TEST_CASE_400.yaml")
def test_get_orders_invalid_input_is_permanent(client):
    with pytest.raises(PermanentError) as info:
        client.get("/orders/v0/orders", operation="getOrders", params={"CreatedAfter": "TEST_CASE_400"})
    assert (info.value.status, info.value.code, info.value.remote_message) == (400, "InvalidInput", "Invalid Input")


@pytest.mark.vcr
@pytest.mark.default_cassette("getOrderItems-TEST_CASE_200.yaml")
def test_get_order_items(client, orders_model):
    items = list(OrderItemsStream(AMAZON_SANDBOX_CONFIG, client).items_of("TEST_CASE_200"))
    _, oracle = model_case(orders_model, "/orders/v0/orders/{orderId}/orderItems", "TEST_CASE_200")
    # each item is Amazon's, plus its parent order id (taken from the payload)
    assert items == [{**i, "AmazonOrderId": "902-1845936-5435065"} for i in oracle["payload"]["OrderItems"]]


@pytest.mark.vcr
@pytest.mark.default_cassette("getOrderItems-TEST_CASE_400.yaml")
def test_get_order_items_invalid_input_is_permanent(client):
    with pytest.raises(PermanentError) as info:
        list(OrderItemsStream(AMAZON_SANDBOX_CONFIG, client).items_of("TEST_CASE_400"))
    assert (info.value.status, info.value.code) == (400, "InvalidInput")
    assert info.value.hint  # says what to check


@pytest.mark.vcr
@pytest.mark.default_cassette("orderAndItems-TEST_CASE_200.yaml")
def test_amazons_example_order_normalises(client):
    response = client.get("/orders/v0/orders", operation="getOrders",
                          params={"CreatedAfter": "TEST_CASE_200", "MarketplaceIds": "ATVPDKIKX0DER"})
    order = read_json(response)["payload"]["Orders"][0]
    items = list(OrderItemsStream(AMAZON_SANDBOX_CONFIG, client).items_of("TEST_CASE_200"))
    [canonical] = normalise_order(order, {"order_items": items})
    assert canonical.order_id == "902-1845936-5435065" and canonical.fulfilment == "merchant" and canonical.paid
    assert canonical.lines[0].sku == "NABetaASINB00551Q3CS"
    assert (canonical.total("amount").amount, canonical.total("tax").amount) == (Decimal("10.00"), Decimal("1.01"))
    assert canonical.grand_total.amount == Decimal(order["OrderTotal"]["Amount"]) == Decimal("11.01")
    assert canonical.customer.customer_id == "ATVPDKIKX0DER:USD"  # no BuyerInfo in this example
