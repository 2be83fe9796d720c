"""Order to cash in QuickBooks Online: SKU matching and bad input, tax codes and rounding, store dimensions,
payment methods and deposit accounts per channel, multicurrency."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink import RecordError
from o2c_helpers import bc_order, doc, open_dest, post, query
from qbo_helpers import Live, PlanCtx, make_line


def test_a_sku_matching_two_items_is_a_dead_letter_naming_both(live: Live):
    # the bookkeeper's "Red Mug" carries Sku MUG-1, and an item named MUG-1 exists too
    dest = open_dest(live)  # first: the API calls below rotate the sandbox's refresh token
    income = query(live, "select * from Account where Name = 'Sales of Product Income'")[0]["Id"]
    for body in ({"Name": "Red Mug", "Sku": "MUG-1", "Type": "NonInventory", "IncomeAccountRef": {"value": income}},
                 {"Name": "MUG-1", "Type": "NonInventory", "IncomeAccountRef": {"value": income}}):
        assert live.api("POST", "item", json=body).status_code == 200
    records, results = post(dest, bc_order("6001", status="Completed", paid=True))
    item = next(r for r in records if r.stream == "Item" and r.data["Name"] == "MUG-1")
    error = results[item.key].error
    assert isinstance(error, RecordError) and error.field == "Sku"
    assert "matches 2 QuickBooks items" in str(error) and "'Red Mug'" in str(error) and "'MUG-1'" in str(error)
    assert "items.sku_map" in (error.hint or "")
    # mapped explicitly, the SKU posts to the bookkeeper's item
    records, results = post(dest, bc_order("6001", status="Completed", paid=True),
                            {"items": {"sku_map": {"MUG-1": "Red Mug"}}})
    receipt = next(r for r in records if r.stream == "SalesReceipt")
    assert results[receipt.key].created
    names = [ln["SalesItemLineDetail"]["ItemRef"]["name"] for ln in doc(live, "SalesReceipt",
             results[receipt.key].destination_id)["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
    assert names[0] == "Red Mug"
    dest.close()


def test_an_unmatched_sku_is_a_plan_dead_letter_with_a_hint_and_a_negative_quantity_too():
    from ledgerlink_qbo import QuickBooksOnlineDestination

    dest = QuickBooksOnlineDestination()
    strict = {"items": {"match": "sku_map", "sku_map": {"MUG-1": "Mug"}, "unmatched": "dead_letter"}}
    with pytest.raises(RecordError) as err:
        dest.plan(bc_order(), PlanCtx(strict))
    assert "'CUP-1' is not in items.sku_map" in str(err.value) and err.value.field == "lines[1].sku"
    with pytest.raises(RecordError) as err:
        dest.plan(bc_order(lines=[make_line("L1", "MUG-1", "-2", "-30.00")]), PlanCtx())
    assert "negative quantity" in str(err.value) and err.value.hint


def test_an_unmatched_sku_without_creation_is_a_write_dead_letter_naming_the_fix(live: Live):
    dest = open_dest(live)
    records, results = post(dest, bc_order("6002", status="Completed", paid=True),
                            {"items": {"unmatched": "dead_letter"}})
    assert [r.stream for r in records] == ["Customer", "Item", "SalesReceipt", "Payment"]  # only Shipping
    error = results[records[2].key].error
    assert isinstance(error, RecordError) and error.field == "ItemRef" and "MUG-1" in str(error)
    dest.close()


def test_items_are_created_by_rule_as_inventory(live: Live):
    dest = open_dest(live)
    records, results = post(dest, bc_order("6003", status="Completed", paid=True),
                            {"items": {"create": [{"sku": "MUG-*", "as": "inventory"}]}})
    [mug] = query(live, "select * from Item where Name = 'MUG-1'")
    [cup] = query(live, "select * from Item where Name = 'CUP-1'")
    assert mug["Type"] == "Inventory" and mug["QtyOnHand"] == -2 and cup["Type"] == "NonInventory"
    dest.close()


@pytest.mark.sandbox_options(country="CA", home_currency="CAD")
def test_a_non_us_company_posts_tax_codes_and_a_rounding_line_so_the_total_is_the_channels(live: Live):
    options = {"tax": {"mode": "codes", "taxable_code": "GST/HST ON", "exempt_code": "Exempt",
                       "rates": {"GST/HST ON": "13"}}}
    # the channel rounded its tax on the order total (13% of 3.15 = 0.41); QuickBooks rounds each line's
    # (0.14 three times): a rounding line of -0.01 keeps the document's total the channel's
    lines = [make_line("L1", "MUG-1", "1", "1.05", "CAD", tax="0.14"),
             make_line("L2", "CUP-1", "1", "1.05", "CAD", tax="0.14"),
             make_line("L3", "JUG-1", "1", "1.05", "CAD", tax="0.13")]
    order = bc_order("6004", status="Completed", paid=True, currency="CAD", lines=lines)
    dest = open_dest(live)
    records, results = post(dest, order, options)
    receipt = next(r for r in records if r.stream == "SalesReceipt")
    assert results[receipt.key].created, results[receipt.key].error
    posted = doc(live, "SalesReceipt", results[receipt.key].destination_id)
    assert posted["TotalAmt"] == order.grand_total.amount == Decimal("3.56")
    assert posted["TxnTaxDetail"]["TotalTax"] == Decimal("0.42")  # QuickBooks' own computation
    rounding = [ln for ln in posted["Line"] if ln.get("Description") == "Rounding"]
    assert [ln["Amount"] for ln in rounding] == [Decimal("-0.01")]
    codes = {ln["SalesItemLineDetail"]["TaxCodeRef"]["name"] for ln in posted["Line"]
             if ln["DetailType"] == "SalesItemLineDetail"}
    assert codes == {"GST/HST ON", "Exempt"}
    dest.close()


@pytest.mark.sandbox_options(country="CA", home_currency="CAD")
def test_us_tax_codes_in_a_non_us_company_are_refused_with_the_option_to_set(live: Live):
    dest = open_dest(live)
    records, results = post(dest, bc_order("6005", status="Completed", paid=True, currency="CAD"))
    error = results[next(r.key for r in records if r.stream == "SalesReceipt")].error
    assert isinstance(error, RecordError) and "company is in CA" in str(error) and "mode: codes" in error.hint
    dest.close()


@pytest.mark.sandbox_options(class_tracking=True, track_departments=True)
def test_store_class_and_location_and_the_channels_deposit_account_and_payment_method(live: Live):
    options = {"stores": {"eu": {"class": "Retail", "location": "West"}, "*": {"class": "Online"}},
               "channels": {"bigcommerce": {"deposit_account": "Checking", "payment_method": "Visa"}}}
    dest = open_dest(live)
    records, results = post(dest, bc_order("6006", status="Completed", paid=True, store="eu"), options)
    receipt = doc(live, "SalesReceipt", results[next(r.key for r in records if r.stream == "SalesReceipt")].destination_id)
    assert receipt["ClassRef"]["name"] == "Retail" and receipt["DepartmentRef"]["name"] == "West"
    assert receipt["DepositToAccountRef"]["name"] == "Checking" and receipt["PaymentMethodRef"]["name"] == "Visa"
    records, results = post(dest, bc_order("6007", status="Completed", paid=True, store="us"), options)
    receipt = doc(live, "SalesReceipt", results[next(r.key for r in records if r.stream == "SalesReceipt")].destination_id)
    assert receipt["ClassRef"]["name"] == "Online" and "DepartmentRef" not in receipt
    dest.close()


@pytest.mark.sandbox_options(multicurrency=True)
def test_multicurrency_documents_carry_the_order_currency_and_the_exchange_rate(live: Live):
    dest = open_dest(live)
    records, results = post(dest, bc_order("6008", status="Completed", paid=True, currency="CAD"))
    receipt = doc(live, "SalesReceipt", results[next(r.key for r in records if r.stream == "SalesReceipt")].destination_id)
    assert receipt["CurrencyRef"]["value"] == "CAD" and receipt["ExchangeRate"] == Decimal("0.73")
    records, results = post(dest, bc_order("6009", status="Completed", paid=True, currency="EUR"),
                            {"exchange_rates": {"EUR": "1.0912"}})
    receipt = doc(live, "SalesReceipt", results[next(r.key for r in records if r.stream == "SalesReceipt")].destination_id)
    assert receipt["ExchangeRate"] == Decimal("1.0912")
    dest.close()


def test_a_currency_the_company_lacks_is_refused_with_guidance(live: Live):
    dest = open_dest(live)
    records, results = post(dest, bc_order("6010", status="Completed", paid=True, currency="CAD"))
    customer = results[records[0].key]
    assert isinstance(customer.error, RecordError) and "Multicurrency is off" in str(customer.error)
    assert "Settings > Account and settings > Advanced > Currency" in customer.error.hint
    assert next(r.key for r in records if r.stream == "SalesReceipt") not in results  # waits on its customer
    assert query(live, "select * from SalesReceipt") == []
    dest.close()
