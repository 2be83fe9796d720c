"""COGS journals from settlement rows: lines per kind and SKU naming units, cost and rows; inventory sellers get
the adjustments only; a SKU without a cost (or a row without a quantity) holds the settlement, naming it; FIFO
runs on across settlements; the options are checked like every other group."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledgerlink import LedgerOptions, OptionsError, check_options
from ledgerlink.cogs import CogsOptions, CostBook, CostEntry, CostsOnHold, MovementHistory, build_cogs_journals, \
    plan_cogs
from ledgerlink.settlements import Role, default_account_map
from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination
from ledgerlink_qbo.destination import QuickBooksOnlineDestination
from cogs_helpers import PlanCtx, damaged, refunded, row, settlement, sold

BOOK = CostBook.of([CostEntry(sku="A", unit_cost=Decimal("4.00")), CostEntry(sku="B", unit_cost=Decimal("2.50"))])


def _build(s, book=BOOK, history=None, **options):
    return build_cogs_journals(s, options=CogsOptions(enabled=True, **options), book=book,
                               accounts=default_account_map(), final_date=s.ends_at.date(), currency="USD",
                               history=history)


def test_sold_refunded_and_damaged_units_move_between_inventory_and_cost_of_goods():
    s = settlement([*sold(1, "A", 3), *sold(3, "B", 2), *refunded(5, "A", 1), *damaged(6, "B")])
    [j] = _build(s)
    assert j.key == "JournalEntry:amazon_sp/settlement/24288684701/cogs" and j.balanced
    got = [(l.role, l.amount, l.rows) for l in j.lines]
    assert got == [
        (Role.COST_OF_GOODS, Decimal("12.00"), [1]), (Role.INVENTORY_ASSET, Decimal("-12.00"), [1]),
        (Role.COST_OF_GOODS, Decimal("5.00"), [3]), (Role.INVENTORY_ASSET, Decimal("-5.00"), [3]),
        (Role.INVENTORY_ASSET, Decimal("4.00"), [5]), (Role.COST_OF_GOODS, Decimal("-4.00"), [5]),
        (Role.INVENTORY_LOSS, Decimal("2.50"), [6]), (Role.INVENTORY_ASSET, Decimal("-2.50"), [6])]
    assert j.lines[0].description == "Cost of goods sold: 3 x A @ 4.00 (unit cost) - settlement 24288684701 rows 1"
    assert j.lines[4].description.startswith("Cost of goods refunded and restocked: 1 x A @ 4.00")
    assert j.lines[6].description.startswith("Cost of goods damaged: 1 x B @ 2.50")
    assert j.txn_date == date(2025, 8, 28) and "costed by fifo" in j.memo


def test_refunds_not_restocked_and_inventory_sellers_keep_their_own_cogs():
    s = settlement([*sold(1, "A", 3), *refunded(3, "A", 1), *damaged(4, "B")])
    [j] = _build(s, restock_refunds=False)
    assert {l.role for l in j.lines} == {Role.COST_OF_GOODS, Role.INVENTORY_ASSET, Role.INVENTORY_LOSS}
    assert not any(l.rows == [3] for l in j.lines)
    [adjust] = _build(s, inventory="quickbooks")  # QuickBooks tracks the items: only the lost/damaged/disposed
    assert [(l.role, l.amount) for l in adjust.lines] == [(Role.INVENTORY_LOSS, Decimal("2.50")),
                                                          (Role.INVENTORY_ASSET, Decimal("-2.50"))]
    assert "adjustments only" in adjust.memo
    assert _build(settlement(sold(1, "A", 2)), inventory="quickbooks") == []


def test_a_sku_without_a_cost_holds_the_settlement_naming_the_sku_and_the_rows():
    s = settlement([*sold(1, "A", 1), *sold(3, "ZZ-NEW", 2), *sold(5, "ZZ-NEW", 1)])
    with pytest.raises(CostsOnHold) as caught:
        _build(s)
    err = caught.value
    assert [m.sku for m in err.missing] == ["ZZ-NEW"] and err.missing[0].refs == ("3", "5")
    assert "SKU 'ZZ-NEW': no unit cost is known for it (rows 3, 5)" in str(err)
    assert "add a line `sku,cost` for ZZ-NEW" in err.hint and "ledgerlink dlq retry" in err.hint
    assert err.key == s.natural_key and err.field == "cogs"


def test_a_cost_history_before_the_sale_is_not_guessed():
    book = CostBook.of([CostEntry(sku="A", unit_cost=Decimal("4"), effective=date(2025, 9, 1))])
    with pytest.raises(CostsOnHold, match=r"no cost is in effect on 2025-08-20 \(the first is from 2025-09-01\)"):
        _build(settlement(sold(1, "A", 1)), book=book)


def test_a_row_that_moves_units_without_a_quantity_or_sku_holds_it():
    s = settlement([row(1, "Order", "ItemPrice", "Principal", "20.00", qty=None),
                    row(2, "Order", "ItemPrice", "Principal", "20.00", sku=None)])
    with pytest.raises(CostsOnHold) as caught:
        _build(s)
    assert "row 1 (Order Principal, SKU SKU-1) has no quantity-purchased" in str(caught.value)
    assert "row 2 (Order Principal) names no SKU" in str(caught.value)


def test_fifo_lots_run_on_across_settlements_and_replanning_values_the_same():
    book = CostBook.of([CostEntry(sku="A", unit_cost=Decimal("1.00"), effective=date(2025, 1, 1), quantity=Decimal(3)),
                        CostEntry(sku="A", unit_cost=Decimal("2.00"), effective=date(2025, 1, 1), quantity=Decimal(10))])
    history = MovementHistory()
    first = settlement(sold(1, "A", 2, posted="2025-08-01"), sid="1", start="2025-07-30", end="2025-08-13")
    second = settlement(sold(1, "A", 2, posted="2025-08-20"), sid="2")
    [j2] = _build(second, book, history)  # posted first, dated later: costed as if alone
    [j1] = _build(first, book, history)
    assert j1.lines[0].amount == Decimal("2.00")  # two units of the first lot
    [j2_again] = _build(second, book, history)  # replanned after the earlier settlement arrived
    assert j2_again.lines[0].amount == Decimal("3.00")  # the last unit of the first lot and one of the second
    assert j2.lines[0].amount == Decimal("2.00")
    [j1_again] = _build(first, book, history)
    assert j1_again.lines == j1.lines  # an earlier settlement never changes with a later one


def test_per_month_dates_each_part_in_its_month():
    s = settlement([*sold(1, "A", 1, posted="2025-07-30"), *sold(3, "A", 2, posted="2025-08-02")],
                   start="2025-07-25", end="2025-08-08")
    journals = _build(s, per="month")
    assert [(j.period, j.txn_date, j.lines[0].amount) for j in journals] == [
        ("2025-07", date(2025, 7, 31), Decimal("4.00")), ("2025-08", date(2025, 8, 8), Decimal("8.00"))]
    assert journals[0].links == [journals[1].key] and journals[1].links == [journals[0].key]


def test_the_planners_add_the_cogs_journal_after_the_payouts_with_their_own_numbers(tmp_path):
    (tmp_path / "costs.csv").write_text("sku,cost\nA,4.00\n")
    s = settlement(sold(1, "A", 2))
    options = {"cogs": {"enabled": True, "costs": str(tmp_path / "costs.csv")}}
    qbo = QuickBooksOnlineDestination().plan(s, PlanCtx(options))
    assert [w.key.rsplit("/", 1)[-1] for w in qbo] == ["24288684701", "cogs"]
    assert qbo[1].data["DocNumber"] == "24288684701-COGS" and qbo[1].line_refs[0][1].key == "24288684701/row/1"
    qbd = QuickBooksDesktopDestination().plan(s, PlanCtx(options))
    body = qbd[1].data["JournalEntryAdd"]
    assert body["RefNumber"] == "C4288684701" and len(body["RefNumber"]) <= 11
    assert body["JournalDebitLine"][0]["AccountRef"]["FullName"] == "Cost of Goods Sold"
    assert body["Memo"].startswith("ledgerlink JournalEntry:amazon_sp/settlement/24288684701/cogs\n")
    assert QuickBooksOnlineDestination().plan(s, PlanCtx({})) == qbo[:1]  # off by default
    assert plan_cogs(s, PlanCtx({})) == []


def test_the_options_refuse_a_misspelt_key_with_the_closest_one():
    with pytest.raises(OptionsError) as caught:
        check_options(LedgerOptions, {"cogs": {"enabled": True, "methd": "fifo", "inventory": "perpetual"}})
    text = str(caught.value)
    assert "destination.options.cogs.methd: unknown key 'methd' (did you mean 'method'?)" in text
    assert "destination.options.cogs.inventory" in text and "summary" in text
    with pytest.raises(OptionsError, match="write the cost in quotes"):
        check_options(LedgerOptions, {"cogs": {"unit_costs": {"A": 4.2}}})
    parsed = check_options(LedgerOptions, {"cogs": {"enabled": True, "method": "moving_average"}})
    assert parsed.cogs.method == "moving_average" and parsed.deferred.enabled is False
