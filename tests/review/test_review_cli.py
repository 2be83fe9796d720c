"""`ledgerlink review list|show|approve|reject` on a state file the runtime's fakes filled, and its usage errors
(exit 2, nothing changed)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from review_helpers import remote_receipts, with_store

from ledgerlink import json_loads
from ledgerlink.cli import cli
from ledgerlink.review import review_counts
from ledgerlink.runtime import sync


@pytest.fixture
def state(fake_host, make_pipeline):
    """A state file with four receipts awaiting approval."""
    pipeline = make_pipeline(orders=4)
    sync(pipeline, plugin_host=fake_host)
    return str(pipeline.state_path)


def run(*args: str):
    result = CliRunner().invoke(cli, ["review", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_list_shows_what_awaits_approval(state):
    code, out, _ = run("list", state, "--json")
    items = json_loads(out)
    assert code == 0 and [i["key"] for i in items] == [f"Receipt:fake/order/O-{i:04d}" for i in range(4)]
    assert items[0]["summary"]["customer"] == "Fake Store USD" and str(items[0]["summary"]["total"]) == "19.98"
    code, out, _ = run("list", state)
    assert code == 0 and "O-0003" in out and "Fake Store USD" in out


def test_show_prints_the_document_and_its_source_rows(state):
    code, out, _ = run("show", state, "O-0001")
    assert code == 0 and "awaiting" in out and "payload" in out and "order_lines O-0001/1 → line 0" in out
    code, out, _ = run("show", state, "O-0001", "--json")
    doc = json_loads(out)
    lines = [r for r in doc["source_rows"] if r["stream"] == "order_lines" and r["line"] == 0]
    assert doc["payload"]["DocNumber"] == "O-0001" and [r["record"]["sku"] for r in lines] == ["SKU-1"]
    assert [r["record"]["id"] for r in doc["source_rows"] if r["stream"] == "orders"] == ["O-0001"]


def test_approve_and_reject_record_who_and_why(state, fake_host, make_pipeline):
    code, out, _ = run("approve", state, "O-0000", "O-0001", "--by", "ada")
    assert code == 0 and "Receipt:fake/order/O-0000: approved by ada" in out and "next `ledgerlink sync`" in out
    code, out, _ = run("reject", state, "--text", "O-0002", "--by", "bob", "--reason", "duplicate", "--json")
    assert code == 0 and json_loads(out)["keys"] == ["Receipt:fake/order/O-0002"]
    code, out, _ = run("list", state, "--status", "rejected", "--json")
    assert [(i["decided_by"], i["reason"]) for i in json_loads(out)] == [("bob", "duplicate")]
    sync(make_pipeline(orders=4), plugin_host=fake_host)
    assert remote_receipts() == {"O-0000", "O-0001"}
    code, out, _ = run("approve", state, "O-0002", "O-0001", "--by", "ada")
    assert code == 0 and "left as it is (rejected by bob" in out and "left as it is (already posted)" in out


@pytest.mark.parametrize("args, message", [
    (["approve", "{state}"], "say what to approve"),
    (["approve", "{state}", "O-0001", "--all"], "not both"),
    (["approve", "{state}", "O-9"], "no document 'O-9'"),
    (["approve", "{state}", "--min", "ten"], "'ten' is not an amount"),
    (["approve", "{state}", "--min", "NaN"], "is not an amount"),
    (["approve", "{state}", "--from", "2026-13-01"], "--from"),
    (["approve", "{state}", "--min", "20", "--max", "10"], "amount range is empty"),
    (["approve", "{state}", "--from", "2026-02-01", "--to", "2026-01-01"], "date range is empty"),
    (["approve", "{state}", "--all", "--by", ""], "name of who"),
    (["approve", "{state}", "--all", "--post"], "--post needs the pipeline file"),
    (["show", "{state}", ""], "an empty document id"),
    (["list", "missing.duckdb"], "does not exist"),
])
def test_usage_errors_exit_2_and_change_nothing(state, args, message):
    code, out, err = run(*[a.replace("{state}", state) for a in args])
    assert code == 2 and message in out + err, out + err
    assert with_store(state, review_counts)["awaiting_approval"] == 4
