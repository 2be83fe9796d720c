"""`ledgerlink suggest PIPELINE` over a real state file: what is unmapped gets suggestions with ids, `--apply`
writes only the confirmed ones where the pipeline's mappings live and remembers them, and nothing touches the
network (sockets are blocked for the whole run)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ledgerlink.cli import cli
from ledgerlink.store import Store


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("suggestions must not open a socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _pipeline(tmp_path: Path, with_items: bool = True) -> Path:
    state = tmp_path / "state.duckdb"
    store = Store(state)
    settlement = {"format": "V2", "rows": [
        {"line": 2, "values": {"transaction-type": "Order", "amount-type": "ItemPrice", "amount-description": "Principal"}},
        {"line": 3, "values": {"transaction-type": "Order", "amount-type": "ItemFees",
                               "amount-description": "FBA Per Unit Fulfilment Fee"}},
        {"line": 4, "values": {"transaction-type": "other-transaction", "amount-type": "other-transaction",
                               "amount-description": "Lagergebühren"}}]}
    order = {"AmazonOrderId": "111", "PaymentMethod": "Stripe",
             "OrderItems": [{"SellerSKU": "wid_blu_2", "Title": "Widget, Blue (Pack of 2)"},
                            {"SellerSKU": "MUG-RED", "Title": "Red Mug"}]}
    store.raw.stage("settlements", ["s1"], [None], [json.dumps(settlement)], [None], None)
    store.raw.stage("orders", ["111"], [None], [json.dumps(order)], [None], None)
    refs = store.references("qbo")
    if with_items:
        refs.put("Item", "Widget Blue 2-Pack", "1")
        refs.put("Item", "MUG-RED", "2")
    refs.put("PaymentMethod", "Credit Card", "3")
    refs.put("PaymentMethod", "Cash", "4")
    if with_items:
        refs.put("Account", "Amazon Clearing", "5")
        refs.put("Account", "Undeposited Funds", "6")
        refs.put("Account", "Sales", "7")
    store.db.close()
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(f"""# the shop's pipeline
name: shop
state: {state}
source: {{connector: amazon_sp, config: {{}}}}
destination:
  connector: qbo
  config: {{realm_id: "1"}}
  options:
    items: {{match: sku_map, sku_map: {{OLD-1: Old Item}}}}
