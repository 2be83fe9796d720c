"""`ledgerlink reconcile` over the in-memory connectors: every kind of difference is found, and a clean
pipeline ties (exit 0)."""

from __future__ import annotations

import csv
import io
import json

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "runtime"))

import fakes  # noqa: E402

from ledgerlink import plugins  # noqa: E402
from ledgerlink.cli import cli  # noqa: E402

PIPELINE = """
version: 1
name: shop
state: {state}
source:
  connector: fake_source
  config: {{orders: 4, no_sku: {no_sku}}}
destination:
  connector: fake_dest
  config: {{}}
"""


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setattr(plugins, "_host", fakes.fresh_host(tmp_path))
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def pipeline(tmp_path, no_sku="[]"):
    p = tmp_path / "shop.yaml"
    p.write_text(PIPELINE.format(state=tmp_path / "shop.duckdb", no_sku=no_sku))
    return str(p)


def findings(runner, path, *args):
    result = runner.invoke(cli, ["reconcile", path, "--json", *args])
    return result.exit_code, json.loads(result.output)


def test_a_clean_pipeline_ties(runner, tmp_path):
    path = pipeline(tmp_path)
    assert runner.invoke(cli, ["sync", path]).exit_code == 0
    code, report = findings(runner, path)
    assert code == 0 and report["ok"] is True and report["findings"] == []
    assert "ledger" in report["checks"] and "ledger" not in report["skipped"]
    assert report["skipped"]["settlements_on_hold"] == "the source reads no settlements"
    human = runner.invoke(cli, ["reconcile", path])
    assert human.exit_code == 0 and "every check that ran ties" in human.output
    headline = next(line for line in human.output.splitlines() if "ties" in line)
    assert "settlements_on_hold" not in headline.split("skipped")[0]  # a skipped check is never said to tie
    assert "skipped settlements_on_hold: the source reads no settlements" in human.output


def test_reconcile_before_any_sync_says_what_to_do(runner, tmp_path):
    result = runner.invoke(cli, ["reconcile", pipeline(tmp_path)])
    assert result.exit_code == 2 and "has not run yet" in result.output


def test_a_dead_letter_is_an_order_not_posted(runner, tmp_path):
    path = pipeline(tmp_path, no_sku="[1]")
    assert runner.invoke(cli, ["sync", path]).exit_code == 3
    code, report = findings(runner, path)
    assert code == 5
    [finding] = [f for f in report["findings"] if f["check"] == "not_posted"]
    assert finding["subject"].startswith("orders ") and "refused at normalise" in finding["message"]


def test_a_failed_write_is_not_posted_with_the_remote_message(runner, tmp_path):
    path = pipeline(tmp_path)
    from ledgerlink import idempotency_key
    fakes.FAILURES[idempotency_key("Receipt", "fake/order/O-0002")] = "permanent"
    try:
        runner.invoke(cli, ["sync", path])
    finally:
        fakes.FAILURES.clear()
    code, report = findings(runner, path, "--check", "not_posted")
    assert code == 5 and report["checks"] == ["not_posted"]
    [finding] = report["findings"]
    assert finding["subject"] == "Receipt fake/order/O-0002" and "Required param missing" in finding["message"]


def test_ledger_edits_deletions_and_strangers_are_found(runner, tmp_path):
    path = pipeline(tmp_path)
    assert runner.invoke(cli, ["sync", path]).exit_code == 0
    receipts = fakes.REMOTE["Receipt"]
    receipts["O-0001"]["Total"] = "999.99"                      # someone edited a posted document
    gone = receipts.pop("O-0003")                                # someone deleted one
    receipts["X-1"] = {**gone, "DocNumber": "X-1", "Id": "99"}   # a document with a key no order planned
    fakes.REMOTE_KEYS[("Receipt", "99")] = "Receipt:not-ours"
    code, report = findings(runner, path)
    assert code == 5
    ledger = {f["subject"]: f for f in report["findings"] if f["check"] == "ledger"}
    assert ledger["Receipt fake/order/O-0001"]["actual"] == "999.99" and ledger["Receipt fake/order/O-0001"]["expected"] == "19.98"
    assert "not found in the ledger" in ledger["Receipt fake/order/O-0003"]["message"]
    assert "no source object planned it" in ledger["Receipt 99"]["message"]
    offline_code, offline = findings(runner, path, "--offline")
    assert offline_code == 0 and offline["skipped"]["ledger"] == "--offline"


