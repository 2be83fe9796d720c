"""The sample 3PL exports (`ledgerlink.files.samples`) and the shipped fulfilment pipelines: the samples match what
the sandboxes hold and read back through the `files` normaliser as the shipments they describe; the pipelines
load with their defaults and name a valid config for each connector; `python -m ledgerlink.files.samples`
writes an export a user can sync; the demo's fulfilment step runs on its own."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fulfilment_helpers import amazon_sandbox, bigcommerce_sandbox, shipped_pipeline  # noqa: E402

from ledgerlink.files import FilesSource, samples  # noqa: E402
from ledgerlink.files.config import FilesConfig  # noqa: E402
from ledgerlink.files.normalise import normalisers_for  # noqa: E402
from ledgerlink.pipeline import load_pipeline  # noqa: E402
from ledgerlink.plugins import host  # noqa: E402

SHIPPED = datetime(2026, 5, 1, 14, 30, tzinfo=timezone.utc)


def test_an_export_has_a_row_per_order_line_with_stable_carrier_shaped_tracking(tmp_path):
    orders = [samples.OrderToShip("111-0000001-0000001", (("MUG", 2), ("TEA", 1))),
              samples.OrderToShip("111-0000002-0000002", (("KETTLE", 1),)),
              samples.OrderToShip("111-0000003-0000003", (("CUP", 4),))]
    path = samples.write_shipments(tmp_path / "out" / "3pl.csv", orders, shipped_at=SHIPPED,
                                   extra_rows=[["999", "T", "UPS", None, "X", 1]])
    rows = list(csv.reader(path.open()))
    assert rows[0] == list(samples.HEADER)
    one, two, three = (o.order_id for o in orders)
    when = "2026-05-01 14:30"
    assert rows[1:] == [
        [one, samples.tracking_number(one, "UPS"), "UPS", when, "MUG", "2"],
        [one, samples.tracking_number(one, "UPS"), "UPS", when, "TEA", "1"],
        [two, samples.tracking_number(two, "USPS"), "USPS", when, "KETTLE", "1"],
        [three, samples.tracking_number(three, "FedEx"), "FedEx", when, "CUP", "4"],
        ["999", "T", "UPS", when, "X", "1"]]  # None: the export's ship date
    ups = samples.tracking_number("111-0000001-0000001", "UPS")
    assert ups.startswith("1Z") and len(ups) == 18 and ups == samples.tracking_number("111-0000001-0000001", "UPS")
    assert samples.tracking_number("111-0000002-0000002", "USPS").startswith("9400") and ups != \
        samples.tracking_number("111-0000002-0000002", "UPS")


def test_the_export_normalises_to_one_shipment_per_package_with_its_rows_as_the_trail(tmp_path):
    orders = [samples.OrderToShip("111-0000001-0000001", (("MUG", 2), ("TEA", 1)))]
    path = samples.write_shipments(tmp_path / "3pl.csv", orders, shipped_at=SHIPPED)
    config = FilesConfig.model_validate({"streams": [{"name": "shipments", "path": str(path),
                                                      "normalise": "shipments", "columns": samples.COLUMNS}]})
    rows = [m.record.data for m in FilesSource().read(config.model_dump(by_alias=True), None, None)
            if m.record is not None]
    [normaliser] = normalisers_for(config.streams)
    [first] = normaliser.function(rows[0], {"shipments": rows})
    [second] = normaliser.function(rows[1], {"shipments": rows})
    assert first == second  # whichever row yields it
    assert first.shipment_id == f"111-0000001-0000001/{samples.tracking_number('111-0000001-0000001', 'UPS')}"
    assert (first.carrier, first.shipped_at) == ("UPS", SHIPPED)
    assert [(li.sku, li.quantity) for li in first.lines] == [("MUG", Decimal(2)), ("TEA", Decimal(1))]
    assert [r.key for r in first.source_refs] == [f"{path}/2", f"{path}/3"]


def test_the_same_package_in_a_second_export_is_not_twice_the_units(tmp_path):
    """A 3PL that re-sends yesterday's packages in today's export sends a copy, not more units; within one file
    rows add up (some exports write a row per unit)."""
    order = samples.OrderToShip("111-0000001-0000001", (("MUG", 1), ("MUG", 1), ("TEA", 1)))
    one = samples.write_shipments(tmp_path / "d" / "a.csv", [order], shipped_at=SHIPPED)
    samples.write_shipments(tmp_path / "d" / "b.csv", [order], shipped_at=SHIPPED)
    config = FilesConfig.model_validate({"streams": [{"name": "shipments", "path": str(tmp_path / "d" / "*.csv"),
                                                      "normalise": "shipments", "columns": samples.COLUMNS}]})
    rows = [m.record.data for m in FilesSource().read(config.model_dump(by_alias=True), None, None)
            if m.record is not None]
    assert len(rows) == 6
    [normaliser] = normalisers_for(config.streams)
    shipments = [normaliser.function(row, {"shipments": rows})[0] for row in rows]
    assert all(s == shipments[0] for s in shipments)
    assert [(li.sku, li.quantity) for li in shipments[0].lines] == [("MUG", Decimal(2)), ("TEA", Decimal(1))]
    assert shipments[0].source_refs[0].key == f"{one}/2"  # the first row, whichever file is read first


@pytest.mark.parametrize("name, destination", [("files-shipments-to-amazon.yaml", "amazon_sp"),
                                               ("files-shipments-to-bigcommerce.yaml", "bigcommerce")])
def test_the_shipped_pipelines_load_with_their_defaults(tmp_path, name, destination):
    path = shipped_pipeline(name, tmp_path)
    pipeline = load_pipeline(path, env={})
    assert pipeline.name == path.stem and pipeline.destination.connector == destination
    [stream] = FilesConfig.model_validate(pipeline.source.config).streams
    assert (stream.path, stream.normalise, stream.columns) == ("exports/3pl/*.csv", "shipments", samples.COLUMNS)
    host().connector(destination, "destination")().parse_config(pipeline.destination.config)
    specs = Path(__file__).resolve().parents[2] / "specs" / "pipelines" / name
    assert specs.read_text() == path.read_text(), "run `ledgerlink specs`"


def test_python_m_samples_writes_an_export_of_the_sandbox_orders_awaiting_shipment(tmp_path):
    with amazon_sandbox() as (amazon, _, _), bigcommerce_sandbox() as (bigcommerce, sandbox):
        for channel, url, unknown in (("amazon", amazon, samples.UNKNOWN_AMAZON_ORDER),
                                      ("bigcommerce", bigcommerce, samples.UNKNOWN_BIGCOMMERCE_ORDER)):
            out = tmp_path / f"{channel}.csv"
            done = subprocess.run([sys.executable, "-m", "ledgerlink.files.samples", channel, str(out), "--url", url,
                                   "--orders", "2", "--unknown"], capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            assert f"2 order(s) shipped, plus unknown order {unknown}" in done.stdout
            rows = list(csv.DictReader(out.open()))
            assert len({r["Order #"] for r in rows}) == 3 and rows[-1]["Order #"] == unknown
        awaiting = {o["id"] for o in sandbox.store.book.orders.values() if o["status_id"] in (11, 9, 8)}
        assert {int(r["Order #"]) for r in rows[:-1]} <= awaiting


def test_the_demo_fulfilment_step_sends_the_sample_and_shows_its_one_intended_dead_letter(tmp_path):
    from ledgerlink.demo import run_demo

    result = run_demo(orders=300, workdir=tmp_path / "demo", steps=["fulfilment"])
    assert result["status"] == "succeeded", result["steps"][0]["problems"]
    [step] = result["steps"]
    figures = step["figures"]
    assert figures["amazon_sent"] == len(step["details"]["amazon"]["orders"]) > 0
    assert figures["bigcommerce_sent"] == len(step["details"]["bigcommerce"]["orders"]) > 0
    assert figures["amazon_dead_letters"] == figures["bigcommerce_dead_letters"] == 1
    assert figures["amazon_second_sync"] == figures["bigcommerce_second_sync"] == 0
    assert samples.UNKNOWN_AMAZON_ORDER in step["labels"]["amazon_dead_letters"]
    assert Path(step["files"]["amazon_file"]).read_text().count(samples.UNKNOWN_AMAZON_ORDER) == 1
