"""bigc — the maintained BigCommerce client on PyPI (unofficial; BigCommerce's own `bigcommerce` package has had
no release since January 2024) — pointed at the BigCommerce sandbox: orders and their parts (v2), refunds,
customers, products and a product's variants (v3, by page and by cursor), and webhooks. What it sent that the
sandbox refused but BigCommerce accepts were sandbox gaps, fixed: cursor paging (`after`/`before`,
`meta.cursor_pagination`) on customers, products and variants, and `/catalog/products/{id}/variants`.

bigc has no base-URL option (it always calls https://api.bigcommerce.com): the harness points each API
version's client at the sandbox."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

bigc = pytest.importorskip("bigc", reason="bigc is in the test extra")

from bigc import BigCommerceAPI  # noqa: E402
from bigc.exceptions import DoesNotExistError, UnauthorizedError  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox_helpers import sandbox_running  # noqa: E402

STORE, TOKEN = "abc123", "sandbox-bigcommerce-token"


def _client(url: str, token: str = TOKEN) -> BigCommerceAPI:
    api = BigCommerceAPI(STORE, token, timeout=30)
    for client, version in ((api.api_v2, "v2"), (api.api_v3, "v3")):
        client._prepare_url = (lambda v: lambda path: f"{url}/stores/{STORE}/{v}/{path.lstrip('/')}")(version)
    return api


@pytest.fixture
def store() -> Iterator[tuple[BigCommerceAPI, Any, str]]:
    with sandbox_running("bigcommerce", orders=300, access_token=TOKEN) as (url, sandbox):
        yield _client(url), sandbox, url


def test_orders_page_by_page_with_their_products_addresses_and_shipments(store):
    api, sandbox, _ = store
    orders = list(api.orders_v2.all())  # 250 a page: two pages
    assert len(orders) == 300 and len({o["id"] for o in orders}) == 300
    assert {o["id"] for o in orders} == set(sandbox.store.book.orders)
    first = orders[0]["id"]
    assert api.orders_v2.get(first)["id"] == first
    assert list(api.orders_v2.all_products(first)) and list(api.orders_v2.all_shipping_addresses(first))
    list(api.orders_v2.all_shipments(first))  # pages through (an empty page is BigCommerce's 204)
    assert all("id" in r for r in api.orders_v3.all_refunds())
    with pytest.raises(DoesNotExistError):
        api.orders_v2.get(999_999_999)


def test_customers_products_and_variants_by_cursor(store):
    api, sandbox, _ = store
    customers = list(api.customers_v3.all())  # bigc pages customers by cursor
    assert {c["id"] for c in customers} == set(sandbox.store.book.customers)
    few = list(api.api_v3.get_many("/customers", page_size=3, cursor=True))
    assert [c["id"] for c in few] == [c["id"] for c in customers]  # page after page, nothing twice or missed
    products = list(api.products_v3.all())
    assert {p["id"] for p in products} == set(sandbox.store.book.products)
    variants = [v for p in products for v in api.product_variants_v3.all(p["id"])]
    assert sorted(v["id"] for v in variants) == sorted(sandbox.store.book.variants)


def test_webhooks_are_created_listed_and_deleted(store):
    api, _, _ = store
    hook = api.webhooks_v3.create({"scope": "store/order/created", "destination": "https://example.com/hooks",
                                   "is_active": True})
    assert [h["id"] for h in api.webhooks_v3.all()] == [hook["id"]]
    api.webhooks_v3.delete(hook["id"])
    assert list(api.webhooks_v3.all()) == []


def test_a_wrong_token_is_refused(store):
    _, _, url = store
    with pytest.raises(UnauthorizedError):
        list(_client(url, token="not-the-token").orders_v2.all())
