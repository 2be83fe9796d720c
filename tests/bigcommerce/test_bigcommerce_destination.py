"""Writes back to the sandbox: inventory (absolute, relative, by location), shipments, order status; idempotent."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from decimal import Decimal

from ledgerlink import InventoryLevel, OutboundRecord, Shipment, ShipmentLine, WriteContext
from ledgerlink_bigcommerce import BigCommerceDestination


def _open(url, config):
    dest = BigCommerceDestination()
    dest.open(dest.parse_config(config(url)), WriteContext())
    return dest


def test_shipment_plan_and_write_is_idempotent(sandbox_url, config):
    with sandbox_url(orders=30) as (url, sandbox):
        book = sandbox.store.book
        oid, lines = next((o, ls) for o, ls in book.order_products.items()
                          if book.orders[o]["status_id"] == 11 and not book.shipments[o])
        shipment = Shipment(source="test", shipment_id="s-1", order_id=str(oid), carrier="UPS",
                            tracking_number="1ZTEST", lines=[ShipmentLine(sku=lines[0]["sku"], quantity=Decimal(1))])
        dest = _open(url, config)
        [write] = dest.plan(shipment, None)  # type: ignore[arg-type]
        assert write.stream == "order_shipments" and write.data["shipping_provider"] == "ups"
        record = OutboundRecord(key=write.key, stream=write.stream, data=write.data)
        [first] = dest.write_batch("order_shipments", [record])
        [again] = dest.write_batch("order_shipments", [record])
        dest.close()
        assert first.ok and first.created and again.ok and not again.created
        assert first.destination_id == again.destination_id
        assert [s["tracking_number"] for s in book.shipments[oid]] == ["1ZTEST"]


def test_status_update_is_idempotent_and_a_bad_status_is_refused(sandbox_url, config):
    with sandbox_url(orders=10) as (url, sandbox):
        oid = next(iter(sandbox.store.book.orders))
        dest = _open(url, config)
        rec = OutboundRecord(key="k1", stream="order_status", data={"order_id": oid, "status_id": 10})
        [first] = dest.write_batch("order_status", [rec])
        [again] = dest.write_batch("order_status", [rec])
        [bad] = dest.write_batch("order_status", [OutboundRecord(key="k2", stream="order_status",
                                                                 data={"order_id": oid, "status_id": 99})])
        dest.close()
        assert first.created and not again.created and sandbox.store.book.orders[oid]["status_id"] == 10
        assert not bad.ok and "status_id" in str(bad.error)


def test_inventory_absolute_relative_and_a_bad_item_only_fails_itself(sandbox_url, config):
    with sandbox_url(orders=2) as (url, sandbox):
        book = sandbox.store.book
        vid, variant = next(iter(book.variants.items()))
        level = InventoryLevel(source="test", sku=variant["sku"], location="AUS-WH", on_hand=Decimal(40),
                               as_of=datetime(2026, 1, 1, tzinfo=timezone.utc))
        dest = _open(url, config)
        [planned] = dest.plan(level, None)  # type: ignore[arg-type]
        absolute = OutboundRecord(key=planned.key, stream=planned.stream, data=planned.data)
        bad = OutboundRecord(key="bad", stream="inventory_adjustments",
                             data={"mode": "absolute", "items": [{"location_id": 1, "sku": "NO-SUCH", "quantity": 1}]})
        results = {r.key: r for r in dest.write_batch("inventory_adjustments", [absolute, bad])}
        assert results[planned.key].ok and not results["bad"].ok and "422" in str(results["bad"].error)
        assert book.stock[(1, vid)] == 40
        dest.write_batch("inventory_adjustments", [absolute])  # absolute: the same again changes nothing
        assert book.stock[(1, vid)] == 40
        relative = OutboundRecord(key="rel", stream="inventory_adjustments", data={
            "mode": "relative", "reason": "recount", "items": [{"location_id": 2, "variant_id": vid, "quantity": -1}]})
        before = book.stock[(2, vid)]
        [r] = dest.write_batch("inventory_adjustments", [relative])
        dest.close()
        assert r.ok and book.stock[(2, vid)] == before - 1


def test_ledgerlink_write_bigcommerce(sandbox_url, config, tmp_path):
    with sandbox_url(orders=2) as (url, sandbox):
        vid = next(iter(sandbox.store.book.variants))
        (tmp_path / "c.json").write_text(json.dumps(config(url)))
        record = {"type": "RECORD", "record": {"stream": "inventory_adjustments", "emitted_at": 0, "data": {
            "_ledgerlink_key": "inv-1", "mode": "absolute", "items": [{"location_id": 3, "variant_id": vid,
                                                                      "quantity": 7}]}}}
        state = {"type": "STATE", "state": {"type": "LEGACY", "data": {"done": 1}}}
        out = subprocess.run([sys.executable, "-m", "ledgerlink", "write", "bigcommerce", "--config",
                              str(tmp_path / "c.json")], input="\n".join(map(json.dumps, (record, state))) + "\n",
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert '"STATE"' in out.stdout and "error" not in out.stdout.lower()
        assert sandbox.store.book.stock[(3, vid)] == 7
