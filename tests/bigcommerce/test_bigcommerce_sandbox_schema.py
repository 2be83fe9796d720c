"""Every sandbox reply the source reads is valid against BigCommerce's own OpenAPI specs (the oracle)."""

from __future__ import annotations

import httpx
import pytest

from ledgerlink import json_loads
from sandbox_helpers import sandbox_running

H = {"X-Auth-Token": "t", "Accept": "application/json"}

CASES = [  # (path under /stores/abc123, spec file, spec path)
    ("/v2/orders?limit=250", "orders.v2.oas2.yml", "/orders"),
    ("/v2/orders/{order}", "orders.v2.oas2.yml", "/orders/{order_id}"),
    ("/v2/orders/{order}/products", "orders.v2.oas2.yml", "/orders/{order_id}/products"),
    ("/v2/orders/{order}/shipping_addresses", "orders.v2.oas2.yml", "/orders/{order_id}/shipping_addresses"),
    ("/v2/orders/{coupon_order}/coupons", "orders.v2.oas2.yml", "/orders/{order_id}/coupons"),
    ("/v2/orders/{shipped_order}/shipments", "orders.v2.oas2.yml", "/orders/{order_id}/shipments"),
    ("/v3/orders/{paid_order}/transactions", "orders.v3.yml", "/orders/{order_id}/transactions"),
    ("/v3/orders/payment_actions/refunds", "orders.v3.yml", "/orders/payment_actions/refunds"),
    ("/v3/customers", "customers.v3.yml", "/customers"),
    ("/v3/catalog/products?include=variants", "products_catalog.v3.yml", "/catalog/products"),
    ("/v3/catalog/variants", "product-variants_catalog.v3.yml", "/catalog/variants"),
    ("/v3/inventory/locations", "locations.v3.yml", "/inventory/locations"),
    ("/v3/inventory/locations/1/items", "inventory.v3.yml", "/inventory/locations/{location_id}/items"),
    ("/v2/store", "store_information.v2.yml", "/store"),
]


@pytest.fixture(scope="module")
def store():
    with sandbox_running("bigcommerce", orders=150) as (url, sandbox):
        book = sandbox.store.book
        ids = {
            "order": next(iter(book.orders)),
            "coupon_order": next(o for o, c in book.coupons.items() if c),
            "shipped_order": next(o for o, s in book.shipments.items() if s),
            "paid_order": next(o for o, t in book.transactions.items() if t),
        }
        yield url, ids, sandbox


@pytest.mark.parametrize("path,spec,spec_path", CASES, ids=[c[0].split("?")[0] for c in CASES])
def test_replies_match_the_openapi_spec(store, openapi, path, spec, spec_path):
    url, ids, _ = store
    reply = httpx.get(f"{url}/stores/abc123{path.format(**ids)}", headers=H)
    assert reply.status_code == 200, reply.text
    for name in ("X-Rate-Limit-Requests-Left", "X-Rate-Limit-Time-Reset-Ms", "X-Rate-Limit-Requests-Quota"):
        assert name in reply.headers
    openapi.validate(json_loads(reply.content), spec, spec_path)


def test_the_seed_has_what_the_issue_asks_for(store):
    _, _, sandbox = store
    book = sandbox.store.book
    orders = list(book.orders.values())
    assert {o["default_currency_code"] for o in orders} == {"USD"}  # one store currency
    assert len({o["currency_code"] for o in orders}) >= 3  # shown in several others
    assert any(len([v for v in book.variants.values() if v["product_id"] == p]) > 1 for p in book.products)
    assert any(book.coupons.values()) and book.refunds
    assert all(r["total_amount"] < sum(__import__("decimal").Decimal(li["total_inc_tax"])
                                       for li in book.order_products[r["order_id"]]) for r in book.refunds)  # partial
    assert len({loc for loc, _ in book.stock}) == 3
    sold = {li["product_id"] for lines in book.order_products.values() for li in lines}
    assert sold - set(book.products), "an order whose product was deleted from the catalog"


def test_errors_have_bigcommerce_shapes(store, openapi):
    url, _, _ = store
    v3 = httpx.get(f"{url}/stores/abc123/v3/hooks/1")
    assert v3.status_code == 401 and set(json_loads(v3.content)) >= {"status", "title", "type"}
    missing = httpx.get(f"{url}/stores/abc123/v3/hooks/1", headers=H)
    assert missing.status_code == 404
    openapi.validate(json_loads(missing.content), "webhooks.v3.yml", "/hooks/{webhook_id}", status="404")
    v2 = httpx.get(f"{url}/stores/abc123/v2/orders/999999", headers=H)
    assert v2.status_code == 404 and json_loads(v2.content)[0]["status"] == 404
    empty = httpx.get(f"{url}/stores/abc123/v2/orders", params={"min_date_modified": "2999-01-01T00:00:00Z"}, headers=H)
    assert empty.status_code == 204 and empty.content == b""


def test_hooks_replies_match_the_spec(store, openapi):
    url, _, _ = store
    created = httpx.post(f"{url}/stores/abc123/v3/hooks", headers=H, json={
        "scope": "store/order/*", "destination": "https://example.com/hook", "headers": {"X-Secret": "x"}})
    openapi.validate(json_loads(created.content), "webhooks.v3.yml", "/hooks", method="post")
    listed = httpx.get(f"{url}/stores/abc123/v3/hooks", headers=H)
    openapi.validate(json_loads(listed.content), "webhooks.v3.yml", "/hooks")
    bad = httpx.post(f"{url}/stores/abc123/v3/hooks", headers=H, json={"scope": "store/order/*"})
    assert bad.status_code == 422
    openapi.validate(json_loads(bad.content), "webhooks.v3.yml", "/hooks", method="post", status="422")


def test_quota_window_and_429(sandbox_url):
    with sandbox_url(orders=2, quota=3, time_scale=1) as (url, _):
        replies = [httpx.get(f"{url}/stores/abc123/v2/store", headers=H) for _ in range(4)]
    assert [r.status_code for r in replies] == [200, 200, 200, 429]
    assert replies[2].headers["X-Rate-Limit-Requests-Left"] == "0"
    assert 0 < int(replies[3].headers["X-Rate-Limit-Time-Reset-Ms"]) <= 30000