def test_csv_has_one_row_per_finding(runner, tmp_path):
    path = pipeline(tmp_path, no_sku="[1, 2]")
    runner.invoke(cli, ["sync", path])
    result = runner.invoke(cli, ["reconcile", path, "--csv"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert result.exit_code == 5 and len(rows) == 2 and {r["check"] for r in rows} == {"not_posted"}


def test_unknown_check_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(cli, ["reconcile", pipeline(tmp_path), "--check", "vibes"])
    assert result.exit_code == 2 and "no reconcile check named vibes" in result.output


def test_settlement_chain_gaps_and_overlaps(tmp_path):
    """Settlements per marketplace and currency must follow one another; a gap is a missing report."""
    from datetime import datetime, timezone

    from ledgerlink import Money, Normaliser, Settlement, jsonutil
    from ledgerlink.reconcile import ReconcileContext, reconcile
    from ledgerlink.store import Store

    calls = []

    def settle(rec, related):
        calls.append(rec["id"])
        day = lambda d: datetime(2026, 1, d, tzinfo=timezone.utc)  # noqa: E731
        return [Settlement(source="test", settlement_id=rec["id"], starts_at=day(rec["start"]), ends_at=day(rec["end"]),
                           total=Money.of("10.00", rec["currency"]))]

    store = Store(tmp_path / "s.duckdb")
    rows = [{"id": "S1", "start": 1, "end": 15, "currency": "CAD"}, {"id": "S2", "start": 15, "end": 29, "currency": "CAD"},
            {"id": "S4", "start": 30, "end": 31, "currency": "CAD"},  # S3 (29→30) never read
            {"id": "U1", "start": 1, "end": 20, "currency": "USD"}, {"id": "U2", "start": 14, "end": 28, "currency": "USD"}]
    store.raw.stage("settlements", [r["id"] for r in rows], [None] * 5, [jsonutil.dumps(r) for r in rows], [None] * 5, 1)
    ctx = ReconcileContext("p", store, None, fakes.FakeDestination(), None,  # type: ignore[arg-type]
                           [Normaliser(stream="settlements", function=settle)], remote=False)
    report = reconcile(ctx, ["settlement_sequence"])
    messages = sorted(f.message for f in report.findings)
    assert len(messages) == 2
    assert messages[0].startswith("no settlement between S2") and "S4" in messages[0]
    assert messages[1] == "settlements U1 and U2 overlap"
    assert len(ctx.canonical(Settlement)) == 5 and len(calls) == 5  # normalised once, whichever checks ask
    store.close()


def test_documents_are_read_back_right_after_posting_and_a_difference_is_a_dead_letter(runner, tmp_path,
                                                                                         monkeypatch):
    """A destination that asks for it (`verify_after_write`) has what this run posted read back at once."""
    from ledgerlink import idempotency_key

    monkeypatch.setattr(fakes.FakeDestination, "verify_after_write", frozenset({"Receipt"}))
    fakes.FAILURES[idempotency_key("Receipt", "fake/order/O-0001")] = "tamper"
    try:
        result = runner.invoke(cli, ["sync", pipeline(tmp_path), "--json"])
    finally:
        fakes.FAILURES.clear()
    counts = json.loads(result.output)["counts"]
    assert result.exit_code == 3 and counts["verified"] == 3 and counts["verify_mismatches"] == 1
    letters = json.loads(runner.invoke(cli, ["dlq", "list", pipeline(tmp_path), "--json"]).output)
    [letter] = [d for d in letters if d["stage"] == "verify"]
    assert "reads back with total 0.01, planned 19.98" in letter["message"]
    again = runner.invoke(cli, ["sync", pipeline(tmp_path), "--json"])  # nothing new posted: nothing to read back
    assert "verified" not in json.loads(again.output)["counts"]
