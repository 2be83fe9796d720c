"""End to end over loopback: a Shipment and InventoryLevels planned into the outbox, drained by the runtime into
the sandbox, read back from the sandbox; refusals land in the dead-letter queue with Amazon's words; a second
drain sends nothing. The same writes through `ledgerlink write amazon_sp`, as Airbyte would run it, and a whole
`ledgerlink sync` pipeline from BigCommerce stock to Amazon FBM quantities."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx

from ledgerlink import InventoryLevel, RetryPolicy, Shipment, ShipmentLine
from ledgerlink.pipeline import load_pipeline
from ledgerlink.runtime import sync
from ledgerlink.runtime.load import load
from ledgerlink.store import Store
from ledgerlink_amazon_sp import AmazonSellingPartnerDestination
from sandbox_helpers import sandbox_running

FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01)
SELLER = "A2SANDBOXSELLER"


def find_order(book, *, channel: str = "MFN", status: str = "Unshipped"):
    """The first seeded order with this fulfilment channel and status."""
    for i in range(book.count):
        order, items = book.order_and_items(i)
        if order["FulfillmentChannel"] == channel and order["OrderStatus"] == status:
            return i, order, items
    raise AssertionError(f"no {channel} {status} order in the seed")


def token_headers(url: str) -> dict[str, str]:
    body = httpx.post(f"{url}/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": "Atzr|r",
                                                    "client_id": "c", "client_secret": "s"}).json()
    return {"x-amz-access-token": body["access_token"]}


def test_the_runtime_drains_shipments_and_quantities_into_amazon_once(sandbox, make_config, tmp_path):
    when = datetime(2026, 3, 1, tzinfo=timezone.utc)
    issue = {"code": "99300", "message": "Approval is required to list in this category.", "severity": "ERROR",
             "attributeNames": [], "categories": ["QUALIFICATION_REQUIRED"]}
    with sandbox(orders=150, seller_id=SELLER) as (url, sb):
        index, order, items = find_order(sb.api.book)
        _, fba, _ = find_order(sb.api.book, channel="AFN", status="Shipped")
        httpx.post(f"{url}/_sandbox/listings/LL-TEA-EARL-100", json={"issues": [issue]})
        dest = AmazonSellingPartnerDestination(retry=FAST_RETRY)
        objects = [
            Shipment(source="bigcommerce", shipment_id="901", order_id=order["AmazonOrderId"], carrier="USPS",
                     tracking_number="9400111899223", shipped_at=datetime.now(timezone.utc) - timedelta(hours=3),
                     lines=[ShipmentLine(sku=i["SellerSKU"], quantity=Decimal(i["QuantityOrdered"])) for i in items]),
            Shipment(source="bigcommerce", shipment_id="902", order_id=fba["AmazonOrderId"], carrier="USPS",
                     tracking_number="9400111899224", shipped_at=datetime.now(timezone.utc) - timedelta(hours=3),
                     lines=[ShipmentLine(sku="LL-MUG-11OZ", quantity=Decimal(1))]),
            InventoryLevel(source="bigcommerce", sku="LL-MUG-11OZ", location="1", on_hand=Decimal(17), as_of=when),
            InventoryLevel(source="bigcommerce", sku="LL-TEA-EARL-100", location="1", on_hand=Decimal(4), as_of=when),
        ]
        planned = [w for obj in objects for w in dest.plan(obj, None)]
        config = dest.parse_config(make_config(url, seller_id=SELLER))
        store = Store(tmp_path / "state.duckdb")
        try:
            run = store.runs.start("to-amazon", False)
            store.outbox.add("amazon_sp", planned, run)
            first = load(dest, config, store, run)
            letters = {d.record_key: d for d in store.dead_letters.list()}
            results = dict(store.db.fetchall("SELECT key, destination_id FROM results"))
            second = load(dest, config, store, store.runs.start("to-amazon", False))
        finally:
            store.close()
        status = httpx.get(f"{url}/orders/v0/orders/{order['AmazonOrderId']}",
                           headers=token_headers(url)).json()["payload"]["OrderStatus"]
        mug = httpx.get(f"{url}/_sandbox/listings/LL-MUG-11OZ").json()
        confirmations = httpx.get(f"{url}/_sandbox/stats").json()["calls"]["confirmShipment"]
    shipped_key, fba_key, mug_key, tea_key = (w.key for w in planned)
    assert first["created"] == {"shipment_confirmations": 1, "listing_quantities": 1}
    assert first["write_dead_letters"] == 2 and not first["write_error"]
    assert results[shipped_key] == f"{order['AmazonOrderId']}/901" and results[mug_key] == "LL-MUG-11OZ"
    assert status == "Shipped" and mug["quantity"] == 17 and confirmations == {"204": 1}
    assert set(letters) == {fba_key, tea_key}
    assert "fulfilled by Amazon (FBA)" in letters[fba_key].message and letters[fba_key].hint
    tea = letters[tea_key]
    assert tea.error_kind == "permanent" and "Approval is required to list in this category." in tea.message
    assert json.loads(tea.detail["remote_message"]) == [issue] and tea.record == {"sku": "LL-TEA-EARL-100",
                                                                                   "quantity": 4}
    assert not second.get("created") and not second.get("write_dead_letters")


def test_ledgerlink_write_amazon_sp(sandbox, make_config, tmp_path):
    with sandbox(orders=150, seller_id=SELLER) as (url, sb):
        index, order, items = find_order(sb.api.book)
        (tmp_path / "c.json").write_text(json.dumps(make_config(url, seller_id=SELLER)))
        records = [
            {"stream": "listing_quantities", "data": {"_ledgerlink_key": "q-1", "sku": "LL-KTL-GOOSE", "quantity": 8}},
            {"stream": "shipment_confirmations", "data": {
                "_ledgerlink_key": "s-1", "order_id": order["AmazonOrderId"], "package_reference_id": "5",
                "carrier_code": "UPS", "tracking_number": "1ZCLI",
                "ship_date": (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "items": [{"order_item_id": i["OrderItemId"], "quantity": i["QuantityOrdered"]} for i in items]}},
            {"stream": "listing_quantities", "data": {"_ledgerlink_key": "q-2", "sku": "LL-KTL-GOOSE",
                                                      "quantity": "many"}},
            {"stream": "listing_quantities", "data": {"_ledgerlink_key": "q-3", "sku": "LL-MUG-15OZ", "quantity": 1}},
        ]
        lines = [json.dumps({"type": "RECORD", "record": {**r, "emitted_at": 0}}) for r in records]
        lines.append(json.dumps({"type": "STATE", "state": {"type": "LEGACY", "data": {"done": 1}}}))
        out = subprocess.run([sys.executable, "-m", "ledgerlink", "write", "amazon_sp", "--config",
                              str(tmp_path / "c.json")], input="\n".join(lines) + "\n", capture_output=True,
                             text=True, timeout=60)
        quantity = httpx.get(f"{url}/_sandbox/listings/LL-KTL-GOOSE").json()["quantity"]
        fba = {k: v for k, v in httpx.get(f"{url}/_sandbox/listings/LL-MUG-15OZ").json().items()
               if k in ("fulfillment_channel_code", "quantity")}  # an FBA SKU: left alone, not an error
        status = sb.api.book.order(index)["OrderStatus"]
    # one record not written: exit 3 naming it and its field, and the STATE after it held back (so the next sync
    # sends it again); the records around it are written all the same
    assert out.returncode == 3, out.stderr
    assert "sku='LL-KTL-GOOSE' was not written" in out.stderr and "field 'quantity'" in out.stderr
    messages = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert [m["type"] for m in messages if m["type"] == "STATE"] == []
    errors = [m["log"]["message"] for m in messages if m["type"] == "LOG" and m["log"]["level"] == "ERROR"]
    assert len(errors) == 1 and errors[0].startswith("q-2:") and "quantity 'many' is not a whole number" in errors[0]
    assert quantity == 8 and status == "Shipped" and fba == {"fulfillment_channel_code": "AMAZON_NA", "quantity": None}


def test_a_pipeline_pushes_bigcommerce_stock_to_amazon_fbm_listings_once(sandbox, make_config, tmp_path):
    """`ledgerlink sync` with BigCommerce as the source and amazon_sp as the destination (two connectors, both
    roles of amazon_sp registered): location 1's stock reaches the one FBM listing the store has on Amazon, the
    FBA one and the SKUs not listed there are left alone, and a second sync with unchanged stock patches nothing."""
    with sandbox(orders=1, seller_id=SELLER) as (url, _), sandbox_running("bigcommerce", orders=2) as (bc, _):
        httpx.post(f"{url}/_sandbox/listings/FLCT-BEI", json={"fulfillment_channel_code": "DEFAULT", "quantity": 0})
        httpx.post(f"{url}/_sandbox/listings/FLCT-GRE", json={"fulfillment_channel_code": "AMAZON_NA",
                                                               "quantity": None})
        pipeline = tmp_path / "bigcommerce-to-amazon.yaml"
        pipeline.write_text(json.dumps({
            "version": 1, "name": "bigcommerce-to-amazon", "state": str(tmp_path / "state.duckdb"),
            "source": {"connector": "bigcommerce", "streams": ["inventory_items"], "config": {
                "base_url": bc, "store_hash": "abc123", "access_token": "test-token",
                "start_date": "2020-01-01T00:00:00Z", "webhook_secret": "s3cret"}},
            "destination": {"connector": "amazon_sp", "options": {"locations": ["1"]},
                            "config": make_config(url, seller_id=SELLER, marketplace_ids=["ATVPDKIKX0DER"])}}))
        first = sync(load_pipeline(pipeline))
        second = sync(load_pipeline(pipeline))
        store = Store(tmp_path / "state.duckdb")
        try:
            staged = store.raw.get("inventory_items", "1/201")
        finally:
            store.close()
        beige = httpx.get(f"{url}/_sandbox/listings/FLCT-BEI").json()
        grey = httpx.get(f"{url}/_sandbox/listings/FLCT-GRE").json()
    assert first.status == "succeeded" and second.status == "succeeded", (first.errors, second.errors)
    assert first.counts["created"] == {"listing_quantities": 1} and not first.counts.get("dead_letters_open")
    assert beige["quantity"] == staged["available_to_sell"] > 0 and beige["submissions"] == 1
    assert grey["quantity"] is None and grey["submissions"] == 0
    # the second sync sends nothing: the level is unchanged (re-planned or not, `submissions` stayed at 1)
    assert not second.counts.get("created")


def test_refused_credentials_stop_the_load_and_leave_every_write_pending(sandbox, make_config, tmp_path):
    """LWA refusing the refresh token is not any record's fault: no dead letters, the load stops naming the
    cause, and the writes go through on the next run once the credentials are fixed."""
    with sandbox(orders=1, seller_id=SELLER, refresh_token="Atzr|the-right-one") as (url, _):
        dest = AmazonSellingPartnerDestination(retry=FAST_RETRY)
        [write] = dest.plan(InventoryLevel(source="bigcommerce", sku="LL-MUG-11OZ", location="1", on_hand=Decimal(6),
                                           as_of=datetime(2026, 3, 1, tzinfo=timezone.utc)), None)
        store = Store(tmp_path / "state.duckdb")
        try:
            store.outbox.add("amazon_sp", [write], None)
            wrong = load(dest, dest.parse_config(make_config(url, seller_id=SELLER)), store, 1)
            pending = store.outbox.counts()
            letters = store.dead_letters.count_open()
            right = load(dest, dest.parse_config(make_config(url, seller_id=SELLER,
                                                             refresh_token="Atzr|the-right-one")), store, 2)
        finally:
            store.close()
        quantity = httpx.get(f"{url}/_sandbox/listings/LL-MUG-11OZ").json()["quantity"]
    assert "token refresh refused: HTTP 400 invalid_grant" in wrong["write_error"]
    assert "re-authorise" in wrong["write_error"]
    assert letters == 0 and pending == {"listing_quantities": {"pending": 1}}
    assert right["created"] == {"listing_quantities": 1} and quantity == 6
