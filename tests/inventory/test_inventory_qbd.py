"""End to end, channel → QuickBooks Desktop: the shipped amazon-inventory-to-qbd pipeline served to the simulated
Web Connector, every request checked against Intuit's qbXML XSD; FBA counts become InventoryAdjustmentAdd with
NewQuantity, and a second round adjusts nothing."""

from __future__ import annotations

import contextlib
import time
from decimal import Decimal
from importlib import resources

import pytest

from ledgerlink import json_loads
from ledgerlink.pipeline import load_pipeline
from ledgerlink.plugins import host
from ledgerlink.sandbox import running, running_app
from ledgerlink.serve import PipelineService, build_app
from ledgerlink_amazon_sp.inventory.normalise import normalise_inventory
from ledgerlink_amazon_sp.sandbox.seed import SKUS


def _wait(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def served(tmp_path, reference_dir):
    pytest.importorskip("lxml")
    xsd = reference_dir / "qbxml" / "xsd-16.0" / "qbxmlops160.xsd"
    if not xsd.exists():
        pytest.skip("qbXML XSD not found")
    sandboxes = host().sandboxes()

    @contextlib.contextmanager
    def make():
        with running(sandboxes["amazon_sp"](orders=4, time_scale=1000)) as amazon:
            path = tmp_path / "amazon-inventory-to-qbd.yaml"
            path.write_text(resources.files("ledgerlink").joinpath("data", path.name).read_text())
            env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), "AMAZON_SP_ENDPOINT": amazon,
                   "AMAZON_LWA_ENDPOINT": f"{amazon}/auth/o2/token",
                   "INVENTORY_BASELINE": str(tmp_path / "baseline.sqlite")}
            service = PipelineService(load_pipeline(path, env=env), host(), every=None, debounce=0.05)
            service.start()
            simulator = sandboxes["qb_desktop"](xsd=str(xsd), poll_every_s=0)
            company = simulator.company
            for entry in SKUS:  # the seller's products as QuickBooks inventory items, none counted yet
                company.items[entry.sku.lower()] = {**company._list_obj(Name=entry.sku), "Ret": "ItemInventoryRet",
                                                    "Account": "Sales", "QuantityOnHand": "0"}
            try:
                with running_app(build_app(service)) as url:
                    def settle() -> None:
                        for _ in range(30):
                            assert _wait(lambda: service.idle)
                            if simulator.poll(f"{url}/qbwc/")["result"] == "none":
                                time.sleep(0.1)
                                if service.idle and simulator.poll(f"{url}/qbwc/")["result"] == "none":
                                    return
                        raise AssertionError("the queue did not drain")

                    yield service, company, settle
            finally:
                service.stop()
    return make


def test_fba_counts_set_quickbooks_desktop_quantities_once(served):
    with served() as (service, company, settle):
        service.trigger("test")
        settle()
        store = service.store
        us = {}
        for _, data in store.db.fetchall("SELECT pk, data FROM raw_fba_inventory"):
            for lv in normalise_inventory(json_loads(data), {}):
                if lv.location == "amazon_fba/ATVPDKIKX0DER":
                    us[lv.sku] = lv.on_hand
        assert us, "the sandbox seller has FBA stock in the US"
        adjustments = company.txns.get("InventoryAdjustment", [])
        # QuickBooks Desktop cannot be read first: each SKU's first count is set, zero or not
        assert len(adjustments) == len(us)
        for sku, qty in us.items():
            assert Decimal(company.items[sku.lower()]["QuantityOnHand"]) == qty, sku
        assert all(a["Memo"].startswith("ledgerlink InventoryAdjustment:amazon_sp") for a in adjustments)
        assert {a["AccountRef"] for a in adjustments} == {"Inventory Adjustments"}
        assert store.awaiting("qb_desktop").count() == 0
        # a second round: the same counts, nothing new
        service.trigger("again")
        settle()
        assert len(company.txns.get("InventoryAdjustment", [])) == len(adjustments)
