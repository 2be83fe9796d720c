"""Amazon's published usage plans: the client's table (written in code) equals the models' Usage Plan tables
(`derived/rate_limits.json`) for every operation, as do the sandbox's; buckets are per seller × region ×
operation; a 429 drains the bucket and backs off; `x-amzn-RateLimit-Limit` on a success sets the rate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledgerlink import Limit, RetryPolicy
from ledgerlink_amazon_sp import AmazonSPConfig
from ledgerlink_amazon_sp.client import DEFAULT_PLAN, USAGE_PLANS, sp_client
from ledgerlink_amazon_sp.sandbox import SANDBOX_PLANS


@pytest.fixture(scope="module")
def published(reference_dir: Path) -> list[dict[str, Any]]:
    return json.loads((reference_dir / "amazon-sp-api" / "derived" / "rate_limits.json").read_text())["operations"]


def test_the_client_has_every_published_plan_and_nothing_else(published):
    with_plan = [op for op in published if op["rate_per_sec"] is not None]
    for op in with_plan:
        assert USAGE_PLANS[op["operationId"]] == Limit(rate=op["rate_per_sec"], burst=op["burst"]), op
    # one entry per operation name (Orders v0 and 2026-01-01 both publish getOrder, with the same plan)
    assert set(USAGE_PLANS) == {op["operationId"] for op in with_plan}
    # operations Amazon publishes no plan for (sandbox-only FBA Inventory writes) fall back to the default
    unplanned = {op["operationId"] for op in published if op["rate_per_sec"] is None}
    assert unplanned == {"createInventoryItem", "deleteInventoryItem", "addInventory"}
    assert not unplanned & set(USAGE_PLANS)


def test_the_sandbox_throttles_by_the_published_plans(published):
    plans = {op["operationId"]: (op["rate_per_sec"], op["burst"]) for op in published if op["rate_per_sec"]}
    for operation in ("getOrders", "getOrderItems", "searchOrders", "getOrder", "confirmShipment",
                      "getListingsItem", "patchListingsItem"):
        assert SANDBOX_PLANS[operation] == plans[operation], operation


def _config(seller: str, region: str = "na") -> AmazonSPConfig:
    return AmazonSPConfig(endpoint="https://sp.test", lwa_endpoint="https://sp.test/token", client_id="app",
                          client_secret="s", refresh_token="Atzr|r", marketplace_ids=["ATVPDKIKX0DER"],
                          start_date="2026-01-01T00:00:00Z", seller_id=seller, region=region)


def test_buckets_are_per_seller_region_and_operation_and_start_from_the_plan():
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={})

    transport = httpx.MockTransport(handler)
    clients = [sp_client(_config("A1"), None, transport=transport), sp_client(_config("A1", "eu"), None,
                                                                             transport=transport),
               sp_client(_config("A2"), None, transport=transport)]
    for client in clients:
        client.get("/orders/v0/orders/1/shipmentConfirmation", operation="confirmShipment")
        client.get("/listings/x", operation="patchListingsItem")
        client.get("/x", operation="someFutureOperation")
    keys = {key: bucket.limit for client in clients for key, bucket in client.limiter._buckets.items()}
    assert keys == {
        f"{seller}/{region}/{op}": limit
        for seller, region in (("A1", "na"), ("A1", "eu"), ("A2", "na"))
        for op, limit in (("confirmShipment", Limit(2, 10)), ("patchListingsItem", Limit(5, 5)),
                          ("someFutureOperation", DEFAULT_PLAN))}
    assert len(seen) == 9


def test_a_429_drains_the_bucket_and_backs_off_and_a_success_adopts_the_rate_header():
    replies = iter([httpx.Response(429, json={"errors": [{"code": "QuotaExceeded", "message": "You exceeded your "
                                                                                               "quota."}]}),
                    httpx.Response(200, json={}, headers={"x-amzn-RateLimit-Limit": "40.0"})])
    slept: list[float] = []
    client = sp_client(_config("A1"), None, retry=RetryPolicy(base_delay=0.001, max_delay=0.01),
                       transport=httpx.MockTransport(lambda request: next(replies)))
    client._sleep = client.limiter._sleep = slept.append  # record the waits instead of sleeping
    client.post("/orders/v0/orders/1/shipmentConfirmation", operation="confirmShipment", json={})
    bucket = client.limiter._buckets["A1/na/confirmShipment"]
    assert client.stats["throttled"] == 1 and client.stats["retries"] == 1 and slept
    assert bucket.limit == Limit(rate=40.0, burst=10)  # Amazon reports the rate; the burst stays the plan's
