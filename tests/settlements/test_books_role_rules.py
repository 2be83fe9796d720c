"""The default role table read as an accountant would: every rule lands on its role, a refund-like transaction
(A-to-z guarantee refund, chargeback, localised refund wordings) is never booked as sales, and a transaction type no
rule names holds rather than being guessed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink import ConfigError
from ledgerlink.settlements import Role, SettlementOnHold, SettlementOptions, default_role_table, journals_for
from ledgerlink.settlements.role_table import normalise_word, parse_rules
from settlement_helpers import line, order_rows, settlement

_TABLE = default_role_table()


@pytest.mark.parametrize("rule", _TABLE.rules, ids=[r.describe() for r in _TABLE.rules])
def test_each_default_rule_lands_on_its_own_role(rule):
    """No other rule shadows one of the table's rules: a row in the rule's own words gets the rule's role
    (a "*" field is filled with a word no rule names)."""
    words = [getattr(rule, f) if getattr(rule, f) is not None else "SomethingNoRuleNames"
             for f in ("transaction_type", "amount_type", "amount_description")]
    assert _TABLE.role_of(*words) == rule.role, rule.where


REFUND_TYPES = ["Refund", "Chargeback Refund", "Chargeback", "A-to-z Guarantee Refund", "A-to-z Guarantee Claim",
                "RefundEvent", "ChargebackEvent", "GuaranteeClaimEvent", "Erstattung", "Rückerstattung",
                "Remboursement", "Reembolso", "Rimborso", "返金", "Terugbetaling", "Zwrot", "Återbetalning"]


@pytest.mark.parametrize("tt", REFUND_TYPES)
@pytest.mark.parametrize("desc", ["Principal", "Shipping", "GiftWrap", "ExportCharge"])
def test_what_the_buyer_paid_given_back_is_a_refund_whatever_the_wording(tt, desc):
    assert _TABLE.role_of(tt, "ItemPrice", desc) == Role.REFUNDS
    assert _TABLE.role_of(tt, "price-amount", desc) == Role.REFUNDS  # V1 flat file


@pytest.mark.parametrize("tt", ["Order", "order payment", "Bestellung", "Commande", "Pedido", "Ordine", "注文",
                                "Bestelling", "Zamówienie"])
@pytest.mark.parametrize("desc, role", [("Principal", Role.SALES), ("Shipping", Role.SHIPPING_INCOME),
                                        ("GiftWrap", Role.GIFT_WRAP), ("ExportCharge", Role.SHIPPING_INCOME)])
def test_what_the_buyer_paid_on_an_order_is_income_in_every_marketplaces_wording(tt, desc, role):
    assert _TABLE.role_of(tt, "ItemPrice", desc) == role


@pytest.mark.parametrize("tt, at, desc, role", [
    # tax collected, and its reversal on every kind of refund, is the same account
    ("A-to-z Guarantee Refund", "ItemPrice", "Tax", Role.TAX_COLLECTED),
    ("Chargeback Refund", "ItemPrice", "ShippingTax", Role.TAX_COLLECTED),
    ("Refund", "ItemPrice", "GiftWrapTax", Role.TAX_COLLECTED),
    # money given back whatever the transaction
    ("Refund", "ItemPrice", "ReturnShipping", Role.REFUNDS),
    ("Refund", "ItemPrice", "RestockingFee", Role.REFUNDS),
    ("Order", "ItemPrice", "Goodwill", Role.REFUNDS),
    # a promotion's principal is a discount, also on a refund or an A-to-z guarantee refund
    ("A-to-z Guarantee Refund", "Promotion", "Principal", Role.PROMOTIONS),
    ("Refund", "promotion-amount", "Shipping", Role.PROMOTIONS),
    # fees returned or charged on a refund keep their own role
    ("A-to-z Guarantee Refund", "ItemFees", "Commission", Role.COMMISSION),
    ("A-to-z Guarantee Refund", "ItemFees", "RefundCommission", Role.REFUND_COMMISSION),
    ("Chargeback Refund", "ItemFees", "ShippingChargeback", Role.SHIPPING_LABELS),
    ("Refund", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", Role.MARKETPLACE_TAX_WITHHELD),
])
def test_refund_rows_other_than_the_price_keep_their_role(tt, at, desc, role):
    assert _TABLE.role_of(tt, at, desc) == role


@pytest.mark.parametrize("tt", ["Adjustment", "Order_Retrocharge", "", "BrandNewType"])
def test_a_price_on_a_transaction_type_no_rule_names_is_not_guessed_to_be_a_sale(tt):
    assert _TABLE.role_of(tt, "ItemPrice", "Principal") is None


def test_an_a_to_z_guarantee_refund_is_booked_as_a_refund_not_sales():
    s = settlement([*order_rows(1, "111-1", "20.00"),
                    line(9, "A-to-z Guarantee Refund", "ItemPrice", "Principal", "-20.00", order_id="111-1"),
                    line(10, "A-to-z Guarantee Refund", "ItemPrice", "Shipping", "-4.00", order_id="111-1"),
                    line(11, "A-to-z Guarantee Refund", "ItemFees", "Commission", "1.50", order_id="111-1")])
    (journal,) = journals_for(s, SettlementOptions())
    (sales,) = journal.lines_for(Role.SALES)
    assert sales.amount == Decimal("-20.00") and sales.posting_type == "Credit" and sales.rows == [1]
    (refunds,) = journal.lines_for(Role.REFUNDS)
    assert refunds.amount == Decimal("24.00") and refunds.posting_type == "Debit" and refunds.rows == [9, 10]


def test_an_unknown_transaction_types_price_holds_the_settlement_naming_it():
    s = settlement([*order_rows(1, "111-1", "20.00"), line(9, "Adjustment", "ItemPrice", "Principal", "-5.00")])
    with pytest.raises(SettlementOnHold) as caught:
        journals_for(s, SettlementOptions())
    assert "transaction-type 'Adjustment'" in str(caught.value) and "(rows 9)" in str(caught.value)


def test_a_list_in_a_rule_field_is_one_rule_per_value():
    rules, _ = parse_rules({"rules": [{"transaction_type": ["Refund", "返金"], "amount_type": "ItemPrice",
                                       "amount_description": ["Principal", "Shipping"], "role": "refunds"}]}, "r.yaml")
    assert [(r.transaction_type, r.amount_description) for r in rules] == [
        ("Refund", "Principal"), ("Refund", "Shipping"), ("返金", "Principal"), ("返金", "Shipping")]
    assert {r.where for r in rules} == {"r.yaml: rules[0]"}


@pytest.mark.parametrize("bad", [{"transaction_type": [], "role": "refunds"},
                                 {"transaction_type": ["Refund", "*"], "role": "refunds"},
                                 {"transaction_type": "—", "role": "refunds"}])
def test_a_rule_field_that_names_no_word_is_refused(bad):
    with pytest.raises(ConfigError) as caught:
        parse_rules({"rules": [bad]}, "r.yaml")
    assert "r.yaml: rules[0]" in str(caught.value)


def test_words_in_every_script_are_compared_as_words():
    assert normalise_word("返金") == "返金"
    assert normalise_word("Rück-erstattung") == "rückerstattung"
    assert normalise_word("A-to-z Guarantee_Refund") == "atozguaranteerefund"
