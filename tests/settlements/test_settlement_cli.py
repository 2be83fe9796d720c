"""`ledgerlink settlements show`: from report rows to document lines and back, out of the pipeline's state file."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from ledgerlink.cli import cli
from ledgerlink.settlements import SettlementOnHold
from ledgerlink.store import Store
from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination
from ledgerlink_qbo.destination import QuickBooksOnlineDestination
from settlement_helpers import PlanCtx, line, order_rows, settlement


def split_settlement(sid="24288684721", total=None):
    return settlement([*order_rows(1, "111-1", "20.00", posted="2025-08-30"),
                       line(5, "other-transaction", "other-transaction", "Storage Fee", "-7.00", posted="2025-08-31"),
                       *order_rows(10, "111-2", "50.00", posted="2025-09-02")],
                      start="2025-08-25", end="2025-09-08", sid=sid, total=total)


@pytest.fixture
def state(tmp_path):
    path = tmp_path / "state.duckdb"
    store = Store(path)
    run = store.runs.start("amazon-to-qbo", False)
    s = split_settlement()
    store.outbox.add("qbo", QuickBooksOnlineDestination().plan(s, PlanCtx()), run)
    held = split_settlement(sid="30000000001", total="1.00")
    try:
        QuickBooksOnlineDestination().plan(held, PlanCtx())
    except SettlementOnHold as exc:
        store.dead_letters.add(stage="plan", stream="settlements", record_key=held.natural_key, record=None,
                               error=exc, run_id=run)
    store.close()
    return path


def test_show_traces_every_row_to_a_document_line_and_each_line_to_its_rows(state):
    result = CliRunner().invoke(cli, ["settlements", "show", str(state), "24288684721", "--json"])
    assert result.exit_code == 0, result.output
    trail = json.loads(result.output)
    assert [d["number"] for d in trail["documents"]] == ["24288684721-2025-08", "24288684721-2025-09"]
    aug = trail["documents"][0]
    assert aug["status"] == "pending" and aug["destination"] == "qbo" and aug["date"] == "2025-08-31"
    sales = next(l for l in aug["lines"] if l["account"] == "Amazon Sales")
    assert sales["posting"] == "Credit" and sales["rows"] == [1] and Decimal(str(sales["amount"])) == Decimal("20.00")
    # and back: each report row names the document line it went to
    assert set(trail["rows"]) == {"1", "2", "3", "5", "10", "11", "12"}
    (target,) = trail["rows"]["5"]
    assert target["document"].endswith("/2025-08")
    assert "storage fees" in aug["lines"][target["line"]]["description"]
    table = CliRunner().invoke(cli, ["settlements", "show", str(state), "24288684721"])
    assert table.exit_code == 0 and "24288684721-2025-09" in table.output and "rows → documents" in table.output


def test_show_says_why_a_settlement_is_on_hold_and_exits_non_zero(state):
    result = CliRunner().invoke(cli, ["settlements", "show", str(state), "30000000001"])
    assert result.exit_code == 3
    assert "on hold" in result.output and "total-amount is 1.00" in result.output


def test_show_of_an_unknown_settlement_is_a_usage_error(state):
    result = CliRunner().invoke(cli, ["settlements", "show", str(state), "999"])
    assert result.exit_code == 2 and "has not been planned" in result.output


def test_show_reads_quickbooks_desktop_documents_too(tmp_path):
    path = tmp_path / "state.duckdb"
    store = Store(path)
    store.outbox.add("qb_desktop", QuickBooksDesktopDestination().plan(split_settlement(), PlanCtx()),
                     store.runs.start("p", False))
    store.close()
    trail = json.loads(CliRunner().invoke(cli, ["settlements", "show", str(path), "24288684721", "--json"]).output)
    assert [d["number"] for d in trail["documents"]] == ["88684721-08", "88684721-09"]
    for doc in trail["documents"]:
        debits = [l for l in doc["lines"] if l["posting"] == "Debit"]
        assert debits and all(l.get("rows") or l["account"] in ("Checking", "Amazon Settlement Carried Forward")
                              for l in doc["lines"])


def test_accounts_prints_the_shipped_map_to_start_from():
    result = CliRunner().invoke(cli, ["settlements", "accounts"])
    assert result.exit_code == 0 and "reserve_current: Amazon Reserve" in result.output


def test_show_starts_the_trail_at_the_real_reports_own_rows(tmp_path, reference_dir):
    """The real Amazon.ca file staged as the Amazon source stages it, planned for QBO as the runtime plans it:
    each report row is shown with what it says and the document line it went to."""
    from ledgerlink import SourceRef, json_dumps
    from test_settlement_real_files import _parse

    path = reference_dir / "amazon-sp-api" / "settlement-reports" / "v1_flatfile_CAD_settlement_24288684721.txt"
    s = _parse(path)  # skips when the parser is not importable
    from ledgerlink_amazon_sp.settlements.parser import decode_settlement_bytes, parse_settlement
    from ledgerlink_amazon_sp.settlements.streams import settlement_record

    record = settlement_record(parse_settlement(decode_settlement_bytes(path.read_bytes()), str(path)))
    state = tmp_path / "state.duckdb"
    store = Store(state)
    run = store.runs.start("amazon-to-qbo", False)
    store.raw.stage("settlements", ["24288684721"], [None], [json_dumps(record)], [None], run)
    s.source_refs = [SourceRef(stream="settlements", key="24288684721")]
    writes = QuickBooksOnlineDestination().plan(s, PlanCtx({"settlements": {"mode": "summary"}}))
    for w in writes:
        w.natural_key = s.natural_key
    store.outbox.add("qbo", writes, run)
    store.close()
    trail = json.loads(CliRunner().invoke(cli, ["settlements", "show", str(state), "24288684721", "--json"]).output)
    (doc,) = trail["documents"]
    assert doc["sources"] == ["settlements/24288684721"] and doc["number"] == "24288684721"
    # row 97 is a ServiceFee row with two amounts: advertising and the tax on it, on two lines
    assert trail["report_rows"]["97"]["transaction-type"] == "ServiceFee"
    assert trail["report_rows"]["97"]["item-related-fee-type"] == "Cost of Advertising"
    lines = {doc["lines"][t["line"]]["account"] for t in trail["rows"]["97"]}
    assert lines == {"Amazon Advertising", "Tax Paid on Fees"}
    bank = [l for l in doc["lines"] if l["account"] == "Checking"]
    assert len(bank) == 1 and Decimal(str(bank[0]["amount"])) == Decimal("1016.08") and not bank[0].get("rows")
    table = CliRunner().invoke(cli, ["settlements", "show", str(state), "24288684721"], env={"COLUMNS": "250"})
    assert "ServiceFee" in table.output and "Cost of Advertising" in table.output
