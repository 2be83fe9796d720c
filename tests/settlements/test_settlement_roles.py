"""The role table and the account map: every amount gets a role or holds the settlement; every role an account."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink import ConfigError
from ledgerlink.settlements import (
    Role, RoleRule, SettlementOnHold, SettlementOptions, classify, default_account_map, default_role_table,
    journals_for, load_account_map, load_rules, parse_account_map,
)
from settlement_helpers import line, order_rows, settlement


@pytest.mark.parametrize("tt, at, desc, role", [
    # Flat File V2
    ("Order", "ItemPrice", "Principal", Role.SALES),
    ("Order", "ItemPrice", "Shipping", Role.SHIPPING_INCOME),
    ("Order", "ItemPrice", "GiftWrap", Role.GIFT_WRAP),
    ("Order", "Promotion", "Shipping", Role.PROMOTIONS),
    ("Refund", "ItemPrice", "Principal", Role.REFUNDS),
    ("Refund", "ItemFees", "RefundCommission", Role.REFUND_COMMISSION),
    ("Refund", "ItemFees", "Commission", Role.COMMISSION),
    ("Order", "ItemFees", "DigitalServicesFee", Role.DIGITAL_SERVICES_FEE),
    ("Order", "ItemFees", "FBAPerUnitFulfillmentFee", Role.FBA_FEES),
    ("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Shipping", Role.MARKETPLACE_TAX_WITHHELD),
    ("Order", "ItemPrice", "Tax", Role.TAX_COLLECTED),
    ("other-transaction", "other-transaction", "Current Reserve Amount", Role.RESERVE_CURRENT),
    ("other-transaction", "other-transaction", "Previous Reserve Amount Balance", Role.RESERVE_PREVIOUS),
    ("other-transaction", "other-transaction", "Storage Fee", Role.STORAGE_FEES),
    ("other-transaction", "other-transaction", "Subscription Fee", Role.SUBSCRIPTION),
    ("other-transaction", "FBA Inventory Reimbursement", "WAREHOUSE_LOST", Role.REIMBURSEMENTS),
    ("ServiceFee", "Cost of Advertising", "TransactionTotalAmount", Role.ADVERTISING),
    # V1 flat file: the amount column as the amount type, the *-type column as the description
    ("Order", "price-amount", "Principal", Role.SALES),
    ("Order", "promotion-amount", "Principal", Role.PROMOTIONS),
    ("Order", "shipment-fee-amount", "FBA transportation fee", Role.FBA_FEES),
    ("ServiceFee", "item-related-fee-amount", "Cost of Advertising", Role.ADVERTISING),
    ("ServiceFee", "other-fee-amount", "TaxAmount", Role.TAX_ON_FEES),
    ("Payable to Amazon", "other-amount", None, Role.PAYABLE_TO_AMAZON),
    ("Successful charge", "other-amount", None, Role.NEGATIVE_BALANCE_CHARGE),
    ("Micro Deposit", "other-amount", None, Role.MICRO_DEPOSIT),
    ("WAREHOUSE_DAMAGE", "other-amount", None, Role.REIMBURSEMENTS),
    ("Inbound Transportation Fee", "other-amount", None, Role.INBOUND_TRANSPORT),
    # case, spaces and hyphens do not matter
    ("order", "item price", "principal", Role.SALES),
    ("PAYABLE-TO-AMAZON", "", "", Role.PAYABLE_TO_AMAZON),
])
def test_the_default_table_names_amazons_amounts(tt, at, desc, role):
    assert default_role_table().role_of(tt, at, desc) == role


def test_principal_is_a_sale_on_an_order_but_a_refund_on_a_refund_and_a_discount_in_a_promotion():
    table = default_role_table()
    assert table.role_of("Order", "ItemPrice", "Principal") == Role.SALES
    assert table.role_of("Refund", "ItemPrice", "Principal") == Role.REFUNDS
    assert table.role_of("Refund", "Promotion", "Principal") == Role.PROMOTIONS


def test_an_amount_no_rule_names_puts_the_settlement_on_hold_naming_it():
    s = settlement([*order_rows(1, "111-1", "20.00"),
                    line(9, "Order", "ItemFees", "BrandNewMysteryFee", "-0.75"),
                    line(10, "Order", "ItemFees", "BrandNewMysteryFee", "-0.25")])
    with pytest.raises(SettlementOnHold) as caught:
        classify(s, default_role_table())
    message = str(caught.value)
    assert "BrandNewMysteryFee" in message and "rows 9-10" in message and "amazon_sp/settlement/12345678901" in message
    assert caught.value.reasons == ["no role for transaction-type 'Order', amount-type 'ItemFees', "
                                    "amount-description 'BrandNewMysteryFee' (rows 9-10)"]
    with pytest.raises(SettlementOnHold):
        journals_for(s, SettlementOptions())


def test_a_users_rule_wins_over_the_default_and_fixes_a_hold(tmp_path):
    roles = tmp_path / "roles.yaml"
    roles.write_text("rules:\n"
                     "  - {amount_description: BrandNewMysteryFee, role: selling_fees}\n"
                     "  - {amount_type: ItemFees, amount_description: Commission, role: selling_fees}\n")
    s = settlement([*order_rows(1, "111-1", "20.00"), line(9, "Order", "ItemFees", "BrandNewMysteryFee", "-0.75")])
    (journal,) = journals_for(s, SettlementOptions(roles=str(roles)))
    assert {l.role for l in journal.lines} >= {Role.SELLING_FEES}
    assert Role.COMMISSION not in {l.role for l in journal.lines}
    (fees,) = journal.lines_for(Role.SELLING_FEES)
    assert fees.amount == Decimal("2.25") and fees.posting_type == "Debit" and fees.rows == [2, 9]


def test_a_role_file_with_an_unknown_role_or_a_catch_all_rule_is_refused(tmp_path):
    bad = tmp_path / "roles.yaml"
    bad.write_text("rules:\n  - {amount_description: Foo, role: salez}\n")
    with pytest.raises(ConfigError, match="unknown role 'salez'"):
        load_rules(bad)
    bad.write_text("rules:\n  - {transaction_type: '*', role: sales}\n")
    with pytest.raises(ConfigError, match="guess"):
        load_rules(bad)


def test_rules_are_matched_most_specific_first():
    table = default_role_table().with_user_rules([
        RoleRule(None, None, "Principal", Role.OTHER_ADJUSTMENTS),
        RoleRule("Refund", None, "Principal", Role.REIMBURSEMENTS),
    ])
    assert table.role_of("Refund", "ItemPrice", "Principal") == Role.REIMBURSEMENTS
    assert table.role_of("Order", "ItemPrice", "Principal") == Role.OTHER_ADJUSTMENTS


def test_the_shipped_account_map_maps_every_role():
    accounts = default_account_map()
    assert accounts.missing(set(Role)) == []
    assert accounts.account(Role.RESERVE_CURRENT).name == "Amazon Reserve"


def test_a_role_missing_from_the_users_account_map_is_an_error_naming_the_role_and_the_file(tmp_path):
    path = tmp_path / "accounts.yaml"
    path.write_text("accounts:\n  sales: Sales\n  commission: Fees\n  fba_fees: Fees\n")
    s = settlement(order_rows(1, "111-1", "20.00"))
    with pytest.raises(ConfigError) as caught:
        journals_for(s, SettlementOptions(accounts=str(path)))
    text = str(caught.value)
    assert "'bank'" in text and str(path) in text and "add `bank: <account name>`" in text


def test_account_map_entries_take_a_name_an_id_and_an_entity(tmp_path):
    path = tmp_path / "accounts.yaml"
    path.write_text("accounts:\n  bank: {name: Checking, id: 35}\n"
                    "  payable_to_amazon: {name: Accounts Payable (A/P), entity: {type: Vendor, name: Amazon}}\n")
    accounts = load_account_map(path)
    assert accounts.account(Role.BANK).id == "35"
    assert accounts.account(Role.PAYABLE_TO_AMAZON).entity.name == "Amazon"
    with pytest.raises(ConfigError, match="unknown role 'banc'"):
        parse_account_map({"banc": "Checking"}, "inline")
    with pytest.raises(ConfigError, match="does not exist"):
        load_account_map(tmp_path / "nope.yaml")
