"""Order to cash in QuickBooks Online, destination level: invoices, their payments, voids, reversals."""

from __future__ import annotations

from decimal import Decimal

from ledgerlink import idempotency_key
from o2c_helpers import bc_order, doc, open_dest, post, query
from qbo_helpers import Live


def by_stream(records, results):
    return {r.stream: results[r.key] for r in records}


def test_an_unpaid_order_posts_an_invoice_and_its_payment_closes_it_when_paid(live: Live):
    dest = open_dest(live)
    records, results = post(dest, bc_order())
    out = by_stream(records, results)
    assert [r.stream for r in records] == ["Customer", "Item", "Item", "Item", "Invoice"]
    invoice = doc(live, "Invoice", out["Invoice"].destination_id)
    assert invoice["TotalAmt"] == Decimal("48.59") == invoice["Balance"]
    assert invoice["DocNumber"] == "5001" and invoice["TxnTaxDetail"]["TotalTax"] == Decimal("3.60")
    assert invoice["PrivateNote"].startswith("ledgerlink " + idempotency_key("Invoice", "bigcommerce/order/5001"))

    paid = bc_order(status="Awaiting Fulfillment", paid=True)
    records, results = post(dest, paid)
    out = by_stream(records, results)
    # the receipt is not posted (the order was invoiced); the payment is, linked to the invoice
    assert out["SalesReceipt"].ok and out["SalesReceipt"].destination_id is None and not out["SalesReceipt"].created
    payment = doc(live, "Payment", out["Payment"].destination_id)
    assert payment["TotalAmt"] == Decimal("48.59") and payment["UnappliedAmt"] == 0
    assert payment["Line"][0]["LinkedTxn"] == [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]
    assert doc(live, "Invoice", invoice["Id"])["Balance"] == 0
    assert query(live, "select * from SalesReceipt") == []
    dest.close()


def test_an_order_paid_at_once_posts_a_receipt_and_no_payment(live: Live):
    dest = open_dest(live)
    records, results = post(dest, bc_order("5002", status="Awaiting Fulfillment", paid=True))
    out = by_stream(records, results)
    assert out["SalesReceipt"].created and out["SalesReceipt"].destination_id
    assert out["Payment"].ok and out["Payment"].destination_id is None  # nothing was invoiced: nothing to pay
    assert query(live, "select * from Payment") == [] and query(live, "select * from Invoice") == []
    # a late retry of an invoice plan for the same order does not post a second sale
    records, results = post(dest, bc_order("5002"))
    assert results[idempotency_key("Invoice", "bigcommerce/order/5002")].destination_id is None
    assert query(live, "select * from Invoice") == []
    dest.close()


def test_a_cancelled_order_that_was_posted_is_voided_and_one_never_posted_voids_nothing(live: Live):
    dest = open_dest(live)
    records, results = post(dest, bc_order("5003", status="Awaiting Fulfillment", paid=True))
    receipt_id = by_stream(records, results)["SalesReceipt"].destination_id
    records, results = post(dest, bc_order("5003", status="Cancelled", paid=False))
    assert [r.stream for r in records] == ["Void"]
    assert results[records[0].key].destination_id == receipt_id
    voided = doc(live, "SalesReceipt", receipt_id)
    assert voided["TotalAmt"] == 0 and voided["PrivateNote"] == "Voided" and voided["DocNumber"] == "5003"
    again = post(dest, bc_order("5003", status="Cancelled", paid=False))[1]
    assert all(r.ok for r in again.values())  # voiding twice changes nothing

    records, results = post(dest, bc_order("5004", status="Cancelled", paid=False))
    assert results[records[0].key].ok and results[records[0].key].destination_id is None
    dest.close()


def test_a_paid_invoice_cancelled_voids_the_payment_then_the_invoice(live: Live):
    dest = open_dest(live)
    post(dest, bc_order("5005"))
    post(dest, bc_order("5005", status="Awaiting Fulfillment", paid=True))
    records, results = post(dest, bc_order("5005", status="Declined"))
    assert results[records[0].key].ok, results[records[0].key].error
    [invoice] = query(live, "select * from Invoice")
    [payment] = query(live, "select * from Payment")
    assert invoice["TotalAmt"] == 0 and invoice["PrivateNote"] == "Voided"
    assert payment["TotalAmt"] == 0 and payment["PrivateNote"] == "Voided"
    dest.close()


def test_on_cancel_reverse_posts_a_refund_receipt_dated_the_cancellation(live: Live):
    from datetime import datetime, timezone

    dest = open_dest(live)
    options = {"on_cancel": "reverse"}
    records, results = post(dest, bc_order("5006", status="Completed", paid=True), options)
    receipt = doc(live, "SalesReceipt", by_stream(records, results)["SalesReceipt"].destination_id)
    cancelled = bc_order("5006", status="Cancelled", updated_at=datetime(2025, 7, 3, tzinfo=timezone.utc))
    records, results = post(dest, cancelled, options)
    [refund] = query(live, "select * from RefundReceipt")
    assert results[records[0].key].destination_id == refund["Id"]
    assert refund["TotalAmt"] == receipt["TotalAmt"] and refund["TxnDate"] == "2025-07-03"
    assert refund["DocNumber"] == "5006-C" and "reverses SalesReceipt" in refund["PrivateNote"]
    assert doc(live, "SalesReceipt", receipt["Id"])["TotalAmt"] == receipt["TotalAmt"]  # the closed period stays
    post(dest, cancelled, options)
    assert len(query(live, "select * from RefundReceipt")) == 1
    dest.close()


def test_a_rule_can_invoice_paid_b2b_orders_and_pay_them_at_once(live: Live):
    dest = open_dest(live)
    options = {"documents": [{"when": {"business": True}, "post_as": "invoice"}]}
    records, results = post(dest, bc_order("5007", status="Completed", paid=True, is_business_order=True), options)
    out = by_stream(records, results)
    assert out["Invoice"].created and out["Payment"].created
    assert doc(live, "Invoice", out["Invoice"].destination_id)["Balance"] == 0
    dest.close()