""")
    return pipeline


def test_table_and_json_list_only_what_is_unmapped(tmp_path, no_network):
    pipeline = _pipeline(tmp_path)
    out = CliRunner().invoke(cli, ["suggest", str(pipeline), "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    subjects = {(s["kind"], s["subject"]) for s in report["suggestions"]}
    assert ("items", "wid_blu_2") in subjects
    assert ("items", "MUG-RED") not in subjects  # the ledger has it by that name
    assert not any(s == ("roles", "Order / ItemPrice / Principal") for s in subjects)  # the role table knows it
    best = {}
    for s in report["suggestions"]:
        best.setdefault((s["kind"], s["subject"]), s)
    assert best[("roles", "Order / ItemFees / FBA Per Unit Fulfilment Fee")]["target"] == "fba_fees"
    assert best[("roles", "other-transaction / other-transaction / Lagergebühren")]["target"] == "storage_fees"
    assert best[("items", "wid_blu_2")]["target"] == "Widget Blue 2-Pack"
    assert best[("payments", "Stripe")]["target"] == "Credit Card"
    assert best[("payments", "amazon deposits")]["target"] == "Amazon Clearing"
    assert all(0 <= s["confidence"] <= 1 and s["reason"] for s in report["suggestions"])
    table = CliRunner().invoke(cli, ["suggest", str(pipeline), "--kind", "roles"])
    assert table.exit_code == 0 and "fba_fees" in table.output and "Widget" not in table.output


def test_apply_writes_confirmed_ones_and_they_teach_the_next_run(tmp_path, no_network):
    pipeline = _pipeline(tmp_path)
    report = json.loads(CliRunner().invoke(cli, ["suggest", str(pipeline), "--json"]).output)
    first = {}
    for s in report["suggestions"]:
        first.setdefault((s["kind"], s["subject"]), s)
    chosen = [first[("items", "wid_blu_2")]["id"],
              first[("roles", "Order / ItemFees / FBA Per Unit Fulfilment Fee")]["id"]]
    out = CliRunner().invoke(cli, ["suggest", str(pipeline), "--apply", *chosen])
    assert out.exit_code == 0, out.output
    data = yaml.safe_load(pipeline.read_text())
    assert data["destination"]["options"]["items"]["sku_map"] == {"OLD-1": "Old Item", "wid_blu_2": "Widget Blue 2-Pack"}
    assert list(data) == ["name", "state", "source", "destination"]  # key order kept
    role_file = tmp_path / data["destination"]["options"]["settlements"]["roles"]
    rules = yaml.safe_load(role_file.read_text())["rules"]
    assert rules == [{"transaction_type": "Order", "amount_type": "ItemFees",
                      "amount_description": "FBA Per Unit Fulfilment Fee", "role": "fba_fees"}]
    assert (tmp_path / "p.yaml.bak").read_text().startswith("# the shop's pipeline")
    accepted = json.loads((tmp_path / ".ledgerlink" / "accepted-suggestions.json").read_text())["accepted"]
    assert {a["subject"] for a in accepted} == {"wid_blu_2", "Order / ItemFees / FBA Per Unit Fulfilment Fee"}
    # applied ones are no longer suggested; the rest still are
    again = json.loads(CliRunner().invoke(cli, ["suggest", str(pipeline), "--json"]).output)
    subjects = {s["subject"] for s in again["suggestions"]}
    assert "wid_blu_2" not in subjects and "Order / ItemFees / FBA Per Unit Fulfilment Fee" not in subjects
    assert "other-transaction / other-transaction / Lagergebühren" in subjects


def test_unknown_id_is_a_clear_error(tmp_path, no_network):
    out = CliRunner().invoke(cli, ["suggest", str(_pipeline(tmp_path)), "--apply", "deadbeef"])
    assert out.exit_code == 2
    assert "no suggestion with id deadbeef" in out.output


def test_a_ledger_with_no_items_or_accounts_is_a_note_not_a_crash(tmp_path, no_network):
    out = CliRunner().invoke(cli, ["suggest", str(_pipeline(tmp_path, with_items=False)), "--kind", "items",
                                   "--kind", "payments"])
    assert out.exit_code == 0, out.output
    assert "item list is empty" in out.output
    assert "no accounts here" in out.output


def test_apply_a_deposit_account_and_a_rule_into_an_empty_rule_list(tmp_path, no_network):
    pipeline = _pipeline(tmp_path)
    (tmp_path / "mine-roles.yaml").write_text("# my rules\nrules: []\n")
    text = pipeline.read_text().replace("    items:", "    settlements: {roles: mine-roles.yaml}\n    items:")
    pipeline.write_text(text)
    report = json.loads(CliRunner().invoke(cli, ["suggest", str(pipeline), "--json"]).output)
    first = {}
    for s in report["suggestions"]:
        first.setdefault((s["kind"], s["subject"]), s)
    chosen = [first[("payments", "amazon deposits")]["id"],
              first[("roles", "other-transaction / other-transaction / Lagergebühren")]["id"]]
    out = CliRunner().invoke(cli, ["suggest", str(pipeline), "--apply", *chosen])
    assert out.exit_code == 0, out.output
    options = yaml.safe_load(pipeline.read_text())["destination"]["options"]
    assert options["channels"] == {"amazon": {"deposit_account": "Amazon Clearing"}}
    role_text = (tmp_path / "mine-roles.yaml").read_text()
    assert role_text.startswith("# my rules")  # the role file's comments stay
    assert yaml.safe_load(role_text)["rules"][0]["amount_description"] == "Lagergebühren"
    assert "Lagergebühren" in role_text  # written as it reads, not escaped


def test_a_pipeline_that_never_ran_is_a_clear_error(tmp_path):
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(f"name: shop\nstate: {tmp_path / 'none.duckdb'}\nsource: {{connector: amazon_sp}}\n"
                        "destination: {connector: qbo}\n")
    out = CliRunner().invoke(cli, ["suggest", str(pipeline)])
    assert out.exit_code == 2 and "has not run yet" in out.output
