"""End to end, through the CLI: a 3PL's shipment export on disk → the shipped `files-shipments-to-amazon.yaml`
→ FBM shipment confirmations in the Amazon sandbox over loopback, with carrier and tracking; a second sync
and a re-sent export send nothing; an unknown order and a zero or negative quantity are dead letters that name
the file and line with a fix hint, and every other row still goes."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from fulfilment_helpers import amazon_env, amazon_sandbox, dead_letters, rows_of, shipped_pipeline, sync  # noqa: E402

from ledgerlink.cli import cli  # noqa: E402
from ledgerlink.files import samples  # noqa: E402

PIPELINE = "files-shipments-to-amazon.yaml"
CARRIER_CODES = {"UPS": "UPS", "USPS": "USPS", "FedEx": "FedEx"}
#: one ship date for every export a test writes (a package re-sent in a later export keeps its date)
SHIPPED = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=2)


def _confirm_calls(url: str) -> dict[str, int]:
    return httpx.get(f"{url}/_sandbox/stats").json()["calls"].get("confirmShipment", {})


def test_a_3pl_export_confirms_fbm_shipments_once_and_dead_letters_what_amazon_cannot_take(tmp_path):
    with amazon_sandbox() as (url, sandbox, writes):
        orders = samples.amazon_orders_to_ship(url, limit=3)
        assert len(orders) == 3, "the seeded seller has too few FBM orders awaiting shipment"
        first_sku, second_sku = orders[0].lines[0][0], orders[1].lines[0][0]
        bad_rows = [
            [samples.UNKNOWN_AMAZON_ORDER, "1ZUNKNOWN", "UPS", None, first_sku, 1],  # an order Amazon does not have
            [orders[0].order_id, "1ZZERO", "UPS", None, first_sku, 0],               # nothing shipped
            [orders[1].order_id, "1ZNEGATIVE", "UPS", None, second_sku, -2],         # a negative quantity
        ]
        export = samples.write_shipments(tmp_path / "drop" / "3pl-2026-05-01.csv", orders, shipped_at=SHIPPED,
                                         extra_rows=bad_rows)
        unknown_line = 2 + rows_of(orders)  # line 1 is the header
        zero_line, negative_line = unknown_line + 1, unknown_line + 2
        pipeline = shipped_pipeline(PIPELINE, tmp_path)
        state = tmp_path / "state.duckdb"
        env = amazon_env(url, tmp_path / "drop" / "*.csv", state)

        code, report = sync(pipeline, env)
        assert code == 3, report  # finished, with dead letters to look at
        assert report["status"] == "succeeded"
        assert report["counts"]["read"] == {"shipments": rows_of(orders) + 3}
        assert report["counts"]["created"] == {"shipment_confirmations": 3}
        for n, order in enumerate(orders):
            carrier = ("UPS", "USPS", "FedEx")[n]
            [package] = writes.packages[order.order_id].values()
            assert package["carrierCode"] == CARRIER_CODES[carrier]
            assert package["trackingNumber"] == samples.tracking_number(order.order_id, carrier)
            assert package["shipDate"] == SHIPPED.strftime("%Y-%m-%dT%H:%M:%SZ")
            assert sum(i["quantity"] for i in package["orderItems"]) == sum(q for _, q in order.lines)
            index = sandbox.api.book.index_of(order.order_id)
            assert sandbox.api.book.order(index)["OrderStatus"] == "Shipped"
        assert samples.UNKNOWN_AMAZON_ORDER not in writes.packages
        assert _confirm_calls(url) == {"204": 3}

        letters = {d["stage"] + ":" + str((d["record"] or {}).get("_line", "")): d for d in dead_letters(state)}
        assert set(letters) == {"write:", f"normalise:{zero_line}", f"normalise:{negative_line}"}
        unknown = letters["write:"]
        assert samples.UNKNOWN_AMAZON_ORDER in unknown["message"] and unknown["error_kind"] == "permanent"
        assert f"shipments row {export}/{unknown_line}" in unknown["hint"]
        assert "correct the order number" in unknown["hint"] and "ledgerlink dlq discard" in unknown["hint"]
        assert unknown["record"]["source_row"] == f"shipments row {export}/{unknown_line}"
        zero, negative = letters[f"normalise:{zero_line}"], letters[f"normalise:{negative_line}"]
        assert f"{export}, line {zero_line}" in zero["message"] and "quantity 0 is zero" in zero["message"]
        assert f"{export}, line {negative_line}" in negative["message"] and "is negative" in negative["message"]
        assert "field 'Qty'" in zero["message"] and zero["hint"] and negative["hint"]

        # again: nothing read, nothing sent, no letter repeated
        code, report = sync(pipeline, env)
        assert report["counts"]["read"] == {} and report["counts"]["created"] == {}
        assert _confirm_calls(url) == {"204": 3} and len(dead_letters(state)) == 3

        # the 3PL sends a cumulative export the next day: yesterday's packages again and one new one
        more = samples.amazon_orders_to_ship(url, limit=4)
        fresh = [o for o in more if o.order_id not in {x.order_id for x in orders}]
        assert fresh, "no fourth FBM order awaiting shipment in the seed"
        samples.write_shipments(tmp_path / "drop" / "3pl-2026-05-02.csv", orders + fresh[:1], shipped_at=SHIPPED)
        code, report = sync(pipeline, env)
        assert report["counts"]["created"] == {"shipment_confirmations": 1}
        assert report["counts"]["planned_unchanged"] == 3 and report["counts"]["changed_after_posting"] == 0
        assert _confirm_calls(url) == {"204": 4}
        assert [len(writes.packages[o.order_id]) for o in orders + fresh[:1]] == [1, 1, 1, 1]


def test_fixing_the_unknown_order_in_the_file_confirms_it_on_the_next_sync(tmp_path):
    """The hint's fix works: correct the order number in the file, sync, discard the old letter."""
    with amazon_sandbox() as (url, sandbox, writes):
        good, late = samples.amazon_orders_to_ship(url, limit=2)
        export = samples.write_shipments(tmp_path / "3pl.csv", [good], shipped_at=SHIPPED, extra_rows=[
            [samples.UNKNOWN_AMAZON_ORDER, "1ZTYPO", "UPS", None, late.lines[0][0], late.lines[0][1]]])
        pipeline = shipped_pipeline(PIPELINE, tmp_path)
        state = tmp_path / "state.duckdb"
        env = amazon_env(url, export, state)
        code, report = sync(pipeline, env)
        assert code == 3 and report["counts"]["created"] == {"shipment_confirmations": 1}
        [letter] = dead_letters(state)
        assert samples.UNKNOWN_AMAZON_ORDER in letter["message"]

        export.write_text(export.read_text().replace(samples.UNKNOWN_AMAZON_ORDER, late.order_id))
        code, report = sync(pipeline, env)
        assert report["counts"]["created"] == {"shipment_confirmations": 1}
        [package] = writes.packages[late.order_id].values()
        assert package["trackingNumber"] == "1ZTYPO" and package["carrierCode"] == "UPS"
        assert len(writes.packages[good.order_id]) == 1  # the file was read again: nothing sent twice
        assert CliRunner().invoke(cli, ["dlq", "discard", str(state), str(letter["id"])]).exit_code == 0
        assert dead_letters(state) == []
