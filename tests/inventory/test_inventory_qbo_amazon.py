"""End to end, QuickBooks → Amazon: the shipped qbo-inventory-to-amazon pipeline sets FBM listing quantities
from QuickBooks Online, and never touches an FBA listing (nor a SKU seen at an Amazon fulfilment centre)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from importlib import resources
from urllib.parse import quote

import httpx

from ledgerlink import InventoryLevel
from ledgerlink.inventory import to_quickbooks
from ledgerlink.pipeline import load_pipeline
from ledgerlink.plugins import host
from ledgerlink.runtime import sync
from ledgerlink.sandbox import running
from ledgerlink_amazon_sp.sandbox.seed import SKUS

FBM, FBA, FBM_SEEN_AT_FBA = SKUS[0].sku, SKUS[1].sku, SKUS[2].sku  # even entries are FBM in the sandbox


def test_quickbooks_quantities_reach_fbm_listings_and_never_fba_ones(tmp_path):
    sandboxes = host().sandboxes()
    qbo_box = sandboxes["qbo"](time_scale=1000, rotate_refresh_tokens=False)
    with running(sandboxes["amazon_sp"](orders=2, time_scale=1000)) as amazon, running(qbo_box) as qbo:
        company = qbo_box.company
        for sku, qty in ((FBM, 31), (FBA, 32), (FBM_SEEN_AT_FBA, 33)):
            company.save("Item", {
                "Name": sku, "Type": "Inventory", "TrackQtyOnHand": True, "QtyOnHand": qty, "InvStartDate": "2024-01-01",
                "IncomeAccountRef": {"value": company.id_named("Account", "Sales of Product Income")},
                "AssetAccountRef": {"value": company.id_named("Account", "Inventory Asset")},
                "ExpenseAccountRef": {"value": company.id_named("Account", "Cost of Goods Sold")}})
        baseline = tmp_path / "baseline.sqlite"
        # the Amazon → QuickBooks side once saw this SKU's stock at an Amazon fulfilment centre: FBA for good
        to_quickbooks(InventoryLevel(source="amazon_sp", sku=FBM_SEEN_AT_FBA, location="amazon_fba/ATVPDKIKX0DER",
                                     on_hand=Decimal(4), as_of=datetime.now(timezone.utc)),
                      {"inventory": {"baseline": str(baseline)}})
        before = {s: httpx.get(f"{amazon}/_sandbox/listings/{quote(s)}").json() for s in (FBM, FBA, FBM_SEEN_AT_FBA)}
        path = tmp_path / "qbo-inventory-to-amazon.yaml"
        path.write_text(resources.files("ledgerlink").joinpath("data", path.name).read_text())
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), "AMAZON_SP_ENDPOINT": amazon,
               "AMAZON_LWA_ENDPOINT": f"{amazon}/auth/o2/token", "QBO_BASE_URL": qbo,
               "QBO_TOKEN_URL": f"{qbo}/oauth2/v1/tokens/bearer", "QBO_REQUESTS_PER_MINUTE": "500000",
               "INVENTORY_BASELINE": str(baseline)}
        report = sync(load_pipeline(path, env=env))
        assert report.status == "succeeded" and report.counts["dead_letters_open"] == 0, report.errors
        after = {s: httpx.get(f"{amazon}/_sandbox/listings/{quote(s)}").json() for s in (FBM, FBA, FBM_SEEN_AT_FBA)}
        assert after[FBM]["quantity"] == 31 and after[FBM]["fulfillment_channel_code"] == "DEFAULT"
        assert after[FBA] == before[FBA]  # Amazon fulfils it: left alone (the destination checks the listing)
        assert after[FBM_SEEN_AT_FBA] == before[FBM_SEEN_AT_FBA]  # never planned: the baseline saw it at FBA
        again = sync(load_pipeline(path, env=env))
        assert again.counts["created"] == {}
        assert httpx.get(f"{amazon}/_sandbox/listings/{quote(FBM)}").json()["submissions"] == after[FBM]["submissions"]
