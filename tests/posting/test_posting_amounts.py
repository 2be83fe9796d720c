"""The numbers every ledger posts: exact lines, marketplace tax kept out, totals that always add up."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerlink import RecordError
from ledgerlink.posting import order_amounts, rounding_line, unit_price
from posting_helpers import line, order


def test_amounts_of_an_order_with_shipping_discount_and_seller_tax():
    a = order_amounts(order())
    assert [(ln.sku, ln.qty, ln.unit_price, ln.amount, ln.tax) for ln in a.lines] == [
        ("MUG", Decimal(2), Decimal("10.00"), Decimal("20.00"), Decimal("1.60"))]
    assert (a.shipping, a.discount, a.seller_tax, a.marketplace_tax) == (
        Decimal("5.00"), Decimal("2.00"), Decimal("1.60"), Decimal(0))
    assert a.total == Decimal("24.60") == a.net + a.seller_tax


def test_marketplace_collected_tax_never_becomes_the_sellers():
    a = order_amounts(order(tax_collected_by="marketplace"))
    assert a.seller_tax == 0 and a.marketplace_tax == Decimal("1.60")
    assert a.total == Decimal("23.00") == a.net


def test_a_negative_quantity_is_a_record_error_naming_the_line():
    with pytest.raises(RecordError) as err:
        order_amounts(order(lines=[line("7", "MUG", "-1", "-10.00")]))
    assert err.value.field == "lines[0].quantity" and "negative quantity" in str(err.value)
    assert err.value.hint and "refund" in err.value.hint


def test_cancelled_lines_are_left_out_and_a_line_without_sku_is_refused():
    a = order_amounts(order(lines=[line("1", "MUG", "0", "0"), line("2", "CUP", "1", "3.00")]))
    assert [ln.sku for ln in a.lines] == ["CUP"]
    with pytest.raises(RecordError, match="no SKU"):
        order_amounts(order(lines=[line("1", None, "1", "3.00")]))


def test_unit_price_keeps_whole_cents_when_it_can():
    assert unit_price(Decimal("25.98"), Decimal(2), "USD") == Decimal("12.99")
    assert unit_price(Decimal("10.00"), Decimal(3), "USD") == Decimal("3.3333333")
    assert unit_price(Decimal("5"), Decimal(0), "USD") == Decimal("5")


def test_rounding_line_is_the_cents_between_the_ledger_and_the_channel():
    assert rounding_line(Decimal("113.00"), Decimal("112.99"), "USD") == Decimal("0.01")
    assert rounding_line(Decimal("10.00"), Decimal("10.00"), "USD") == 0


cents = st.integers(min_value=0, max_value=10_000_00).map(lambda c: Decimal(c) / 100)
qtys = st.integers(min_value=1, max_value=50).map(Decimal)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(qtys, cents, cents, cents, cents), min_size=1, max_size=6),
       st.sampled_from(["seller", "marketplace"]))
def test_property_amounts_always_add_up_to_the_order_total(rows, collector):
    lines = [line(str(i), f"SKU{i}", str(q), str(amount), tax=str(tax), shipping=str(ship),
                  discount=str(min(disc, amount))) for i, (q, amount, tax, ship, disc) in enumerate(rows)]
    o = order(lines=lines, tax_collected_by=collector)
    a = order_amounts(o)
    assert a.net + a.seller_tax == a.total
    assert a.total + a.marketplace_tax == o.grand_total.amount
    for ln in a.lines:  # QuickBooks' check: Amount = Qty × UnitPrice, to the cent
        assert (ln.qty * ln.unit_price).quantize(Decimal("0.01")) == ln.amount


@settings(max_examples=150, deadline=None)
@given(cents, st.integers(min_value=-300, max_value=300).map(lambda c: Decimal(c) / 100))
def test_property_a_rounding_line_makes_the_totals_equal(expected, drift):
    computed = expected + drift
    assert computed + rounding_line(expected, computed, "USD") == expected
