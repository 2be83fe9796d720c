"""End to end: the shipped bigcommerce-to-qbo pipeline against both sandboxes over real loopback sockets."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import httpx
import pytest

from ledgerlink import json_loads
from ledgerlink.runtime import sync
from ledgerlink.store import Store
from ledgerlink_bigcommerce.normalise import PAID_STATUS_IDS
from sandbox_helpers import bigcommerce_env, load_shipped, qbo_env, sandbox_running

REALM = "9341455000000000"


@pytest.fixture
def world(tmp_path):
    @contextlib.contextmanager
    def make(orders: int = 40, **options):
        with sandbox_running("bigcommerce", orders=orders, **options) as (bc, _), \
                sandbox_running("qbo") as (qbo, _):
            env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **bigcommerce_env(bc), **qbo_env(qbo)}
            yield {"bc": bc, "qbo": qbo, "env": env, "pipeline": load_shipped(tmp_path, "bigcommerce-to-qbo.yaml", env),
                   "state": tmp_path / "state.duckdb"}
    return make


def _qbo_count(url: str) -> int:
    return httpx.get(f"{url}/_sandbox/stats").json()["objects"].get("SalesReceipt", 0)


def _qbo_receipt(w, receipt_id: str) -> dict:
    store = Store(w["state"])
    try:
        refresh = store.credentials.load(f"qbo:{REALM}:refresh_token") or "sandbox-qbo-refresh-token"
    finally:
        store.close()
    token = httpx.post(f"{w['qbo']}/oauth2/v1/tokens/bearer", auth=("sandbox-qbo-client", "sandbox-qbo-client-secret"),
                       data={"grant_type": "refresh_token", "refresh_token": refresh}).json()["access_token"]
    reply = httpx.get(f"{w['qbo']}/v3/company/{REALM}/salesreceipt/{receipt_id}", params={"minorversion": "75"},
                      headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    return json_loads(reply.content)["SalesReceipt"]


def _staged_orders(w) -> dict[str, dict]:
    store = Store(w["state"])
    try:
        return {str(pk): json_loads(d) for pk, d in store.db.fetchall("SELECT pk, data FROM raw_orders")}
    finally:
        store.close()


def test_paid_orders_post_as_receipts_with_shipping_discount_tax_and_never_twice(world):
    with world(orders=40) as w:
        first = sync(w["pipeline"])
        assert first.status == "succeeded", first.errors
        assert first.counts["dead_letters_open"] == 0
        orders = _staged_orders(w)
        assert len(orders) == 40
        posting = {"Shipped", "Partially Shipped", "Completed", "Awaiting Fulfillment", "Awaiting Shipment",
                   "Awaiting Pickup", "Partially Refunded"}
        paid = {k for k, o in orders.items() if o["status_id"] in PAID_STATUS_IDS and o["status"] in posting}
        assert first.counts["created"]["SalesReceipt"] == len(paid) == _qbo_count(w["qbo"]) > 0
        second = sync(w["pipeline"])
        assert second.status == "succeeded" and second.counts["created"] == {}
        assert _qbo_count(w["qbo"]) == len(paid)

        store = Store(w["state"])
        results = dict(store.db.fetchall("SELECT key, destination_id FROM results WHERE stream = 'SalesReceipt'"))
        store.close()
        checked = {"shipping": 0, "discount": 0, "tax": 0}
        for key, receipt_id in results.items():
            order = orders[key.rsplit("/", 1)[1]]
            receipt = _qbo_receipt(w, receipt_id)
            # the receipt is the BigCommerce order's own total, to the cent, in its own currency
            assert Decimal(str(receipt["TotalAmt"])) == Decimal(order["total_inc_tax"])
            assert receipt["CurrencyRef"]["value"] == order["default_currency_code"]  # transactional, not display
            assert receipt["DocNumber"] == str(order["id"])
            lines = receipt["Line"]
            shipping = [li for li in lines if li.get("Description") == "Shipping"]
            discount = [li for li in lines if li.get("DetailType") == "DiscountLineDetail"]
            if Decimal(order["shipping_cost_ex_tax"]):
                assert Decimal(str(shipping[0]["Amount"])) == Decimal(order["shipping_cost_ex_tax"])
                checked["shipping"] += 1
            if Decimal(order["coupon_discount"]):
                assert Decimal(str(discount[0]["Amount"])) == Decimal(order["coupon_discount"])
                checked["discount"] += 1
            if Decimal(order["total_tax"]):
                assert Decimal(str(receipt["TxnTaxDetail"]["TotalTax"])) == Decimal(order["total_tax"])
                checked["tax"] += 1
        assert all(checked.values()), checked


def test_an_order_placed_later_posts_on_the_next_sync(world):
    with world(orders=10) as w:
        sync(w["pipeline"])
        before = _qbo_count(w["qbo"])
        placed = httpx.post(f"{w['bc']}/_sandbox/orders", json={"status_id": 11}).json()
        report = sync(w["pipeline"])
        assert report.counts["created"].get("SalesReceipt") == 1
        assert _qbo_count(w["qbo"]) == before + 1
        assert str(placed["id"]) in _staged_orders(w)


def test_payment_method_reaches_the_canonical_order(world):
    from ledgerlink_bigcommerce.normalise import normalise_order

    with world(orders=20) as w:
        sync(w["pipeline"])
        store = Store(w["state"])
        try:
            methods = set()
            for oid, order in _staged_orders(w).items():
                related = {s: [d for _, d in store.raw.related(s, [oid]).get(oid, [])]
                           for s in ("order_products", "order_shipping_addresses", "order_coupons", "order_transactions")}
                [canonical] = normalise_order(order, related)
                if canonical.paid:
                    methods.add(canonical.payment_method)
        finally:
            store.close()
        assert methods and None not in methods
        assert methods <= {"Credit Card (braintree)", "Credit Card (stripe)", "Paypal (paypalexpress)", "Cash on Delivery"}


def test_a_500_mid_page_fails_the_run_and_the_next_run_loses_and_doubles_nothing(world):
    with world(orders=30) as w:
        # the 12th order's products fail all 6 attempts: the run stops after its last committed page
        httpx.post(f"{w['bc']}/_sandbox/faults", json={"path_contains": "/products", "status": 500, "count": 6,
                                                        "after": 11})
        failed = sync(w["pipeline"])
        assert failed.status == "failed" and "getOrderProducts" in failed.errors[0]
        recovered = sync(w["pipeline"])
        assert recovered.status == "succeeded", recovered.errors
        total = (failed.counts.get("created") or {}).get("SalesReceipt", 0) + recovered.counts["created"]["SalesReceipt"]
        assert total == _qbo_count(w["qbo"])
        assert len(_staged_orders(w)) == 30


def test_429s_wait_for_the_quota_reset_and_lose_nothing(world):
    with world(orders=15) as w:
        httpx.post(f"{w['bc']}/_sandbox/faults", json={"path_contains": "/transactions", "status": 429, "count": 3})
        report = sync(w["pipeline"])
        assert report.status == "succeeded", report.errors
        stats = httpx.get(f"{w['bc']}/_sandbox/stats").json()["calls"]
        assert sum(n for k, n in stats.items() if k.endswith(" 429")) == 3
        assert len(_staged_orders(w)) == 15
