"""End to end: the shipped amazon-to-qbo pipeline file against both sandboxes over real loopback sockets."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from ledgerlink import json_loads
from ledgerlink.cli import cli
from ledgerlink.pipeline import load_pipeline
from ledgerlink.runtime import sync
from ledgerlink.store import Store
from sandbox_helpers import amazon_env, qbo_env, sandbox_running, write_shipped


@pytest.fixture
def world(tmp_path):
    """Both sandboxes running, and the shipped pipeline file pointed at them through its ${VARS}."""
    @contextlib.contextmanager
    def make(orders: int = 40, defects: int = 0):
        with sandbox_running("amazon_sp", orders=orders, defects=defects) as (amazon, _), \
                sandbox_running("qbo") as (qbo, _):
            pipeline_file = write_shipped(tmp_path, "amazon-to-qbo.yaml")
            env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon),
                   **qbo_env(qbo, batch_per_minute="40000")}
            yield {"amazon": amazon, "qbo": qbo, "file": pipeline_file, "env": env,
                   "pipeline": load_pipeline(pipeline_file, env=env), "state": tmp_path / "state.duckdb"}
    return make


def qbo_stats(url: str) -> dict:
    return httpx.get(f"{url}/_sandbox/stats").json()["objects"]


def test_sync_posts_receipts_that_tie_to_the_orders_and_never_twice(world):
    with world(orders=40) as w:
        first = sync(w["pipeline"])
        assert first.status == "succeeded", first.errors
        receipts = first.counts["created"]["SalesReceipt"]
        # a cancelled order plans a Void (of nothing, unless it had been posted) instead of nothing
        voids = sum(first.counts["reconcile"]["outbox"].get("Void", {}).values())
        assert receipts == first.counts["objects"]["order"] - first.counts.get("not_posted", 0) - voids > 0
        assert qbo_stats(w["qbo"])["SalesReceipt"] == receipts
        second = sync(w["pipeline"])
        assert second.counts["created"] == {} and qbo_stats(w["qbo"])["SalesReceipt"] == receipts
        # every receipt's total is the Amazon order's own total, to the cent
        store = Store(w["state"])
        key, dest_id = store.db.fetchone("SELECT key, destination_id FROM results WHERE stream = 'SalesReceipt' LIMIT 1")
        order_id = key.rsplit("/", 1)[1]
        order = store.raw.get("orders", order_id)
        store.close()
        token = httpx.post(f"{w['qbo']}/oauth2/v1/tokens/bearer", auth=("sandbox-qbo-client", "sandbox-qbo-client-secret"),
                           data={"grant_type": "refresh_token", "refresh_token": _current_qbo_refresh(w)}).json()
        receipt = json_loads(httpx.get(f"{w['qbo']}/v3/company/9341455000000000/salesreceipt/{dest_id}",
                                       params={"minorversion": "75"},
                                       headers={"Authorization": f"Bearer {token['access_token']}",
                                                "Accept": "application/json"}).content)["SalesReceipt"]
        assert receipt["DocNumber"] == order_id[:21]
        # marketplace-facilitator tax is Amazon's to remit: it is not on the receipt
        store = Store(w["state"])
        items = [d for _, d in store.raw.related("order_items", [order_id]).get(order_id, [])]
        store.close()
        facilitator_tax = sum(Decimal(i.get("ItemTax", {}).get("Amount", "0"))
                              + Decimal(i.get("ShippingTax", {}).get("Amount", "0"))
                              for i in items if (i.get("TaxCollection") or {}).get("Model") == "MarketplaceFacilitator")
        assert Decimal(str(receipt["TotalAmt"])) == Decimal(order["OrderTotal"]["Amount"]) - facilitator_tax


def _current_qbo_refresh(w) -> str:
    """The refresh token the pipeline holds now (Intuit rotates it; the runtime stored the new one encrypted)."""
    store = Store(w["state"])
    try:
        return store.credentials.load("qbo:9341455000000000:refresh_token") or "sandbox-qbo-refresh-token"
    finally:
        store.close()


def test_missing_skus_are_dead_letters_and_the_rest_post(world):
    with world(orders=30, defects=2) as w:
        report = sync(w["pipeline"])
        assert report.exit_code == 3
        store = Store(w["state"])
        letters = store.dead_letters.list()
        store.close()
        assert len(letters) >= 1 and all(d.stage == "normalise" for d in letters)
        assert any("SellerSKU" in d.message or "SKU" in d.message for d in letters)
        assert report.counts["created"]["SalesReceipt"] > 0


def test_a_broken_mapping_names_template_line_and_order(world, tmp_path):
    with world(orders=10) as w:
        override = tmp_path / "my-receipt.json.j2"
        override.write_text('{\n  "DocNumber": {{ order.order_id }},\n  "Line": {{ order.no_such_field }}\n}\n')
        pipeline = w["pipeline"].model_copy(deep=True)
        pipeline.destination.mappings = {"sales_receipt.json.j2": str(override)}
        report = sync(pipeline)
        store = Store(w["state"])
        letters = store.dead_letters.list()
        store.close()
        assert letters and all(d.stage == "plan" for d in letters)
        assert "sales_receipt.json.j2, line 3" in letters[0].message and "no_such_field" in letters[0].message
        assert letters[0].record_key.startswith("amazon_sp/order/")
        assert "SalesReceipt" not in (report.counts.get("created") or {})


def test_remote_500s_are_retried_and_nothing_is_lost(world):
    with world(orders=20) as w:
        httpx.post(f"{w['amazon']}/_sandbox/faults", json={"operation": "getOrders", "status": 503, "count": 2})
        httpx.post(f"{w['qbo']}/_sandbox/faults", json={"path_contains": "salesreceipt", "status": 500, "count": 2})
        report = sync(w["pipeline"])
        assert report.status == "succeeded", report.errors
        assert report.counts["dead_letters_open"] == 0
        assert qbo_stats(w["qbo"])["SalesReceipt"] == report.counts["created"]["SalesReceipt"]


def test_a_rejected_document_is_dead_lettered_then_retried_after_the_fix(world):
    with world(orders=12) as w:
        httpx.post(f"{w['qbo']}/_sandbox/faults", json={"path_contains": "salesreceipt", "status": 400, "count": 1,
                                                         "code": "6000", "method": "POST"})
        first = sync(w["pipeline"])
        store = Store(w["state"])
        [letter] = store.dead_letters.list()
        store.close()
        assert letter.stage == "write" and letter.error_kind == "permanent" and "6000" in letter.message
        runner = CliRunner()
        retried = runner.invoke(cli, ["dlq", "retry", str(w["state"]), str(letter.id)])
        assert "written again on the next sync" in retried.output
        second = sync(w["pipeline"])
        assert second.counts["created"] == {"SalesReceipt": 1} and second.counts["dead_letters_open"] == 0
        assert qbo_stats(w["qbo"])["SalesReceipt"] == first.counts["created"]["SalesReceipt"] + 1


def test_a_source_outage_fails_the_run_and_the_next_run_catches_up(world):
    with world(orders=25) as w:
        httpx.post(f"{w['amazon']}/_sandbox/faults", json={"operation": "getOrderItems", "status": 500, "count": 6})
        failed = sync(w["pipeline"])
        assert failed.status == "failed" and failed.exit_code == 1
        assert "getOrderItems" in failed.errors[0]
        recovered = sync(w["pipeline"])
        assert recovered.status == "succeeded"
        total = (failed.counts.get("created") or {}).get("SalesReceipt", 0) + recovered.counts["created"]["SalesReceipt"]
        assert total == qbo_stats(w["qbo"])["SalesReceipt"]
        store = Store(w["state"])
        left_behind = list(store.raw.changed("orders", store.normalise_cursor("orders")))
        store.close()
        assert left_behind == []  # every staged order was normalised
        assert recovered.counts["dead_letters_open"] == 0


def test_demo_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # 100 seeded Amazon orders hold a few merchant-fulfilled ones awaiting shipment, for the fulfilment step
    result = CliRunner().invoke(cli, ["demo", "--orders", "100", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)  # stderr carries log lines
    assert out["status"] == "succeeded"
    steps = {s["name"]: s for s in out["steps"]}
    assert list(steps) == ["orders", "order_to_cash", "returns", "inventory", "settlements", "fulfilment", "stores",
                           "reconcile"] and all(s["ok"] for s in out["steps"])
    # the orders step: receipts posted, and the second sync posted nothing
    orders = steps["orders"]
    assert Path(orders["files"]["state"]).exists()
    assert orders["figures"]["sales_receipts"] > 0 and orders["figures"]["second_sync_created"] == 0
    assert orders["details"]["runs"][0]["counts"]["created"]["SalesReceipt"] == orders["figures"]["sales_receipts"]
    # the settlements step: every seeded payout posted, none on hold
    settled = steps["settlements"]["figures"]
    assert settled["settlements_read"] == 4 and settled["journals_posted"] >= 4 and settled["on_hold"] == 0
    assert Decimal(settled["bank_total"]) > 0
    # the fulfilment step: a 3PL export confirmed on Amazon and shipped on BigCommerce, its one unknown order
    # (there on purpose) a dead letter on each, nothing sent twice
    shipped = steps["fulfilment"]["figures"]
    assert shipped["amazon_sent"] > 0 and shipped["bigcommerce_sent"] > 0
    assert shipped["amazon_dead_letters"] == shipped["bigcommerce_dead_letters"] == 1
    assert shipped["amazon_second_sync"] == shipped["bigcommerce_second_sync"] == 0
    # order to cash: an unpaid order invoiced, then paid (one payment); a posted order cancelled (one void)
    o2c = steps["order_to_cash"]["figures"]
    assert o2c["sales_receipts"] > 0 and o2c["invoices"] >= 1 and o2c["payments"] == 1 and o2c["voids"] == 1
    assert o2c["dead_letters"] == 0 and o2c["third_sync_created"] == 0
    # returns: refunds as credit memos; some returns restocked, the damaged ones not
    returned = steps["returns"]["figures"]
    assert returned["credit_memos"] > 0 and returned["restocked"] > 0 and returned["not_restocked"] > 0
    assert returned["restocked"] + returned["not_restocked"] == returned["returns_read"]
    assert returned["second_sync_created"] == 0
    # inventory: the conflict went the rule's way, QuickBooks' own change reached the store, then quiet
    stock = steps["inventory"]["figures"]
    assert (stock["conflict_to_books"], stock["to_store"], stock["third_round_created"], stock["differ"]) == (1, 1, 0, 0)
    # two stores with overlapping order numbers: both post, into one company, once
    stores = steps["stores"]["figures"]
    assert stores["store_a"] > 0 and stores["store_b"] > 0 and stores["company"] == stores["store_a"] + stores["store_b"]
    assert stores["again_created"] == 0
    # every QuickBooks pipeline ties
    assert steps["reconcile"]["figures"] == {name: "everything ties" for name in (
        "amazon-to-qbo", "bigcommerce-to-qbo", "amazon-returns-to-qbo", "bigcommerce-inventory-to-qbo",
        "amazon-settlements-to-qbo")}


def test_no_secret_reaches_the_state_file_or_the_logs(world, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    with world(orders=15) as w:
        report = sync(w["pipeline"])
        assert report.status == "succeeded"
        rotated = _current_qbo_refresh(w)
    secrets = [b"sandbox-lwa-client-secret", b"Atzr|sandbox-refresh-token", b"sandbox-qbo-client-secret",
               b"sandbox-qbo-refresh-token", rotated.encode()]
    blobs = b"".join(p.read_bytes() for p in w["state"].parent.glob("state.duckdb*") if p.is_file())
    assert blobs and not [s for s in secrets if s in blobs]
    assert not [s for s in secrets if s.decode() in caplog.text]
