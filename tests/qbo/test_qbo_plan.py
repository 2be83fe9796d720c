"""Posting rules: an order becomes Customer, Item and SalesReceipt writes whose amounts are exact."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink import ConfigError, RecordError, idempotency_key
from ledgerlink_qbo import QuickBooksOnlineDestination
from ledgerlink_qbo.plans.orders import doc_number, receipt_total
from qbo_helpers import PlanCtx, make_line, make_order

DEST = QuickBooksOnlineDestination()


def receipt_of(writes):
    return next(w for w in writes if w.stream == "SalesReceipt")


def test_a_shipped_order_plans_customer_items_then_receipt_in_dependency_order():
    order = make_order()
    writes = DEST.plan(order, PlanCtx())
    assert [w.stream for w in writes] == ["Customer", "Item", "Item", "Item", "Item", "SalesReceipt"]
    customer, *items, receipt = writes
    assert customer.key == idempotency_key("Customer", "amazon_sp/marketplace/amazon/ATVPDKIKX0DER/USD")
    assert customer.data["DisplayName"] == "Amazon.com USD"
    assert [i.data["Name"] for i in items] == ["SKU-RED-MUG", "SKU-BLUE-CUP", "Shipping", "Gift Wrap"]
    assert items[0].key == idempotency_key("Item", "SKU-RED-MUG")
    assert items[0].data["Type"] == "NonInventory" and items[2].data["Type"] == "Service"
    assert items[0].data["IncomeAccountRef"] == {"name": "Sales of Product Income"}
    assert receipt.key == idempotency_key("SalesReceipt", order.natural_key)
    assert receipt.depends_on == [customer.key, *(i.key for i in items)]
    assert receipt.source_refs == order.source_refs
    assert receipt.line_refs == [(0, order.lines[0].source_ref), (1, order.lines[1].source_ref)]


def test_the_mapping_renders_every_amount_exactly_and_the_receipt_adds_up_to_the_order():
    order = make_order()
    data = receipt_of(DEST.plan(order, PlanCtx())).data
    lines = data["Line"]
    assert [(ln["SalesItemLineDetail"]["ItemRef"]["name"], ln["Amount"]) for ln in lines[:4]] == [
        ("SKU-RED-MUG", Decimal("25.98")), ("SKU-BLUE-CUP", Decimal("10.00")),
        ("Shipping", Decimal("4.99")), ("Gift Wrap", Decimal("3.49"))]
    assert all(isinstance(ln["Amount"], Decimal) for ln in lines)
    assert lines[0]["SalesItemLineDetail"]["Qty"] == 2 and lines[0]["SalesItemLineDetail"]["UnitPrice"] == Decimal("12.99")
    assert lines[4] == {"Amount": Decimal("2.00"), "DetailType": "DiscountLineDetail",
                        "DiscountLineDetail": {"PercentBased": False, "DiscountAccountRef": {"name": "Discounts given"}}}
    assert data["TxnTaxDetail"] == {"TotalTax": Decimal("3.56")}
    assert receipt_total(data) == order.grand_total.amount == Decimal("46.02")
    assert data["CustomerRef"] == {"name": "Amazon.com USD"}
    assert data["DepositToAccountRef"] == {"name": "Undeposited Funds"}
    assert data["DocNumber"] == "111-2223334-5556667"
    assert data["PrivateNote"].split("\n")[0] == "ledgerlink SalesReceipt:amazon_sp/order/111-2223334-5556667"
    assert data["TxnDate"] == "2025-03-31"


def test_txn_date_is_the_books_time_zone_date():
    data = receipt_of(DEST.plan(make_order(), PlanCtx({"time_zone": "Australia/Sydney"}))).data
    assert data["TxnDate"] == "2025-04-01"


def test_a_unit_price_that_does_not_divide_keeps_qty_times_price_equal_to_the_amount():
    order = make_order(lines=[make_line("L1", "SKU-1", "3", "10.00")])
    detail = receipt_of(DEST.plan(order, PlanCtx())).data["Line"][0]["SalesItemLineDetail"]
    assert detail["UnitPrice"] == Decimal("3.3333333")
    assert (detail["Qty"] * detail["UnitPrice"]).quantize(Decimal("0.01")) == Decimal("10.00")


def test_marketplace_collected_tax_never_reaches_the_receipt_but_is_noted():
    order = make_order(tax_collected_by="marketplace")
    data = receipt_of(DEST.plan(order, PlanCtx())).data
    assert data["TxnTaxDetail"] == {"TotalTax": Decimal("0.00")}
    assert all(ln["SalesItemLineDetail"]["TaxCodeRef"] == {"value": "NON"}
               for ln in data["Line"] if ln["DetailType"] == "SalesItemLineDetail")
    assert "marketplace-collected tax 3.56 USD not posted" in data["PrivateNote"]
    assert receipt_total(data) == order.grand_total.amount - Decimal("3.56")


@pytest.mark.parametrize("status,paid", [("Pending", False), ("PendingAvailability", False)])
def test_orders_that_are_not_sales_plan_nothing(status, paid):
    assert DEST.plan(make_order(status=status, paid=paid), PlanCtx()) == []


def test_a_cancelled_order_plans_only_a_void_and_an_unpaid_one_an_invoice():
    [void] = DEST.plan(make_order(status="Canceled", paid=True), PlanCtx())
    assert void.stream == "Void" and [t["TxnType"] for t in void.data["targets"]] == ["Payment", "SalesReceipt",
                                                                                      "Invoice"]
    assert DEST.plan(make_order(status="Shipped", paid=False), PlanCtx())[-1].stream == "Invoice"


def test_post_statuses_compare_loosely_and_can_be_changed():
    assert DEST.plan(make_order(status="Partially Shipped"), PlanCtx())
    assert DEST.plan(make_order(status="Unshipped"), PlanCtx({"post_statuses": ["Shipped"]})) == []


def test_long_order_ids_get_a_deterministic_doc_number_of_21_characters():
    long_id = "BC-STORE-7f3a-ORDER-000123456789"
    assert doc_number(long_id) == doc_number(long_id)
    assert len(doc_number(long_id)) == 21
    assert doc_number(long_id) != doc_number(long_id[:-1] + "0")
    assert doc_number("111-2223334-5556667") == "111-2223334-5556667"


def test_per_buyer_customers_carry_the_buyers_email_and_a_normalised_name():
    order = make_order(buyer_name="  Jane   Q.  Buyer ", buyer_email="jane@example.com")
    customer = DEST.plan(order, PlanCtx({"customer_strategy": "per_buyer"}))[0]
    assert customer.data["DisplayName"] == "Jane Q. Buyer"
    assert customer.data["PrimaryEmailAddr"] == {"Address": "jane@example.com"}
    # one customer per buyer e-mail, whichever order (and customer id) the channel gives it
    assert customer.key == idempotency_key("Customer", "amazon_sp/buyer/email/jane@example.com")


def test_without_create_items_no_item_is_planned():
    writes = DEST.plan(make_order(), PlanCtx({"create_items": False}))
    assert [w.stream for w in writes] == ["Customer", "SalesReceipt"]
    assert len(receipt_of(writes).depends_on) == 1


def test_an_unknown_option_fails_with_its_key():
    with pytest.raises(ConfigError, match="destination.options.custmer_strategy"):
        DEST.plan(make_order(), PlanCtx({"custmer_strategy": "per_buyer"}))


def test_an_override_that_loses_money_is_refused_naming_the_order():
    source = PlanCtx().engine.source("sales_receipt.json.j2").replace('"TotalTax": {{ seller_tax }}', '"TotalTax": 0')
    with pytest.raises(RecordError, match=r"adds up to 42.46 USD but the order.s total is 46.02 USD") as info:
        DEST.plan(make_order(), PlanCtx(overrides={"sales_receipt.json.j2": source}))
    assert info.value.field == "Line" and info.value.key == "amazon_sp/order/111-2223334-5556667"
