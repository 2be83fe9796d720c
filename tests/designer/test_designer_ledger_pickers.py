"""Tax codes, payment methods, classes and locations picked from the ledger's own lists: the options form offers
the ledger names inside option groups (`tax.taxable_code`), per store (`stores.*.class`) and per channel payment
method (`payment_methods.Other`, and a new entry), each with its list; saving writes them where a person would."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ledgerlink.designer.options import options_changes, options_fields

QBO_OPTIONS = json.loads((Path(__file__).resolve().parents[2] / "specs" / "schemas" / "connectors" /
                          "qbo.options.json").read_text())


def test_the_form_offers_each_ledger_name_with_its_list():
    fields = {f.name: (kind, f.value) for f, kind in options_fields(
        QBO_OPTIONS, {"payment_methods": {"Other": ""}, "stores": {"7": {"class": "Retail"}}, "tax": {"mode": "codes"},
                      "inventory": {"location": "amazon_fba/ATVPDKIKX0DER"}})}
    assert fields["tax.taxable_code"] == ("TaxCode", "") and fields["tax.exempt_code"] == ("TaxCode", "")
    assert fields["payment_methods.Other"] == ("PaymentMethod", "")
    assert fields["stores.*.class"] == ("Class", "") and fields["stores.7.class"] == ("Class", "Retail")
    assert fields["stores.7.location"] == ("Department", "") and fields["deposit_account"][0] == "Account"
    assert "inventory.location" not in fields  # the channel's stock location, not a ledger name


def test_a_submitted_form_changes_the_nested_options_and_adds_a_payment_method():
    current = {"payment_methods": {"Other": ""}, "tax": {"mode": "codes"}}
    changes = options_changes(QBO_OPTIONS, current, {
        "options.tax.taxable_code": "GST/HST ON", "options.stores.*.class": "Online",
        "options.payment_methods.Other": "Cash", "options.payment_methods:new": "Credit Card",
        "options.payment_methods:new_value": "Visa", "options.income_account": ""})
    assert changes == {("destination", "options", "tax", "taxable_code"): "GST/HST ON",
                       ("destination", "options", "stores", "*", "class"): "Online",
                       ("destination", "options", "payment_methods", "Other"): "Cash",
                       ("destination", "options", "payment_methods", "Credit Card"): "Visa"}


def test_a_new_payment_method_needs_its_channel_name_and_must_be_new():
    import pytest

    from ledgerlink.designer.forms import FormProblem

    with pytest.raises(FormProblem, match="options.payment_methods:new: the channel's name is required"):
        options_changes(QBO_OPTIONS, {}, {"options.payment_methods:new_value": "Visa"})
    with pytest.raises(FormProblem, match="'Other' is mapped already"):
        options_changes(QBO_OPTIONS, {"payment_methods": {"Other": ""}},
                        {"options.payment_methods:new": "Other", "options.payment_methods:new_value": "Visa"})


def test_the_console_offers_the_lists_and_saves_the_picks(designer_console):
    refs = designer_console.workspace.services["shop"].store.references("fake_dest")
    for kind, name in (("TaxCode", "GST/HST ON"), ("Class", "Online"), ("Department", "East")):
        refs.put(kind, name, name)
    from ledgerlink.designer.view import forget_lists

    forget_lists("shop")
    client = designer_console.with_token("bookkeeper")
    view = client.get("/api/v1/pipelines/shop/designer").json()
    assert view["lists"]["TaxCode"] == ["GST/HST ON"] and view["lists"]["Class"] == ["Online"]
    by_name = {o["name"]: o for o in view["options"]}
    assert by_name["tax.taxable_code"]["ledger_list"] == "TaxCode"
    assert by_name["stores.*.location"]["ledger_list"] == "Department"
    saved = client.post("/api/v1/pipelines/shop/designer/changes", json={"section": "options", "save": True, "fields": {
        "options.tax.taxable_code": "GST/HST ON", "options.stores.*.class": "Online",
        "options.stores.*.location": "East"}})
    assert saved.status_code == 200 and saved.json()["saved"], saved.text
    text = designer_console.shop_file().read_text()
    assert "# how the shop posts" in text  # the person's comment kept
    options = yaml.safe_load(text)["destination"]["options"]
    assert options["tax"] == {"taxable_code": "GST/HST ON"}
    assert options["stores"] == {"*": {"class": "Online", "location": "East"}}
    browser, _ = designer_console.signed_in("bookkeeper")
    page = browser.get("/designer/shop").text
    assert 'name="options.tax.taxable_code"' in page and 'list="list-TaxCode"' in page
    assert 'name="options.payment_methods:new"' in page and 'list="list-PaymentMethod"' in page
