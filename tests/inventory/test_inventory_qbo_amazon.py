"""End to end, QuickBooks → Amazon: the shipped qbo-inventory-to-amazon pipeline sets FBM listing quantities
from QuickBooks Online, and never touches an FBA listing (nor a SKU seen at an Amazon fulfilment centre)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import quote

import httpx

from ledgerlink import InventoryLevel
from ledgerlink.inventory import to_quickbooks
from ledgerlink.pipeline import load_pipeline
from ledgerlink.runtime import sync
from ledgerlink_amazon_sp.sandbox.seed import SKUS
from sandbox_helpers import amazon_env, qbo_env, sandbox_running, write_shipped

FBM, FBA, FBM_SEEN_AT_FBA = SKUS[0].sku, SKUS[1].sku, SKUS[2].sku  # even entries are FBM in the sandbox


def test_quickbooks_quantities_reach_fbm_listings_and_never_fba_ones(tmp_path):
    with sandbox_running("amazon_sp", orders=2) as (amazon, _), \
            sandbox_running("qbo", rotate_refresh_tokens=False) as (qbo, qbo_box):
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
        path = write_shipped(tmp_path, "qbo-inventory-to-amazon.yaml")
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon), **qbo_env(qbo),
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
