"""End to end, channel → QuickBooks Desktop: the shipped amazon-inventory-to-qbd pipeline served to the simulated
Web Connector, every request checked against Intuit's qbXML XSD; FBA counts become InventoryAdjustmentAdd with
NewQuantity, and a second round adjusts nothing."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest

from ledgerlink import json_loads
from ledgerlink_amazon_sp.inventory.normalise import normalise_inventory
from ledgerlink_amazon_sp.sandbox.seed import SKUS
from sandbox_helpers import amazon_env, load_shipped, sandbox_running, web_connector


@pytest.fixture
def served(tmp_path, qbxml_xsd):
    @contextlib.contextmanager
    def make():
        with sandbox_running("amazon_sp", orders=4) as (amazon, _):
            env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon),
                   "INVENTORY_BASELINE": str(tmp_path / "baseline.sqlite")}

            def seed(company) -> None:  # the seller's products as QuickBooks inventory items, none counted yet
                for entry in SKUS:
                    company.items[entry.sku.lower()] = {**company._list_obj(Name=entry.sku), "Ret": "ItemInventoryRet",
                                                        "Account": "Sales", "QuantityOnHand": "0"}

            pipeline = load_shipped(tmp_path, "amazon-inventory-to-qbd.yaml", env)
            with web_connector(pipeline, qbxml_xsd, prepare=seed) as bridge:
                yield bridge.service, bridge.company, bridge.settle
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
