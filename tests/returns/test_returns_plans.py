"""Both QuickBooks destinations' refund and return plans, unit by unit: the document, its amounts and customer,
the over-refund check against the sale the runtime hands back (`ctx.posted`), and which returns restock."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink import RecordError, idempotency_key
from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination
from ledgerlink_qbo import QuickBooksOnlineDestination
from ledgerlink_qbo.plans.orders import receipt_total
from returns_helpers import PlanCtx, make_order, make_refund, make_return, sale_of

QBO, QBD = QuickBooksOnlineDestination(), QuickBooksDesktopDestination()


def only(writes, stream):
    [w] = [w for w in writes if w.stream == stream]
    return w


def test_qbo_refund_is_a_credit_memo_on_the_returns_item_that_moves_no_stock():
    writes = QBO.plan(make_refund(shipping="5.00"), PlanCtx(QBO))
    assert [w.stream for w in writes] == ["Customer", "Item", "CreditMemo"]
    customer, item, memo = writes
    assert customer.data["DisplayName"] == "Amazon.com USD"
    assert item.key == idempotency_key("Item", "Refunds") and item.data["Type"] == "NonInventory"
    assert memo.key == idempotency_key("CreditMemo", "amazon_sp/refund/111-1/ADJ1")
    assert memo.depends_on == [customer.key, item.key]
    data = memo.data
    assert data["PrivateNote"].split("\n")[0] == "ledgerlink " + memo.key
    assert [(ln["SalesItemLineDetail"]["ItemRef"]["name"], ln["Amount"]) for ln in data["Line"]] == [
        ("Refunds", Decimal("10.00")), ("Shipping", Decimal("5.00"))]
    # Amazon's tax is the marketplace's when the sale is not known: left out, and said so
    assert receipt_total(data) == Decimal("15.00") and data["TxnTaxDetail"]["TotalTax"] == 0
    assert "marketplace-collected tax 0.80 USD not posted" in data["PrivateNote"]
    assert "SKU-A × 1 not restocked" in data["PrivateNote"]


def test_qbo_refund_receipt_by_option():
    ctx = PlanCtx(QBO, {"returns": {"refund_document": "refund_receipt", "refund_account": "Checking"}})
    receipt = only(QBO.plan(make_refund(), ctx), "RefundReceipt")
    assert receipt.key.startswith("RefundReceipt:") and receipt.data["DepositToAccountRef"] == {"name": "Checking"}


def test_qbo_refund_follows_the_sale_its_customer_tax_and_total():
    order = make_order(tax_collected_by="seller")
    options = {"customer_strategy": "per_buyer"}
    sale = sale_of(QBO, order, options)
    ctx = PlanCtx(QBO, options, sales=[sale])
    writes = QBO.plan(make_refund(), ctx)
    assert [w.stream for w in writes] == ["Item", "CreditMemo"]  # the sale's customer exists: no Customer write
    memo = only(writes, "CreditMemo").data
    assert memo["CustomerRef"] == sale.data["CustomerRef"] == {"name": "Ada Lovelace"}
    assert memo["TxnTaxDetail"]["TotalTax"] == Decimal("0.80") and receipt_total(memo) == Decimal("10.80")
    # more than the sale's 26.60 back is refused, naming the refund
    with pytest.raises(RecordError) as caught:
        QBO.plan(make_refund(amount="26.00", tax="0.80"), ctx)
    assert caught.value.key == "amazon_sp/refund/111-1/ADJ1" and "26.80 USD is larger than order 111-1" in \
        caught.value.message and caught.value.hint
    QBO.plan(make_refund(amount="20.00", tax="1.60", shipping="5.00"), ctx)  # all of it: fine


def test_qbo_a_refund_already_posted_as_a_credit_memo_stays_one_when_the_option_changes():
    from ledgerlink import PostedDocument

    refund = make_refund()
    done = PostedDocument(key=idempotency_key("CreditMemo", refund.natural_key), stream="CreditMemo", data={},
                          natural_key=refund.natural_key)
    ctx = PlanCtx(QBO, {"returns": {"refund_document": "refund_receipt"}}, sales=[done])
    assert only(QBO.plan(refund, ctx), "CreditMemo").key == done.key


@pytest.mark.parametrize("destination", [QBO, QBD], ids=["qbo", "qbd"])
def test_only_a_sellable_return_restocks_against_cost_of_goods_sold(destination):
    ctx = PlanCtx(destination)
    [adjustment] = destination.plan(make_return(quantity="2"), ctx)
    assert adjustment.stream == "InventoryAdjustment"
    assert adjustment.key == idempotency_key("InventoryAdjustment", "amazon_sp/return/111-1/SKU-A/LPN1")
    if destination is QBO:
        assert adjustment.data["AdjustAccountRef"] == {"name": "Cost of Goods Sold"}
        [line] = adjustment.data["Line"]
        assert line["ItemAdjustmentLineDetail"] == {"ItemRef": {"name": "SKU-A"}, "QtyDiff": Decimal(2)}
    else:
        add = adjustment.data["InventoryAdjustmentAdd"]
        assert add["AccountRef"] == {"FullName": "Cost of Goods Sold"}
        assert add["InventoryAdjustmentLineAdd"] == [
            {"ItemRef": {"FullName": "SKU-A"}, "QuantityAdjustment": {"QuantityDifference": Decimal(2)}}]
        assert add["Memo"].split("\n")[0] == "ledgerlink " + adjustment.key
    assert destination.plan(make_return("CUSTOMER_DAMAGED", sellable=False), ctx) == []
    assert destination.plan(make_return("DEFECTIVE", sellable=False), ctx) == []
    lenient = PlanCtx(destination, {"returns": {"sellable_dispositions": ["SELLABLE", "CUSTOMER_DAMAGED"],
                                                "restock_account": "Inventory Shrinkage"}})
    [restocked] = destination.plan(make_return("CUSTOMER_DAMAGED", sellable=False), lenient)
    assert "Inventory Shrinkage" in str(restocked.data)
    assert destination.plan(make_return(), PlanCtx(destination, {"returns": {"restock": False}})) == []


def test_qbd_refund_is_a_credit_memo_with_seller_tax_on_the_tax_item():
    order = make_order(tax_collected_by="seller")
    sale = sale_of(QBD, order)
    ctx = PlanCtx(QBD, sales=[sale])
    writes = QBD.plan(make_refund(shipping="5.00"), ctx)
    memo = only(writes, "CreditMemo").data
    add = memo["CreditMemoAdd"]
    assert add["CustomerRef"] == {"FullName": "Amazon.com USD"}
    assert [(ln["ItemRef"]["FullName"], ln["Amount"]) for ln in add["CreditMemoLineAdd"]] == [
        ("Refunds", Decimal("10.00")), ("Shipping", Decimal("5.00")), ("Sales Tax Collected", Decimal("0.80"))]
    assert set(memo["_references"]) >= {"Customer:Amazon.com USD", "Item:Refunds", "Item:Shipping"}
    with pytest.raises(RecordError, match="larger than order 111-1"):
        QBD.plan(make_refund(amount="30.00"), ctx)


def test_restock_unreturned_refunds_restocks_with_the_refund_itself():
    ctx = PlanCtx(QBO, {"returns": {"restock_unreturned_refunds": True}})
    writes = QBO.plan(make_refund(), ctx)
    adjustment = only(writes, "InventoryAdjustment")
    assert adjustment.key == idempotency_key("InventoryAdjustment", "amazon_sp/refund/111-1/ADJ1/0")
    assert "restocked with this refund" in only(writes, "CreditMemo").data["PrivateNote"]
    # a line the source flags as returned is restocked by its Return, not twice
    assert [w.stream for w in QBO.plan(make_refund(restock=True), ctx)] == ["Customer", "Item", "CreditMemo"]
