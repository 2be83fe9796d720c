"""The simulated company file answers order-to-cash requests as QuickBooks does, and its answers validate
against Intuit's qbXML 16.0 XSD: invoices with a balance, payments applied to them (never beyond what is owed,
never to another customer's invoice), voids, and currencies refused while multicurrency is off."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ledgerlink_qb_desktop import qbxml
from ledgerlink_qb_desktop.sandbox import CompanyFile

XSD = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "qbxml" / "xsd-16.0" / "qbxmlops160.xsd"


@pytest.fixture
def company():
    pytest.importorskip("lxml")
    if not XSD.exists():
        pytest.skip("qbXML XSD not found")
    return CompanyFile(xsd=str(XSD))


@pytest.fixture
def schema():
    etree = pytest.importorskip("lxml.etree")
    return etree.XMLSchema(etree.parse(str(XSD)))


def ask(company, schema, *requests):
    """Send requests (each validated as a request by the simulator), check the answer against the XSD."""
    from lxml import etree

    text = company.handle(qbxml.build_message(list(requests), (16, 0)))
    assert schema.validate(etree.fromstring(text.encode())), schema.error_log.last_error
    return qbxml.parse_response(text)


def _setup(company, schema, customers=("Buyer A", "Buyer B")):
    reqs = [qbxml.add_request("CustomerAdd", {"Name": c}, f"c{i}") for i, c in enumerate(customers)]
    reqs.append(qbxml.add_request("ItemNonInventoryAdd", {"Name": "SKU-1", "SalesOrPurchase": {
        "AccountRef": {"FullName": "Sales"}}}, "i"))
    assert all(r.status_code == 0 for r in ask(company, schema, *reqs))


def _invoice(company, schema, customer="Buyer A", amount="30.00", ref="INV1"):
    rs = ask(company, schema, qbxml.add_request("InvoiceAdd", {
        "CustomerRef": {"FullName": customer}, "RefNumber": ref, "Memo": f"ledgerlink Invoice:{ref}",
        "InvoiceLineAdd": [{"ItemRef": {"FullName": "SKU-1"}, "Quantity": 1, "Amount": Decimal(amount)}]}, "inv"))[0]
    assert rs.status_code == 0, rs.message
    assert rs.first["BalanceRemaining"] == amount and rs.first["IsPaid"] == "false"
    return rs.first["TxnID"]


def _payment(customer, txn_id, amount, total=None):
    return {"CustomerRef": {"FullName": customer}, "TotalAmount": Decimal(total or amount), "RefNumber": "P1",
            "DepositToAccountRef": {"FullName": "Undeposited Funds"},
            "AppliedToTxnAdd": [{"TxnID": txn_id, "PaymentAmount": Decimal(amount)}]}


def test_a_payment_closes_the_invoice_it_is_applied_to(company, schema):
    _setup(company, schema)
    txn_id = _invoice(company, schema)
    part = ask(company, schema, qbxml.add_request("ReceivePaymentAdd", _payment("Buyer A", txn_id, "10.00"), "p1"))[0]
    assert part.status_code == 0 and part.first["AppliedToTxnRet"]["BalanceRemaining"] == "20.00"
    rest = ask(company, schema, qbxml.add_request("ReceivePaymentAdd", _payment("Buyer A", txn_id, "20.00"), "p2"))[0]
    assert rest.status_code == 0
    invoice = ask(company, schema, qbxml.txn_query("InvoiceQuery", "q", txn_ids=[txn_id]))[0].first
    assert invoice["BalanceRemaining"] == "0.00" and invoice["IsPaid"] == "true"
    assert invoice["AppliedAmount"] == "-30.00" and len(invoice["LinkedTxn"]) == 2
    payments = ask(company, schema, qbxml.txn_query("ReceivePaymentQuery", "r", ref_numbers=["P1"]))[0]
    assert [p["TotalAmount"] for p in payments.rets] == ["10.00", "20.00"]


def test_over_payment_and_another_customers_invoice_are_refused(company, schema):
    _setup(company, schema)
    txn_id = _invoice(company, schema)
    over = ask(company, schema, qbxml.add_request("ReceivePaymentAdd", _payment("Buyer A", txn_id, "30.01"), "p"))[0]
    assert over.status_code == 3210 and "You cannot pay more than the amount due" in over.message
    other = ask(company, schema, qbxml.add_request("ReceivePaymentAdd", _payment("Buyer B", txn_id, "5.00"), "p"))[0]
    assert other.status_code == 3120 and txn_id in other.message
    more_than_paid = ask(company, schema, qbxml.add_request(
        "ReceivePaymentAdd", _payment("Buyer A", txn_id, "10.00", total="5.00"), "p"))[0]
    assert more_than_paid.status_code == 3210
    assert company.txns.get("ReceivePayment", []) == []
    assert company.txns["Invoice"][0]["BalanceRemaining"] == "30.00"


def test_void_keeps_the_transaction_with_zero_amounts_and_is_harmless_twice(company, schema):
    _setup(company, schema)
    receipt = ask(company, schema, qbxml.add_request("SalesReceiptAdd", {
        "CustomerRef": {"FullName": "Buyer A"}, "RefNumber": "SR1", "Memo": "ledgerlink SalesReceipt:x",
        "SalesReceiptLineAdd": [{"ItemRef": {"FullName": "SKU-1"}, "Amount": Decimal("12.50")}]}, "s"))[0].first
    void = {"TxnVoidType": "SalesReceipt", "TxnID": receipt["TxnID"]}
    first = ask(company, schema, qbxml.add_request("TxnVoid", void, "v1"))[0]
    assert first.status_code == 0
    again = ask(company, schema, qbxml.add_request("TxnVoid", void, "v2"))[0]
    assert again.status_code == 0
    found = ask(company, schema, qbxml.txn_query("SalesReceiptQuery", "q", ref_numbers=["SR1"]))[0].first
    assert found["TotalAmount"] == "0.00" and found["RefNumber"] == "SR1"
    assert found["Memo"] == "VOID: ledgerlink SalesReceipt:x"
    missing = ask(company, schema, qbxml.add_request("TxnVoid", {"TxnVoidType": "Invoice", "TxnID": "1-1"}, "v3"))[0]
    assert missing.status_code == 3120


def test_a_paid_invoice_is_not_voided(company, schema):
    _setup(company, schema)
    txn_id = _invoice(company, schema)
    ask(company, schema, qbxml.add_request("ReceivePaymentAdd", _payment("Buyer A", txn_id, "30.00"), "p"))
    refused = ask(company, schema, qbxml.add_request("TxnVoid", {"TxnVoidType": "Invoice", "TxnID": txn_id}, "v"))[0]
    assert refused.status_code == 3210 and "payments applied" in refused.message


def test_currencies_are_refused_while_multicurrency_is_off(company, schema):
    rs = ask(company, schema, qbxml.add_request("CustomerAdd", {"Name": "Amazon.ca CAD",
                                                                "CurrencyRef": {"FullName": "Canadian Dollar"}}, "c"))[0]
    assert rs.status_code == 3250 and "Multicurrency" in rs.message
    _setup(company, schema, customers=("Buyer A",))
    rate = ask(company, schema, qbxml.add_request("InvoiceAdd", {
        "CustomerRef": {"FullName": "Buyer A"}, "ExchangeRate": Decimal("0.73"),
        "InvoiceLineAdd": [{"ItemRef": {"FullName": "SKU-1"}, "Amount": Decimal("1.00")}]}, "i"))[0]
    assert rate.status_code == 3250 and "Invoice" not in company.txns


def test_documents_carry_the_customers_currency_when_multicurrency_is_on(schema):
    pytest.importorskip("lxml")
    company = CompanyFile(xsd=str(XSD), multicurrency=True)
    ask(company, schema, qbxml.add_request("CustomerAdd", {"Name": "Amazon.ca CAD",
                                                           "CurrencyRef": {"FullName": "Canadian Dollar"}}, "c"),
        qbxml.add_request("ItemNonInventoryAdd", {"Name": "SKU-1", "SalesOrPurchase": {
            "AccountRef": {"FullName": "Sales"}}}, "i"))
    rs = ask(company, schema, qbxml.add_request("InvoiceAdd", {
        "CustomerRef": {"FullName": "Amazon.ca CAD"}, "ExchangeRate": Decimal("0.73"),
        "InvoiceLineAdd": [{"ItemRef": {"FullName": "SKU-1"}, "Amount": Decimal("10.00")}]}, "i"))[0]
    assert rs.status_code == 0
    assert rs.first["CurrencyRef"]["FullName"] == "Canadian Dollar" and rs.first["ExchangeRate"] == "0.73"


def test_an_unknown_class_is_an_invalid_reference_until_it_is_added(company, schema):
    _setup(company, schema, customers=("Buyer A",))
    receipt = {"CustomerRef": {"FullName": "Buyer A"}, "ClassRef": {"FullName": "Store EU"},
               "SalesReceiptLineAdd": [{"ItemRef": {"FullName": "SKU-1"}, "Amount": Decimal("1.00")}]}
    first = ask(company, schema, qbxml.add_request("SalesReceiptAdd", receipt, "s"))[0]
    assert first.status_code == 3140 and 'QuickBooks Class "Store EU"' in first.message
    ask(company, schema, qbxml.add_request("ClassAdd", {"Name": "Store EU"}, "k"))
    second = ask(company, schema, qbxml.add_request("SalesReceiptAdd", receipt, "s"))[0]
    assert second.status_code == 0 and second.first["ClassRef"]["FullName"] == "Store EU"
