"""Every suggestion carries a confidence and a reason a bookkeeper can read; pack sizes, refunds and accepted
mappings change the answer the way a person would."""

from __future__ import annotations

from datetime import datetime, timezone

from ledgerlink.suggest.accepted import AcceptedMappings
from ledgerlink.suggest.concepts import ConceptSuggester
from ledgerlink.suggest.customers import Customer, duplicate_customers
from ledgerlink.suggest.items import ItemSuggester, LedgerItem
from ledgerlink.suggest.roles import RoleSuggester
from ledgerlink.suggest.text import pack_size, percent


def test_glossary_reason_names_the_code_in_words():
    top = RoleSuggester().suggest("Order", "ItemFees", "FBA Pick & Pack Fee")[0]
    assert top.target == "fba_fees"
    assert 0.9 <= top.confidence <= 1
    assert "glossary" in top.reason and "FBA" in top.reason


def test_refund_turns_a_sale_into_a_refund_and_says_so():
    top = RoleSuggester().suggest("Remboursement", None, "Ventes de produits")[0]
    assert top.target == "refunds"
    assert "gives it back" in top.reason


def test_accepted_mapping_wins_and_is_quoted_with_its_date(tmp_path):
    accepted = AcceptedMappings(tmp_path / "a.json")
    accepted.record("p", "roles", "Order / ItemFees / Widget Surcharge", "fba_fees",
                    when=datetime(2026, 12, 1, tzinfo=timezone.utc))
    accepted.save()
    again = AcceptedMappings.load(tmp_path / "a.json")
    top = RoleSuggester(accepted=again, pipeline="p").suggest("Order", "ItemFees", "Widget Surcharge")[0]
    assert top.target == "fba_fees" and top.confidence >= 0.99
    assert "you accepted fba_fees" in top.reason and "2026-12-01" in top.reason
    # a near neighbour learns from it too
    near = RoleSuggester(accepted=again, pipeline="p").suggest("Order", "ItemFees", "Widget Surcharges")
    assert near[0].target == "fba_fees" and "like" in near[0].reason


def test_pack_sizes_are_numbers_and_a_two_pack_is_not_a_four_pack():
    assert pack_size("Widget 2-Pack") == pack_size("widget (pack of 2)") == pack_size("WIDGET 2PK") == 2
    assert pack_size("Widget Blue") is None
    items = [LedgerItem("Widget Blue 2-Pack", "WID-BLU-2"), LedgerItem("Widget Blue 4-Pack", "WID-BLU-4")]
    top = ItemSuggester(items).suggest("AMZ-1", "widget blue (pack of 4)")
    assert top[0].target == "Widget Blue 4-Pack"
    assert "fuzzy" in top[0].reason
    assert all(s.confidence < top[0].confidence for s in top[1:])


def test_tax_rate_in_the_name_must_agree():
    suggester = ConceptSuggester("tax", ["20.0% S", "5.0% R", "Exempt", "TAX"])
    assert suggester.suggest("VAT 20%")[0].target == "20.0% S"
    assert "5.0% R" not in [s.target for s in suggester.suggest("VAT 20%")]
    assert suggester.suggest("VAT 5%")[0].target == "5.0% R"


def test_payment_method_through_the_glossary():
    top = ConceptSuggester("payments", ["Cash", "Check", "Credit Card", "PayPal"]).suggest("Stripe")[0]
    assert top.target == "Credit Card" and "card payment" in top.reason


def test_duplicate_customers_by_email_and_by_name_with_postcode():
    found = duplicate_customers([Customer("Jane Doe", "jane.doe+amz@gmail.com"), Customer("J. Doe", "JaneDoe@gmail.com"),
                                 Customer("Bob Stone", None, "SW1A 1AA"), Customer("Bob Stones", None, "sw1a1aa"),
                                 Customer("Carol King")])
    pairs = {(s.subject, s.target) for s in found}
    assert ("J. Doe", "Jane Doe") in pairs
    assert ("Bob Stones", "Bob Stone") in pairs
    assert all("Carol King" not in p for p in pairs)
    assert all(0 < s.confidence <= 1 and s.reason for s in found)


def test_percent_reads_decimals():
    assert percent("20.0% S") == percent("VAT 20%") == "20"
    assert percent("7,5 %") == "7.5"
