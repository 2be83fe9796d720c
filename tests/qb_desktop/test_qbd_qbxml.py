"""Every qbXML request the bridge can build validates against Intuit's qbXML 16.0 XSD; responses are read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ledgerlink import RecordError
from ledgerlink_qb_desktop import qbxml

REF = {"FullName": "Sales"}
PAYLOADS = {
    "CustomerAdd": {"Name": "Amazon.com USD", "CompanyName": "Amazon.com USD", "Phone": "555", "Email": "a@b.c",
                    "Notes": "ledgerlink Customer:x", "BillAddress": {"Addr1": "1 Main", "City": "Town"}},
    "CustomerMod": {"ListID": "80000001-1", "EditSequence": "1", "CompanyName": "X"},
    "ItemNonInventoryAdd": {"Name": "SKU-1", "SalesOrPurchase": {"Desc": "A thing", "Price": Decimal("9.99"),
                                                                 "AccountRef": REF}},
    "ItemServiceAdd": {"Name": "Shipping", "SalesOrPurchase": {"Desc": "Shipping", "AccountRef": REF}},
    "ItemInventoryAdd": {"Name": "SKU-2", "SalesDesc": "d", "IncomeAccountRef": REF,
                         "COGSAccountRef": {"FullName": "Cost of Goods Sold"},
                         "AssetAccountRef": {"FullName": "Inventory Asset"}, "QuantityOnHand": 5},
    "SalesReceiptAdd": {"CustomerRef": {"FullName": "Amazon.com USD"}, "TxnDate": date(2026, 1, 2), "RefNumber": "A1B2C3-3333",
                        "Memo": "ledgerlink SalesReceipt:k", "DepositToAccountRef": {"FullName": "Undeposited Funds"},
                        "SalesReceiptLineAdd": [{"ItemRef": {"FullName": "SKU-1"}, "Desc": "d", "Quantity": 2,
                                                 "Amount": Decimal("19.98")},
                                                {"ItemRef": {"FullName": "Discount"}, "Amount": Decimal("-1.00")}]},
    "InvoiceAdd": {"CustomerRef": {"FullName": "C"}, "RefNumber": "1", "Memo": "m",
                   "InvoiceLineAdd": [{"ItemRef": {"FullName": "SKU-1"}, "Quantity": 1, "Rate": Decimal("5")}]},
    "ReceivePaymentAdd": {"CustomerRef": {"FullName": "C"}, "TotalAmount": Decimal("5.00"),
                          "AppliedToTxnAdd": [{"TxnID": "1-1", "PaymentAmount": Decimal("5.00")}]},
    "CreditMemoAdd": {"CustomerRef": {"FullName": "C"}, "RefNumber": "R1",
                      "CreditMemoLineAdd": [{"ItemRef": {"FullName": "SKU-1"}, "Amount": Decimal("5.00")}]},
    "JournalEntryAdd": {"TxnDate": "2026-01-31", "RefNumber": "S-1", "Memo": "settlement",
                        "JournalDebitLine": [{"AccountRef": {"FullName": "Checking"}, "Amount": Decimal("90.00")}],
                        "JournalCreditLine": [{"AccountRef": REF, "Amount": Decimal("90.00")}]},
    "InventoryAdjustmentAdd": {"AccountRef": {"FullName": "Inventory Adjustments"}, "Memo": "stock count",
                               "InventoryAdjustmentLineAdd": [{"ItemRef": {"FullName": "SKU-2"},
                                                               "QuantityAdjustment": {"NewQuantity": 7}}]},
}


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_every_add_and_mod_validates_against_the_xsd(kind, assert_valid_qbxml):
    request = qbxml.add_request(kind, PAYLOADS[kind], "1")
    assert_valid_qbxml(qbxml.build_message([request], (16, 0)))


def test_queries_with_iterators_validate(assert_valid_qbxml):
    requests = [
        qbxml.customer_query("1", full_names=["A", "B"]), qbxml.customer_query("2", max_returned=10, iterator="Start"),
        qbxml.item_query("3", full_names=["SKU-1"]), qbxml.account_query("4", account_types=["Income"]),
        qbxml.account_query("5", full_names=["Sales"]),
        qbxml.item_inventory_query("6"), qbxml.item_inventory_query("7", iterator="Continue", iterator_id="{X}"),
        qbxml.sales_receipt_query("8", ref_numbers=["A1"]),
        qbxml.sales_receipt_query("9", date_from=date(2026, 1, 1), date_to=date(2026, 1, 31), max_returned=100,
                                  iterator="Start", include_lines=True),
        qbxml.txn_query("InvoiceQuery", "10", txn_ids=["1-1"]),
    ]
    assert_valid_qbxml(qbxml.build_message(requests, (16, 0), on_error="stopOnError"))


def test_an_element_the_schema_does_not_allow_is_a_record_error():
    with pytest.raises(RecordError, match="'Nickname' is not a qbXML element of CustomerAdd"):
        qbxml.add_request("CustomerAdd", {"Name": "A", "Nickname": "x"}, "1")


def test_field_limits():
    assert qbxml.check_limits("CustomerAdd", {"Name": "x" * 42}) == ["Name is 42 characters; QuickBooks allows 41"]
    assert qbxml.check_limits("ItemServiceAdd", {"Name": "x" * 32})
    assert qbxml.check_limits("SalesReceiptAdd", {"RefNumber": "x" * 12, "Memo": "m" * 4096}) == [
        "RefNumber is 12 characters; QuickBooks allows 11", "Memo is 4096 characters; QuickBooks allows 4095"]
    assert not qbxml.check_limits("SalesReceiptAdd", {"RefNumber": "x" * 11, "Memo": "m" * 4095})


def test_intuits_response_samples_are_read(reference_dir):
    samples = reference_dir / "qbxml" / "samples"
    [rs] = qbxml.parse_response((samples / "qbwc-qbxml" / "responses" / "sales_receipt_add_rs.xml").read_text())
    assert rs.status_code == 0 and rs.first["TxnID"] == "141CA5-1231522949" and rs.first["EditSequence"]
    [it] = qbxml.parse_response((samples / "qbwc-qbxml" / "responses" / "customer_query_terator_rs.xml").read_text())
    assert it.iterator_id and it.iterator_remaining is not None
    envelope = (samples / "flowlink" / "sales_order_add_rs_invalid_record_ref.xml").read_text()
    from ledgerlink_qb_desktop.soap import parse_envelope

    operation, values = parse_envelope(envelope.encode())
    [bad] = qbxml.parse_response(values["response"])
    assert operation == "receiveResponseXML" and bad.status_code == 3140 and '"Joe Smith"' in bad.message


@pytest.mark.parametrize("text", ["", "<QBXML", "<Other/>", "<QBXML><QBXMLMsgsRs><CustomerAddRs/></QBXMLMsgsRs></QBXML>"])
def test_unreadable_responses_raise(text):
    with pytest.raises(qbxml.QbxmlError):
        qbxml.parse_response(text)


def test_version_negotiation():
    assert qbxml.negotiate_version(16, 0) == (16, 0)
    assert qbxml.negotiate_version(17, 0) == (16, 0)
    assert qbxml.negotiate_version(13, 0) == (13, 0)
    assert qbxml.negotiate_version(0, 0) == (13, 0)
    assert qbxml.negotiate_version(7, 0) is None


def test_the_xsds_are_not_in_the_package():
    package = Path(qbxml.__file__).parent
    assert not [p for p in package.rglob("*") if p.suffix in (".xsd", ".wsdl")]


def test_simulator_responses_validate_against_the_xsd(assert_valid_qbxml):
    from ledgerlink_qb_desktop.sandbox import CompanyFile

    company = CompanyFile()
    requests = [qbxml.add_request(k, PAYLOADS[k], str(i)) for i, k in enumerate(
        ["CustomerAdd", "ItemNonInventoryAdd", "ItemServiceAdd", "ItemInventoryAdd"])]
    assert_valid_qbxml(company.handle(qbxml.build_message(requests, (16, 0))))
    more = [qbxml.add_request("CustomerAdd", {"Name": "C"}, "a"), qbxml.add_request("CustomerAdd", {"Name": "C"}, "b"),
            qbxml.add_request("ItemServiceAdd", {"Name": "Discount", "SalesOrPurchase": {"AccountRef": REF}}, "c"),
            qbxml.add_request("SalesReceiptAdd", PAYLOADS["SalesReceiptAdd"], "d"),
            qbxml.add_request("InvoiceAdd", PAYLOADS["InvoiceAdd"], "e"),
            qbxml.add_request("JournalEntryAdd", PAYLOADS["JournalEntryAdd"], "f"),
            qbxml.customer_query("g", full_names=["nobody"]), qbxml.item_inventory_query("h", max_returned=1),
            qbxml.sales_receipt_query("i", ref_numbers=["A1B2C3-3333"]), qbxml.account_query("j")]
    response = company.handle(qbxml.build_message(more, (16, 0)))
    assert_valid_qbxml(response)
    codes = [r.status_code for r in qbxml.parse_response(response)]
    assert codes[:2] == [0, 3100] and 500 in codes
