"""`ledgerlink reconcile` reads QuickBooks Online back: the shipped amazon-to-qbo pipeline against both
sandboxes, then edits and deletions made in QuickBooks after posting are found."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from ledgerlink.cli import cli
from ledgerlink.pipeline import load_pipeline
from ledgerlink.runtime import sync
from ledgerlink.store import Store
from ledgerlink_qbo.client import QboApi
from ledgerlink_qbo.config import QboConfig
from ledgerlink_qbo.destination import credential_name
from ledgerlink_qbo.read_back import expected_total, key_of
from sandbox_helpers import amazon_env, qbo_env, sandbox_running, write_shipped


def test_expected_totals_follow_quickbooks_arithmetic():
    receipt = {"Line": [
        {"DetailType": "SalesItemLineDetail", "Amount": "20.00"},
        {"DetailType": "SalesItemLineDetail", "Amount": "5.50"},
        {"DetailType": "DiscountLineDetail", "Amount": "3.00", "DiscountLineDetail": {}},
        {"DetailType": "DiscountLineDetail", "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10}}],
        "TxnTaxDetail": {"TotalTax": "1.25"}}
    assert expected_total("SalesReceipt", receipt) == Decimal("25.50") - Decimal("3.00") - Decimal("2.55") + Decimal("1.25")
    journal = {"Line": [{"Amount": "7.00", "JournalEntryLineDetail": {"PostingType": "Debit"}},
                        {"Amount": "7.00", "JournalEntryLineDetail": {"PostingType": "Credit"}}]}
    assert expected_total("JournalEntry", journal) == Decimal("7.00")
    assert expected_total("Payment", {"TotalAmt": "12.34"}) == Decimal("12.34")
    assert expected_total("InventoryAdjustment", {"Line": []}) is None
    assert key_of({"PrivateNote": "ledgerlink SalesReceipt:amazon_sp/order/1\norder 1"}) == "SalesReceipt:amazon_sp/order/1"
    assert key_of({"PrivateNote": "typed by a bookkeeper"}) is None and key_of({}) is None


@pytest.fixture
def posted(tmp_path, monkeypatch):
    with sandbox_running("amazon_sp", orders=25) as (amazon, _), sandbox_running("qbo") as (qbo, _):
        pipeline_file = write_shipped(tmp_path, "amazon-to-qbo.yaml")
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon),
               **qbo_env(qbo, batch_per_minute="40000")}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        pipeline = load_pipeline(pipeline_file)
        report = sync(pipeline)
        assert report.status == "succeeded" and report.counts["created"]["SalesReceipt"] > 2
        yield pipeline, str(pipeline_file)


def reconcile(path: str, *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["reconcile", path, "--json", *args])
    return result.exit_code, json.loads(result.stdout)


def test_posted_receipts_tie_and_edits_and_deletions_in_quickbooks_are_found(posted):
    pipeline, path = posted
    code, report = reconcile(path)
    assert code == 0, report["findings"]
    assert "ledger" not in report["skipped"]

    # a bookkeeper edits one receipt's line and deletes another, in QuickBooks
    config = QboConfig.model_validate(pipeline.destination.config)
    store = Store(pipeline.state_path)
    name = credential_name(config.realm_id)
    (edited_key, edited_id), (deleted_key, deleted_id) = store.db.fetchall(
        "SELECT key, destination_id FROM results WHERE stream = 'SalesReceipt' ORDER BY key LIMIT 2")
    api = QboApi(config, store.credentials.load(name) or config.refresh_token,
                 on_rotate=lambda token: store.credentials.save(name, token))
    try:
        receipt = api.read("SalesReceipt", edited_id)
        lines = [ln for ln in receipt["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
        lines[0]["Amount"] = Decimal(str(lines[0]["Amount"])) + Decimal("10.00")
        lines[0]["SalesItemLineDetail"].pop("UnitPrice", None)
        api.update("SalesReceipt", {"Id": edited_id, "SyncToken": receipt["SyncToken"], "sparse": True, "Line": lines})
        gone = api.read("SalesReceipt", deleted_id)
        api._call("delete SalesReceipt", "POST", "salesreceipt", params={"operation": "delete"},
                  body={"Id": deleted_id, "SyncToken": gone["SyncToken"]})
    finally:
        api.close()
        store.close()

    code, report = reconcile(path)
    assert code == 5
    ledger = [f for f in report["findings"] if f["check"] == "ledger"]
    assert len(ledger) == 2, ledger
    edited = next(f for f in ledger if "differs" in f["message"])
    assert Decimal(edited["actual"]) - Decimal(edited["expected"]) == Decimal("10.00")
    assert any("not found in the ledger" in f["message"] for f in ledger)
    offline_code, _ = reconcile(path, "--offline")
    assert offline_code == 0
