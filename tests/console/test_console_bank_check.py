"""The settlement page's own check, the bank line against the settlement report's total, on the page and in the
API's JSON: a payout whose deposit is its report's total ties; a converted payout whose bank line is what landed
differs by the exchange difference; a payout on hold has no bank line yet; a real sync's staged report is read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from console_browser import (
    HELD, SETTLEMENT, SETTLEMENT_FILE, SETTLEMENT_FILE_ID, seed_settlements, settlements_pipeline,
)
from console_helpers import PASSWORD, Clock, Console
from ledgerlink.console import Workspace
from ledgerlink.plugins import host
from sandbox_helpers import sandbox_running

CONVERTED = "24288684722"
#: the converted payout: 54.00 CAD at 0.7312 is 39.48 USD; 40.00 USD landed in the bank
CONVERTED_OPTIONS = {"home_currency": "USD", "exchange_rates": {"CAD": "0.7312"}, "convert": True,
                     "deposits": {CONVERTED: "40.00"}}


def _console(ws: Path) -> Any:
    workspace = Workspace.open(ws, host(), every=None, debounce=0, announce=lambda line: None, clock=Clock())
    workspace.start()
    workspace.accounts.add("viewer", "viewer", PASSWORD)
    return Console(workspace, Clock())


@pytest.fixture
def seeded(tmp_path: Path) -> Any:
    ws = tmp_path / "ws"
    ws.mkdir()
    settlements_pipeline(ws, "http://127.0.0.1:9")  # never called: the state file is seeded as a sync leaves it
    seed_settlements(ws / ".ledgerlink" / "settlements.duckdb", "settlements",
                     planned=[(SETTLEMENT, {}), (CONVERTED, CONVERTED_OPTIONS)])
    console = _console(ws)
    yield console
    console.workspace.stop()


def _check(console: Any, sid: str) -> tuple[dict[str, Any], str]:
    client, _ = console.signed_in("viewer")
    api = client.get(f"/api/v1/pipelines/settlements/settlements/{sid}")
    page = client.get(f"/settlements/settlements/{sid}")
    assert api.status_code == 200 and page.status_code == 200, (api.text, page.text)
    section = page.text.split('id="bank-check"', 1)[1].split("</section>", 1)[0]
    return api.json()["bank_check"], section


def test_a_payout_whose_deposit_is_the_reports_total_ties(seeded):
    check, section = _check(seeded, SETTLEMENT)
    assert check == {"bank_line": "54.00", "bank_account": "Checking", "report_total": "54.00", "currency": "USD",
                     "report_from": "the journal's memo", "ties": True, "difference": "0.00",
                     "verdict": "the bank line 54.00 ties to the report's total 54.00 USD"}
    assert '<b class="verdict">ties</b>' in section and "54.00" in section


def test_a_converted_payout_that_landed_short_differs_by_the_exchange_difference(seeded):
    check, section = _check(seeded, CONVERTED)
    assert check["bank_line"] == "40.00" and check["report_total"] == "54.00" and check["currency"] == "CAD"
    assert check["ties"] is False and check["difference"] == "0.52"  # 40.00 landed; 54.00 CAD × 0.7312 = 39.48
    assert check["verdict"] == "the bank line 40.00 differs from the report's total 54.00 CAD at 0.7312 (39.48) by 0.52"
    assert '<b class="verdict">differs by 0.52</b>' in section


def test_without_a_staged_report_or_a_journal_the_check_says_what_is_missing(seeded):
    check, section = _check(seeded, HELD)  # seeded on hold: neither a journal's memo nor the report is staged
    assert check["bank_line"] is None and check["report_total"] is None and check["ties"] is None
    assert check["verdict"] == "the report's total is not recorded in this state file" and "not compared" in section


def test_a_synced_payout_on_hold_has_the_reports_total_and_no_bank_line_yet(tmp_path):
    from ledgerlink.pipeline import load_pipeline
    from ledgerlink.runtime import sync

    ws = tmp_path / "ws"
    ws.mkdir()
    # the report's header says total-amount -399.94 CAD; it is to be converted to USD, but no rate is given
    cad = SETTLEMENT_FILE.parent / "v2_negative_CAD_23874396999.txt"
    with sandbox_running("qbo") as (qbo, _):
        pipeline = settlements_pipeline(ws, qbo, report=cad, options={"home_currency": "USD", "convert": True})
        report = sync(load_pipeline(pipeline))
        assert report.counts.get("dead_letters_open") == 1, report.counts
    console = _console(ws)
    try:
        check, section = _check(console, "23874396999")
    finally:
        console.workspace.stop()
    assert check == {"bank_line": None, "bank_account": None, "report_total": "-399.94", "currency": "CAD",
                     "report_from": "the staged settlement report", "ties": None, "difference": None,
                     "verdict": "no bank line yet: the payout is on hold"}
    assert "not compared" in section and "on hold" in section


def test_a_synced_payout_reads_the_total_from_its_staged_report(tmp_path):
    from ledgerlink.pipeline import load_pipeline
    from ledgerlink.runtime import sync

    ws = tmp_path / "ws"
    ws.mkdir()
    with sandbox_running("qbo") as (qbo, _):
        report = sync(load_pipeline(settlements_pipeline(ws, qbo)))
        assert report.status == "succeeded", report.counts
    console = _console(ws)
    try:
        check, section = _check(console, SETTLEMENT_FILE_ID)
    finally:
        console.workspace.stop()
    assert check["report_from"] == "the staged settlement report" and check["ties"] is True
    assert check["bank_line"] == check["report_total"] and check["bank_account"] == "Checking"
    assert '<b class="verdict">ties</b>' in section
