"""`ledgerlink cogs costs PIPELINE`: the item costs QuickBooks already knows, read through the ledger's source side
(QuickBooks Online: the qbo source's items stream, with the pipeline's stored, rotated refresh token; QuickBooks
Desktop: the stock snapshot the Web Connector writes), added to the costs file for SKUs it does not name yet."""

from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import CliRunner

from ledgerlink.cli import cli
from ledgerlink.cogs import costs_from_items, load_costs_file
from ledgerlink.cogs.ledger_costs import add_to_costs_file
from ledgerlink.pipeline import load_pipeline
from ledgerlink.runtime import sync
from ledgerlink_qb_desktop.stock import snapshot_row
from sandbox_helpers import amazon_env, qbo_env, sandbox_running, write_shipped


@pytest.mark.slow
def test_the_qbo_item_costs_go_into_the_costs_file_without_overwriting_a_line(tmp_path, monkeypatch):
    costs = tmp_path / "costs.csv"
    costs.write_text("sku,cost\nLL-MUG-11OZ,5.99\n")

    def edit(text: str) -> str:
        return text.replace("  options:\n    settlements:\n",
                            f"  options:\n    cogs:\n      costs: {costs}\n    settlements:\n", 1)

    with sandbox_running("amazon_sp", orders=5) as (amazon, _), sandbox_running("qbo") as (qbo, sandbox):
        income = sandbox.company.save("Account", {"Name": "Product Sales", "AccountType": "Income"})["Id"]
        for name, sku, cost in (("Mug 11oz", "LL-MUG-11OZ", "4.00"), ("Mug 15oz", "LL-MUG-15OZ", "4.50"),
                                ("Tea", "LL-TEA-EARL-100", "0")):
            sandbox.company.save("Item", {"Name": name, "Sku": sku, "Type": "NonInventory",
                                          "PurchaseCost": Decimal(cost), "IncomeAccountRef": {"value": income}})
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon), **qbo_env(qbo)}
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        pipeline_file = write_shipped(tmp_path, "amazon-settlements-to-qbo.yaml", edit)
        assert sync(load_pipeline(pipeline_file, env=env)).status == "succeeded"  # the token has rotated since
        result = CliRunner().invoke(cli, ["cogs", "costs", str(pipeline_file)])
        assert result.exit_code == 0, result.output
        assert "1 SKU(s) added from the ledger's item costs, 1 already there (LL-MUG-15OZ)" in result.output
        book = load_costs_file(costs)
        assert book.entries["LL-MUG-11OZ"][0].unit_cost == Decimal("5.99")  # the bookkeeper's line stays
        assert book.entries["LL-MUG-15OZ"][0].unit_cost == Decimal("4.50")
        assert not book.knows("LL-TEA-EARL-100")  # no cost in QuickBooks: not written as a zero
        again = CliRunner().invoke(cli, ["cogs", "costs", str(pipeline_file)])
        assert again.exit_code == 0 and "0 SKU(s) added" in again.output


def test_the_qbd_snapshot_keeps_the_item_cost_and_a_pipeline_without_a_costs_file_is_told(tmp_path):
    row = snapshot_row({"ListID": "80000001-1", "Name": "LL-KTL-GOOSE", "FullName": "LL-KTL-GOOSE",
                        "QuantityOnHand": "12", "PurchaseCost": "18.00", "AverageCost": "17.25"})
    book = costs_from_items([row])
    out = tmp_path / "new-costs.csv"
    added, kept = add_to_costs_file(out, book)
    assert (added, kept) == (["LL-KTL-GOOSE"], 0)
    assert out.read_text().splitlines() == ["sku,cost,effective_date,quantity,currency", "LL-KTL-GOOSE,17.25,,,"]
    pipeline_file = write_shipped(tmp_path, "amazon-settlements-to-qbo.yaml")
    result = CliRunner().invoke(cli, ["cogs", "costs", str(pipeline_file)])
    assert result.exit_code == 2 and "names no costs file" in result.output
