"""Money: Decimal end to end, one rounding policy, no float, no mixed currencies."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerlink import Money, quantize, to_decimal
from ledgerlink.money import minor_units


@pytest.mark.parametrize("text, expected", [
    ("1,234.56", "1234.56"),
    ("12,34", "12.34"),          # decimal comma
    (" 5.00 ", "5.00"),          # padded fixed-width report
    ("5.00   ", "5.00"),
    ("-0.01", "-0.01"),
    ("1.234,56", "1234.56"),     # German report: dot groups, comma is decimal
    ("1 234,56", "1234.56"),     # French report: space groups
    ("1\u00a0234,56", "1234.56"),
    ("1,234,567.89", "1234567.89"),
    ("1.234.567", "1234567"),
    ("1,234", "1234"),           # three digits after a lone comma: thousands
    ("0,500", "0.500"),
    ("-12,5", "-12.5"),
    ("+7", "7"),
    ("0", "0"),
])
def test_to_decimal_parses_report_text(text, expected):
    value = to_decimal(text)
    assert isinstance(value, Decimal)
    assert value == Decimal(expected)
    assert str(value) == expected


def test_to_decimal_keeps_trailing_zeros_from_text():
    assert str(to_decimal("5.10")) == "5.10"


@pytest.mark.parametrize("value", [0.1, 1.0, float("nan"), True, False])
def test_to_decimal_refuses_float_and_bool(value):
    with pytest.raises(TypeError):
        to_decimal(value)


@pytest.mark.parametrize("text", ["abc", "12.34.56,7x", "NaN", "Infinity", "-inf", "$5"])
def test_to_decimal_refuses_text_that_is_not_a_finite_amount(text):
    with pytest.raises(ValueError, match="amount"):
        to_decimal(text)


def test_to_decimal_names_the_field_in_its_error():
    with pytest.raises(ValueError, match="^total-amount: "):
        to_decimal("oops", field="total-amount")


def test_to_decimal_refuses_non_finite_decimals():
    with pytest.raises(ValueError):
        to_decimal(Decimal("NaN"))


def test_to_decimal_passes_ints_and_decimals_through():
    assert to_decimal(42) == Decimal(42)
    d = Decimal("1.005")
    assert to_decimal(d) is d


def test_to_decimal_refuses_other_types():
    with pytest.raises(TypeError):
        to_decimal([1])


def test_money_refuses_float_amounts():
    with pytest.raises((TypeError, ValueError)):
        Money(amount=19.99, currency="USD")
    with pytest.raises(TypeError):
        Money.of("1.00", "USD") * 1.5


def test_money_refuses_to_mix_currencies():
    usd, eur = Money.of("1.00", "USD"), Money.of("1.00", "EUR")
    with pytest.raises(ValueError, match="USD and EUR"):
        usd + eur
    with pytest.raises(ValueError, match="USD and EUR"):
        usd - eur


def test_money_currency_is_an_upper_case_iso_code():
    assert Money.of("1", "usd").currency == "USD"
    with pytest.raises(ValueError):
        Money.of("1", "US")
    with pytest.raises(ValueError):
        Money.of("1", "U$D")


def test_money_arithmetic_is_exact():
    a = Money.of("0.10", "USD")
    assert a + Money.of("0.20", "USD") == Money.of("0.30", "USD")
    assert a - Money.of("0.30", "USD") == Money.of("-0.20", "USD")
    assert -a == Money.of("-0.10", "USD")
    assert a * 3 == Money.of("0.30", "USD") == 3 * a
    assert a * Decimal("0.5") == Money.of("0.05", "USD")


def test_sum_of_money_starts_from_zero():
    assert sum([Money.of("1.10", "GBP"), Money.of("2.20", "GBP")]) == Money.of("3.30", "GBP")


def test_money_is_immutable():
    m = Money.of("1", "USD")
    with pytest.raises(Exception):
        m.amount = Decimal(2)


@pytest.mark.parametrize("amount, currency, expected", [
    ("1234.5", "JPY", "1235"),      # no minor unit, half up
    ("1234.4", "JPY", "1234"),
    ("-0.5", "JPY", "-1"),           # half away from zero
    ("2.345", "USD", "2.35"),
    ("2.344", "USD", "2.34"),
    ("-2.345", "USD", "-2.35"),
    ("0.005", "EUR", "0.01"),
    ("1.0005", "KWD", "1.001"),     # three minor digits
    ("10", "usd", "10.00"),
])
def test_quantize_rounds_half_up_to_the_currencys_minor_unit(amount, currency, expected):
    assert str(quantize(Decimal(amount), currency)) == expected


def test_minor_units_defaults_to_two():
    assert (minor_units("USD"), minor_units("jpy"), minor_units("BHD"), minor_units("XYZ")) == (2, 0, 3, 2)


def test_money_str_and_rounded_use_the_currency_policy():
    assert str(Money.of("1234.5", "JPY")) == "1235 JPY"
    assert Money.of("2.345", "USD").rounded() == Money.of("2.35", "USD")


amount_text = st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2,
                          allow_nan=False, allow_infinity=False).map(str)


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(amount_text, max_size=60))
def test_summing_money_from_decimal_strings_is_exact(texts):
    total = sum((Money.of(t, "USD") for t in texts), Money.zero("USD"))
    # The same sum in integer cents: any float in the path would show up as a difference.
    cents = sum(int(Decimal(t) * 100) for t in texts)
    assert total.amount * 100 == cents
    assert total.rounded().amount == total.amount


@settings(max_examples=200, deadline=None, database=None)
@given(amount_text)
def test_money_parsed_from_text_round_trips_through_str(text):
    m = Money.of(text, "EUR")
    assert Money.of(str(m).split()[0], "EUR") == m


@settings(max_examples=200, deadline=None, database=None)
@given(st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=6, allow_nan=False),
       st.sampled_from(["USD", "JPY", "KWD"]))
def test_quantize_is_within_half_a_minor_unit(amount, currency):
    q = quantize(amount, currency)
    assert abs(q - amount) <= Decimal(1).scaleb(-minor_units(currency)) / 2
    assert quantize(q, currency) == q


@pytest.mark.parametrize("text", ["12.3.4", "1,2,3", "1.23.456"])
def test_malformed_grouping_is_refused_not_guessed(text):
    with pytest.raises(ValueError, match="not an amount"):
        to_decimal(text)
