"""Summary and per-order posting: balanced journals whose bank line is the settlement's total, to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledgerlink import ConfigError, Money, Settlement
from ledgerlink.settlements import (
    BALANCE_SHEET_ROLES, Role, SettlementOnHold, SettlementOptions, build_journals, check_ties, default_account_map,
    default_role_table, journals_for, row_ranges,
)
from settlement_helpers import line, order_rows, settlement

D = Decimal


def post(s: Settlement, **options):
    return journals_for(s, SettlementOptions(**options))


def bank(journals) -> Decimal:
    return sum((l.amount for j in journals for l in j.lines if l.role in (Role.BANK, Role.PAYABLE_TO_AMAZON)
                and not l.rows), D(0))


def net(journals, account: str) -> Decimal:
    return sum((j.net(account) for j in journals), D(0))


def test_summary_posts_one_balanced_journal_with_totals_per_role_and_the_deposit_on_the_bank():
    s = settlement([*order_rows(1, "111-1", "20.00", shipping="4.99", promo="-2.00"),
                    *order_rows(10, "111-2", "35.50"),
                    *order_rows(20, "111-1", "-20.00", commission="2.00", fba=None, tt="Refund"),
                    line(30, "Refund", "ItemFees", "RefundCommission", "-0.60", order_id="111-1")])
    (j,) = post(s)
    assert j.balanced and j.key == "JournalEntry:amazon_sp/settlement/12345678901"
    amounts = {l.role: l.amount for l in j.lines}
    assert amounts == {Role.SALES: D("-55.50"), Role.SHIPPING_INCOME: D("-4.99"), Role.PROMOTIONS: D("2.00"),
                       Role.REFUNDS: D("20.00"), Role.COMMISSION: D("1.00"),
                       Role.REFUND_COMMISSION: D("0.60"), Role.FBA_FEES: D("6.00"), Role.BANK: s.total.amount}
    assert s.total.amount == D("30.89")
    assert j.txn_date == date(2025, 8, 28) and j.currency == "USD"
    sales = j.lines_for(Role.SALES)[0]
    assert sales.rows == [1, 10] and sales.settlement_id == "12345678901" and sales.posting_type == "Credit"
    assert "settlement 12345678901 rows 1, 10" in sales.description
    assert j.rows == sorted(l.row for l in s.lines)


def test_a_role_whose_rows_net_to_zero_posts_no_line_but_keeps_its_rows():
    s = settlement([*order_rows(1, "111-1", "20.00", commission="-1.50"),
                    *order_rows(5, "111-1", "-20.00", commission="1.50", fba=None, tt="Refund")])
    (j,) = post(s)
    assert Role.COMMISSION not in {l.role for l in j.lines}
    assert [(n.role, n.rows) for n in j.netted] == [(Role.COMMISSION, [2, 6])]
    assert j.rows == [1, 2, 3, 5, 6]


def test_rows_that_do_not_add_up_to_the_total_hold_the_settlement():
    s = settlement(order_rows(1, "111-1", "20.00"), total="15.51")
    assert check_ties(s) == ["its 3 rows add up to 15.50 USD but its total-amount is 15.51 USD (difference 0.01)"]
    with pytest.raises(SettlementOnHold, match="total-amount is 15.51") as caught:
        post(s)
    assert caught.value.field == "total" and caught.value.key == "amazon_sp/settlement/12345678901"


def test_a_row_in_another_currency_holds_the_settlement():
    s = settlement([*order_rows(1, "111-1", "20.00"), line(9, "Order", "ItemFees", "Commission", "-1", currency="EUR")],
                   total="14.50")
    with pytest.raises(SettlementOnHold, match="rows 9 are in EUR, the settlement in USD"):
        post(s)


def test_reserves_held_and_released_go_to_a_balance_sheet_account():
    s = settlement([*order_rows(1, "111-1", "100.00"),
                    line(10, "other-transaction", "other-transaction", "Previous Reserve Amount Balance", "40.00"),
                    line(11, "other-transaction", "other-transaction", "Current Reserve Amount", "-55.00")])
    (j,) = post(s)
    reserve = default_account_map().account(Role.RESERVE_CURRENT).name
    assert {Role.RESERVE_CURRENT, Role.RESERVE_PREVIOUS} <= BALANCE_SHEET_ROLES
    assert j.lines_for(Role.RESERVE_CURRENT)[0].amount == D("55.00")      # held: the reserve grows (debit)
    assert j.lines_for(Role.RESERVE_PREVIOUS)[0].amount == D("-40.00")    # released: it shrinks (credit)
    assert j.net(reserve) == D("15.00")
    assert bank([j]) == s.total.amount == D("80.50")


def test_a_negative_settlement_is_payable_to_amazon_and_the_next_one_clears_it():
    first = settlement([line(1, "other-transaction", "other-transaction", "Subscription Fee", "-39.99"),
                        line(2, "other-transaction", "other-transaction", "Storage Fee", "-12.40")], sid="20000000001")
    (j1,) = post(first)
    assert j1.lines[-1].role == Role.PAYABLE_TO_AMAZON and j1.lines[-1].amount == D("-52.39")
    assert Role.BANK not in {l.role for l in j1.lines}
    second = settlement([*order_rows(1, "111-9", "80.00"),
                         line(9, "Payable to Amazon", "other-transaction", "Payable to Amazon", "-52.39")],
                        sid="20000000002")
    (j2,) = post(second)
    payable = default_account_map().account(Role.PAYABLE_TO_AMAZON).name
    assert net([j1, j2], payable) == 0
    assert bank([j2]) == second.total.amount == D("23.11")
    # or charged to the bank at once, when the seller wants it there
    (j3,) = post(first, negative_total="bank")
    assert j3.lines[-1].role == Role.BANK and j3.lines[-1].amount == D("-52.39")


def test_a_charge_to_the_sellers_card_offsets_the_payable():
    s = settlement([line(1, "Payable to Amazon", "other-amount", None, "-62.31"),
                    line(2, "Successful charge", "other-amount", None, "62.31"),
                    *order_rows(3, "111-1", "10.00")])
    (j,) = post(s)
    assert j.lines_for(Role.NEGATIVE_BALANCE_CHARGE)[0].amount == D("-62.31")
    assert j.lines_for(Role.PAYABLE_TO_AMAZON)[0].amount == D("62.31")
    assert bank([j]) == D("5.50")


def test_marketplace_facilitator_tax_nets_to_zero_and_seller_tax_stays_payable():
    s = settlement([*order_rows(1, "111-1", "20.00", tax="1.60", mft=True),      # WA: Amazon collects and remits
                    *order_rows(10, "111-2", "30.00", tax="2.40", mft=False)])   # seller-collected tax
    (j,) = post(s)
    mft = default_account_map().account(Role.MARKETPLACE_TAX).name
    assert j.lines_for(Role.MARKETPLACE_TAX)[0].amount == D("-1.60")
    assert j.lines_for(Role.MARKETPLACE_TAX_WITHHELD)[0].amount == D("1.60")
    assert j.net(mft) == 0
    assert j.lines_for(Role.TAX_COLLECTED)[0].amount == D("-2.40") and j.lines_for(Role.TAX_COLLECTED)[0].rows == [11]
    assert bank([j]) == s.total.amount


def test_a_settlement_crossing_a_month_end_posts_two_linked_journals_each_in_its_month():
    s = settlement([*order_rows(1, "111-1", "20.00", posted="2025-08-30"),
                    line(5, "other-transaction", "other-transaction", "Storage Fee", "-7.00", posted="2025-08-31"),
                    *order_rows(10, "111-2", "50.00", posted="2025-09-02")],
                   start="2025-08-25", end="2025-09-08", deposit="2025-09-10")
    aug, sep = post(s)
    cf = default_account_map().account(Role.CARRIED_FORWARD).name
    assert (aug.txn_date, sep.txn_date) == (date(2025, 8, 31), date(2025, 9, 8))
    assert (aug.period, sep.period, aug.part, sep.part, aug.parts) == ("2025-08", "2025-09", 1, 2, 2)
    assert aug.key.endswith("/settlement/12345678901/2025-08") and sep.links == [aug.key] and aug.links == [sep.key]
    assert aug.balanced and sep.balanced
    assert aug.net(cf) == D("8.50") and sep.net(cf) == D("-8.50")   # carried forward, then brought back
    assert bank([aug]) == 0 and bank([sep]) == s.total.amount == D("54.00")
    assert aug.rows == [1, 2, 3, 5] and sep.rows == [10, 11, 12]
    assert "part 1 of 2" in aug.memo and sep.key in aug.memo
    # the split can be turned off: one journal on the end date
    (whole,) = post(s, split_by_month=False)
    assert whole.txn_date == date(2025, 9, 8) and bank([whole]) == D("54.00")
    # dated by the deposit instead
    *_, last = post(s, date="deposit")
    assert last.txn_date == date(2025, 9, 10)


def test_per_order_mode_sends_what_the_order_flow_posted_to_clearing():
    s = settlement([*order_rows(1, "111-1", "20.00", shipping="5.00", promo="-1.00"),
                    *order_rows(10, "111-2", "35.00", tax="2.80"),
                    *order_rows(20, "111-1", "-20.00", commission="2.00", fba=None, tt="Refund"),
                    line(30, "other-transaction", "other-transaction", "Current Reserve Amount", "-10.00")])
    (j,) = post(s, mode="per_order")
    clearing = j.lines_for(Role.CLEARING)[0]
    # receipts put 20 + 5 − 1 and 35 + 2.80 into clearing; the refund took 20 out: the journal takes the rest out
    assert clearing.amount == D("-41.80")
    assert not {Role.SALES, Role.SHIPPING_INCOME, Role.PROMOTIONS, Role.REFUNDS, Role.TAX_COLLECTED} & \
        {l.role for l in j.lines}
    assert j.lines_for(Role.RESERVE_CURRENT)[0].amount == D("10.00")
    assert j.balanced and bank([j]) == s.total.amount
    posted_by_order_flow = D("20.00") + D("5.00") - D("1.00") + D("35.00") + D("2.80") - D("20.00")
    assert posted_by_order_flow + clearing.amount == 0   # the clearing account nets to zero


def test_sub_cent_rows_are_rounded_line_by_line_into_a_rounding_line():
    s = settlement([line(1, "Order", "ItemPrice", "Principal", "10.004"), line(2, "Order", "ItemPrice", "Shipping", "2.004"),
                    line(3, "Order", "ItemFees", "Commission", "-1.008")])
    (j,) = post(s)
    assert all(l.amount == l.amount.quantize(D("0.01")) for l in j.lines)
    assert j.balanced and bank([j]) == D("11.00")
    assert j.lines_for(Role.ROUNDING)[0].amount == D("-0.01")


def cad(lines_total: list) -> Settlement:
    return settlement([*order_rows(1, "701-1", "100.00", currency="CAD"),
                       line(9, "other-transaction", "other-transaction", "Subscription Fee", "-10.00", currency="CAD")],
                      currency="CAD", sid="24288684721")


def test_a_foreign_settlement_posts_in_its_currency_with_the_exchange_rate():
    s = cad([])
    (j,) = post(s, home_currency="USD", exchange_rates={"CAD": "0.7312"})
    assert j.currency == "CAD" and j.exchange_rate == D("0.7312")
    assert bank([j]) == s.total.amount == D("85.50")
    (j,) = post(s, home_currency="USD", exchange_rates={"24288684721": "0.75", "CAD": "0.7312"})
    assert j.exchange_rate == D("0.75")


def test_a_converted_deposit_posts_in_the_home_currency_with_an_fx_line():
    s = cad([])
    (j,) = post(s, home_currency="USD", exchange_rates={"CAD": "0.7312"}, convert=True,
                deposits={"24288684721": "62.00"})
    assert j.currency == "USD" and j.balanced
    assert j.lines_for(Role.BANK)[0].amount == D("62.00") and j.lines_for(Role.BANK)[0].source_amount == D("85.50")
    expected = (D("85.50") * D("0.7312")).quantize(D("0.01"))   # 62.52
    assert j.lines_for(Role.FX)[0].amount == expected - D("62.00")  # 0.52 lost in the conversion: a debit
    assert j.lines_for(Role.SALES)[0].amount == D("-73.12") and j.lines_for(Role.SALES)[0].source_amount == D("-100.00")
    assert "85.50 CAD deposited as 62.00 USD" in j.lines_for(Role.FX)[0].description


def test_a_converted_settlement_without_a_rate_is_on_hold():
    with pytest.raises(SettlementOnHold, match="no exchange rate"):
        post(cad([]), home_currency="USD", convert=True)


def test_an_empty_settlement_posts_nothing_and_options_are_checked():
    assert post(settlement([], total="0")) == []
    with pytest.raises(ConfigError, match="destination.options.settlements.mode"):
        from ledgerlink.settlements import parse_settlement_options
        parse_settlement_options({"settlements": {"mode": "weekly"}})


def test_row_ranges_are_compact():
    assert row_ranges([9, 3, 4, 5, 5, 12]) == "3-5, 9, 12"
    assert row_ranges([]) == ""


def test_build_journals_can_be_called_without_options():
    s = settlement(order_rows(1, "111-1", "20.00"))
    (j,) = build_journals(s, table=default_role_table(), accounts=default_account_map())
    assert j.mode == "summary" and bank([j]) == D("15.50")
    assert Money.of("15.50", "USD") == s.total


def test_a_settlement_spanning_three_months_carries_each_months_balance_to_the_last():
    s = settlement([line(1, "Order", "ItemPrice", "Principal", "10.005", posted="2025-07-20"),
                    line(2, "Order", "ItemPrice", "Principal", "10.005", posted="2025-08-20"),
                    line(3, "Order", "ItemPrice", "Principal", "10.00", posted="2025-09-02")],
                   start="2025-07-15", end="2025-09-05")
    jul, aug, sep = post(s)
    cf = default_account_map().account(Role.CARRIED_FORWARD).name
    assert [j.net(cf) for j in (jul, aug, sep)] == [D("10.01"), D("10.01"), D("-20.02")]
    assert all(j.balanced for j in (jul, aug, sep)) and bank([sep]) == s.total.amount == D("30.01")
    assert [str(j.txn_date) for j in (jul, aug, sep)] == ["2025-07-31", "2025-08-31", "2025-09-05"]
    assert set(jul.links) == {aug.key, sep.key}
