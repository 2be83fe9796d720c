"""Unit costs: the costs file (prices, a landed-cost history, received lots), inline costs, the ledger's item
cost, and the errors a bookkeeper gets for a bad line (file:line, the column, what to write)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledgerlink import ConfigError
from ledgerlink.cogs import CogsOptions, CostBook, cost_book, costs_from_items, parse_costs_text


def test_a_costs_file_holds_prices_a_dated_history_and_lots():
    book = parse_costs_text("SKU,Unit Cost,Effective Date,Qty\nA,4.20,,\nB,5.00,2025-01-01,\nB,5.50,2025-07-01,\n"
                            "C,2.00,2025-03-01,100\nC,2.40,2025-06-01,50\n", "costs.csv")
    assert book.price_on("A", date(2020, 1, 1)).unit_cost == Decimal("4.20")
    assert book.price_on("B", date(2025, 6, 30)).unit_cost == Decimal("5.00")
    assert book.price_on("B", date(2025, 7, 1)).unit_cost == Decimal("5.50")
    assert book.price_on("B", date(2024, 12, 31)) is None  # no cost in effect yet: held, never guessed
    assert [(l.quantity, l.unit_cost) for l in book.lots("C")] == [(100, Decimal("2.00")), (50, Decimal("2.40"))]
    assert book.price_on("B", date(2025, 7, 1)).origin == "costs.csv:4"


@pytest.mark.parametrize("text, said", [
    ("sku\nA\n", "no 'cost' column"),
    ("sku,cost\n,4.20\n", "costs.csv:2: sku is empty"),
    ("sku,cost\nA,four\n", "costs.csv:2: cost 'four' is not a number"),
    ("sku,cost\nA,-1\n", "costs.csv:2: cost -1 is out of range"),
    ("sku,cost,effective_date\nA,1,01/02/2025\n", "costs.csv:2: effective_date '01/02/2025' is not a date"),
    ("sku,cost,quantity\nA,1,0\n", "costs.csv:2: quantity 0 is not a positive number of units"),
    ("", "is empty"),
])
def test_a_bad_costs_line_is_named_with_what_to_write(text, said):
    with pytest.raises(ConfigError, match=said) as caught:
        parse_costs_text(text, "costs.csv")
    assert caught.value.hint


def test_the_costs_file_wins_over_inline_costs_and_a_missing_file_says_how_to_make_one(tmp_path):
    (tmp_path / "costs.csv").write_text("sku,cost\nA,4.20\n")
    options = CogsOptions(enabled=True, costs="costs.csv", base_dir=str(tmp_path), unit_costs={"A": "9", "B": "1.5"})
    book = cost_book(options)
    assert book.price_on("A", date.today()).unit_cost == Decimal("4.20")
    assert book.price_on("B", date.today()).unit_cost == Decimal("1.5")
    with pytest.raises(ConfigError, match="does not exist") as caught:
        cost_book(CogsOptions(enabled=True, costs="nope.csv", base_dir=str(tmp_path)))
    assert "ledgerlink cogs costs" in caught.value.hint


def test_the_ledgers_item_costs_read_qbo_and_qbd_items_and_leave_out_items_without_a_cost():
    book = costs_from_items([{"Name": "Mug", "Sku": "LL-MUG", "PurchaseCost": Decimal("5.10")},
                             {"Name": "Tea", "PurchaseCost": 0},  # no cost: held later, never a zero
                             {"FullName": "Kettle", "AverageCost": "12.34", "PurchaseCost": "11.00"},
                             {"Name": "Float", "PurchaseCost": 2.5}])
    assert isinstance(book, CostBook)
    assert book.price_on("LL-MUG", date.today()).unit_cost == Decimal("5.10")
    assert book.price_on("Kettle", date.today()).unit_cost == Decimal("12.34")
    assert book.price_on("Float", date.today()).unit_cost == Decimal("2.5")
    assert not book.knows("Tea")
