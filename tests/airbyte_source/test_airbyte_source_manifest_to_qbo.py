"""A declarative Airbyte source — a manifest run by airbyte-cdk's own `source-declarative-manifest` — reading a
loopback shop API (bearer auth, pages, `updated_since`), feeding orders through the `airbyte` source into the
QuickBooks Online sandbox. The second sync asks the shop only for what changed since the state the connector
sent (committed with the records it covers), new orders post once, nothing posts twice; the shop's API key (a
`${VAR}` in the pipeline) never reaches a log."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ledgerlink.pipeline import load_pipeline
from ledgerlink.plugins import host
from ledgerlink.runtime import sync
from ledgerlink.sandbox import running, running_app
from ledgerlink.store import Store

HERE = Path(__file__).resolve().parent
API_KEY = "shop-key-7d1e9a42"


def shop_order(i: int) -> dict:
    return {"id": i, "updated_at": f"2026-01-{1 + i // 24:02d}T{i % 24:02d}:00:00Z", "currency": "USD",
            "email": f"buyer{i % 5}@example.com",
            "lines": [{"sku": f"SKU-{i % 4}", "quantity": 1 + i % 3, "price": "9.50"}]}


class Shop:
    """A shop API on a loopback port: `GET /v1/orders?updated_since=&page=&per_page=` with a bearer key."""

    def __init__(self, count: int):
        self.count = count
        self.asked_since: list[str] = []

    def app(self) -> Starlette:
        async def orders(request: Request) -> JSONResponse:
            if request.headers.get("authorization") != f"Bearer {API_KEY}":
                return JSONResponse({"error": "unauthorised"}, status_code=401)
            since = request.query_params.get("updated_since") or ""
            page, per = int(request.query_params.get("page", 1)), int(request.query_params.get("per_page", 5))
            if page == 1:
                self.asked_since.append(since)
            rows = [o for o in map(shop_order, range(1, self.count + 1)) if o["updated_at"] > since]
            return JSONResponse({"data": rows[(page - 1) * per: page * per],
                                 "next_page": page + 1 if page * per < len(rows) else None})
        return Starlette(routes=[Route("/v1/orders", orders)])


def _pipeline(tmp_path: Path, executable: Path) -> Path:
    manifest = yaml.safe_load((HERE / "shop_manifest.yaml").read_text())
    pipeline = {
        "version": 1, "name": "shop-to-qbo", "state": str(tmp_path / "state.duckdb"),
        "source": {"connector": "airbyte", "streams": ["orders"], "config": {
            "command": [str(executable)], "name": "loopback-shop",
            "config": {"__injected_declarative_manifest": manifest, "base_url": "${SHOP_URL}",
                       "api_key": "${SHOP_API_KEY}", "start_date": "2025-01-01T00:00:00Z"},
            "normalisers": str(HERE / "shop_orders.py")}},
        "destination": {"connector": "qbo", "config": {
            "base_url": "${QBO_URL}", "token_url": "${QBO_URL}/oauth2/v1/tokens/bearer", "realm_id": "9341455000000000",
            "client_id": "sandbox-qbo-client", "client_secret": "sandbox-qbo-client-secret",
            "refresh_token": "sandbox-qbo-refresh-token", "requests_per_minute": 500000},
            "options": {"customer_strategy": "per_marketplace", "post_statuses": ["Completed"],
                        "items": {"unmatched": "create"}}}}
    path = tmp_path / "shop-to-qbo.yaml"
    path.write_text(json.dumps(pipeline, indent=1))  # JSON is YAML
    return path


@pytest.mark.slow
def test_a_declarative_manifest_source_posts_new_orders_once_and_resumes_from_its_state(
        tmp_path, source_declarative_manifest, caplog):
    caplog.set_level(logging.DEBUG)
    shop = Shop(count=12)
    qbo_sandbox = host().sandboxes()["qbo"](time_scale=1000)
    file = _pipeline(tmp_path, source_declarative_manifest)
    with running_app(shop.app()) as shop_url, running(qbo_sandbox) as qbo:
        env = {"SHOP_URL": shop_url, "SHOP_API_KEY": API_KEY, "QBO_URL": qbo}
        first = sync(load_pipeline(file, env=env))
        shop.count = 17  # five new orders
        second = sync(load_pipeline(file, env=env))
        receipts = [r.get("DocNumber") for r in qbo_sandbox.company.entities["SalesReceipt"].values()]
    for report in (first, second):
        assert report.status == "succeeded" and not report.counts["dead_letters_open"], report.errors
    assert first.counts["read"] == {"orders": 12} and second.counts["read"] == {"orders": 5}
    assert first.counts["created"]["SalesReceipt"] == 12 and second.counts["created"]["SalesReceipt"] == 5
    # the second sync asked the shop only for what changed after the state the first one committed
    assert shop.asked_since == ["2025-01-01T00:00:00Z", shop_order(12)["updated_at"]]
    assert sorted(receipts, key=int) == [str(i) for i in range(1, 18)]
    store = Store(tmp_path / "state.duckdb")
    try:
        assert store.source_state()["orders"] == {"updated_at": shop_order(17)["updated_at"]}
    finally:
        store.close()
    assert API_KEY not in caplog.text
