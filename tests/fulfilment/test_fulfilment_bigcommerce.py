"""End to end, through the CLI: a 3PL's shipment export on disk → the shipped
`files-shipments-to-bigcommerce.yaml` → order shipments with tracking in the BigCommerce sandbox over loopback;
a second sync sends nothing; an unknown order, a SKU the order does not have and a zero quantity are dead
letters naming the file and line with a fix hint, and every other row still goes."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fulfilment_helpers import (  # noqa: E402
    bigcommerce_env, bigcommerce_sandbox, dead_letters, rows_of, shipped_pipeline, sync,
)

from ledgerlink.files import samples  # noqa: E402

PIPELINE = "files-shipments-to-bigcommerce.yaml"
SHIPPED = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=2)


def test_a_3pl_export_ships_bigcommerce_orders_once_and_dead_letters_what_the_store_cannot_take(tmp_path):
    with bigcommerce_sandbox() as (url, sandbox):
        book = sandbox.store.book
        orders = samples.bigcommerce_orders_to_ship(url, limit=4)
        assert len(orders) == 4, "the seeded store has too few orders awaiting fulfilment"
        shipped, wrong_sku = orders[:3], orders[3]
        bad_rows = [
            [samples.UNKNOWN_BIGCOMMERCE_ORDER, "1ZUNKNOWN", "UPS", None, orders[0].lines[0][0], 1],  # no such order
            [wrong_sku.order_id, "1ZWRONGSKU", "UPS", None, "NOT-A-SKU", 1],  # a SKU the order does not have
            [orders[0].order_id, "1ZZERO", "UPS", None, orders[0].lines[0][0], 0],  # nothing shipped
        ]
        export = samples.write_shipments(tmp_path / "drop" / "3pl.csv", shipped, shipped_at=SHIPPED,
                                         extra_rows=bad_rows)
        unknown_line = 2 + rows_of(shipped)  # line 1 is the header
        wrong_sku_line, zero_line = unknown_line + 1, unknown_line + 2
        pipeline = shipped_pipeline(PIPELINE, tmp_path)
        state = tmp_path / "state.duckdb"
        env = bigcommerce_env(url, tmp_path / "drop" / "*.csv", state)

        code, report = sync(pipeline, env)
        assert code == 3, report
        assert report["status"] == "succeeded"
        assert report["counts"]["read"] == {"shipments": rows_of(shipped) + 3}
        assert report["counts"]["created"] == {"order_shipments": 3}
        for n, order in enumerate(shipped):
            carrier = ("UPS", "USPS", "FedEx")[n]
            [shipment] = book.shipments[int(order.order_id)]
            assert shipment["tracking_number"] == samples.tracking_number(order.order_id, carrier)
            assert shipment["shipping_provider"] == carrier.lower()
            by_sku = {li["sku"]: li["id"] for li in book.order_products[int(order.order_id)]}
            assert sorted((i["order_product_id"], i["quantity"]) for i in shipment["items"]) == sorted(
                (by_sku[sku], quantity) for sku, quantity in order.lines)
            assert all(li["quantity_shipped"] == li["quantity"] for li in book.order_products[int(order.order_id)])
        assert not book.shipments[int(wrong_sku.order_id)]

        letters = {d["stage"] + ":" + str(d["record"].get("_line") or d["record"].get("order_id")): d
                   for d in dead_letters(state)}
        assert set(letters) == {f"write:{samples.UNKNOWN_BIGCOMMERCE_ORDER}", f"write:{wrong_sku.order_id}",
                                f"normalise:{zero_line}"}
        unknown = letters[f"write:{samples.UNKNOWN_BIGCOMMERCE_ORDER}"]
        assert unknown["message"].endswith(f"the store has no order {samples.UNKNOWN_BIGCOMMERCE_ORDER} "
                                           f"(from shipments row {export}/{unknown_line})")
        assert "correct the order number" in unknown["hint"] and "ledgerlink dlq discard" in unknown["hint"]
        assert "source_row" in unknown["record"]
        sku = letters[f"write:{wrong_sku.order_id}"]
        assert f"has no product with SKU 'NOT-A-SKU' (from shipments row {export}/{wrong_sku_line})" in sku["message"]
        zero = letters[f"normalise:{zero_line}"]
        assert f"{export}, line {zero_line}" in zero["message"] and "is zero" in zero["message"] and zero["hint"]

        # again: nothing read, nothing sent, no letter repeated
        code, report = sync(pipeline, env)
        assert report["counts"]["read"] == {} and report["counts"]["created"] == {}
        assert [len(book.shipments[int(o.order_id)]) for o in shipped] == [1, 1, 1]
        assert len(dead_letters(state)) == 3


def test_a_shipment_moves_the_order_to_shipped_or_partially_shipped_as_bigcommerce_does(tmp_path):
    with bigcommerce_sandbox() as (url, sandbox):
        book = sandbox.store.book
        whole, part = [o for o in samples.bigcommerce_orders_to_ship(url, limit=10) if len(o.lines) > 1][:2]
        export = samples.write_shipments(tmp_path / "3pl.csv", [whole], shipped_at=SHIPPED, extra_rows=[
            [part.order_id, "1ZPART", "UPS", None, part.lines[0][0], part.lines[0][1]]])  # one line of two or more
        code, report = sync(shipped_pipeline(PIPELINE, tmp_path), bigcommerce_env(url, export, tmp_path / "s.duckdb"))
        assert code == 0 and report["counts"]["created"] == {"order_shipments": 2}
        assert book.orders[int(whole.order_id)]["status_id"] == 2
        assert book.orders[int(part.order_id)]["status_id"] == 3
