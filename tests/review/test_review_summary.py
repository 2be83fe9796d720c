"""Reading a planned document for the review queue, in the shapes the built-in ledgers plan."""

from __future__ import annotations

from decimal import Decimal

from ledgerlink.review import summarise


def test_a_quickbooks_online_receipt_with_a_discount_and_tax():
    payload = {
        "DocNumber": "112-1", "TxnDate": "2026-03-02", "CustomerRef": {"name": "Amazon.com USD"},
        "CurrencyRef": {"value": "USD"}, "DepositToAccountRef": {"name": "Undeposited Funds"},
        "Line": [
            {"Description": "Mug", "Amount": Decimal("30.00"), "DetailType": "SalesItemLineDetail",
             "SalesItemLineDetail": {"ItemRef": {"name": "MUG-1"}, "Qty": 2, "TaxCodeRef": {"value": "TAX"}}},
            {"Amount": Decimal("5.00"), "DetailType": "DiscountLineDetail", "DiscountLineDetail": {}},
        ],
        "TxnTaxDetail": {"TotalTax": Decimal("2.00")},
        "_ledgerlink": {"create": ["Customer"]},  # a write instruction, not the document
    }
    items = [{"Name": "MUG-1", "IncomeAccountRef": {"name": "Sales of Product Income"}}]
    s = summarise(payload, items)
    assert (s.customer, s.date, s.number, s.currency) == ("Amazon.com USD", "2026-03-02", "112-1", "USD")
    assert [(ln.item, ln.quantity, ln.amount, ln.account, ln.tax_code) for ln in s.lines] == [
        ("MUG-1", Decimal(2), Decimal("30.00"), "Sales of Product Income", "TAX"),
        (None, None, Decimal("-5.00"), None, None)]
    assert s.lines[1].description == "discount"
    assert s.tax == Decimal("2.00") and s.total == Decimal("27.00")
    assert s.accounts == ["Sales of Product Income", "Undeposited Funds"]


def test_a_quickbooks_desktop_request_is_read_inside_its_wrapper():
    payload = {"SalesReceiptAdd": {
        "CustomerRef": {"FullName": "Amazon.com"}, "TxnDate": "2026-03-02", "RefNumber": "112-1",
        "DepositToAccountRef": {"FullName": "Undeposited Funds"},
        "SalesReceiptLineAdd": [{"ItemRef": {"FullName": "MUG-1"}, "Desc": "Mug", "Quantity": 2, "Amount": "30.00"},
                                {"ItemRef": {"FullName": "Shipping"}, "Amount": "4.99"}]}}
    s = summarise(payload)
    assert (s.customer, s.number) == ("Amazon.com", "112-1")
    assert [ln.description for ln in s.lines] == ["Mug", None] and s.total == Decimal("34.99")
    assert s.accounts == ["Undeposited Funds"]


def test_a_journal_is_as_large_as_one_of_its_sides():
    line = lambda amount, kind, account: {  # noqa: E731
        "Amount": amount, "DetailType": "JournalEntryLineDetail",
        "JournalEntryLineDetail": {"PostingType": kind, "AccountRef": {"name": account}}}
    payload = {"TxnDate": "2026-03-04", "Line": [line("100.00", "Debit", "Bank"), line("80.00", "Credit", "Sales"),
                                                 line("20.00", "Credit", "Amazon Reserve")]}
    s = summarise(payload)
    assert s.total == Decimal("100.00") and s.customer is None
    assert [(ln.posting_type, ln.account) for ln in s.lines] == [
        ("Debit", "Bank"), ("Credit", "Sales"), ("Credit", "Amazon Reserve")]
    assert s.accounts == ["Bank", "Sales", "Amazon Reserve"]


def test_what_it_cannot_read_is_left_empty():
    s = summarise({"Whatever": {"x": 1}, "Amount": "not a number"})
    assert s.lines == [] and s.total is None and s.customer is None and s.date is None
