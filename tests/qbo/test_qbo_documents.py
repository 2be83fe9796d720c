"""Every document type through `write_batch` against the sandbox over loopback: the batch endpoint, per-item
faults, exactly once through injected faults, updates with SyncToken, company features and bad input."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledgerlink import (
    OutboundRecord, PermanentError, RecordError, RetryPolicy, WriteContext, json_dumps, json_loads,
)
from ledgerlink_qbo import QuickBooksOnlineDestination
from qbo_helpers import Credentials, Live, fast_destination


def open_destination(live: Live, dest: QuickBooksOnlineDestination | None = None, context: WriteContext | None = None,
                     **config: Any) -> QuickBooksOnlineDestination:
    dest = dest or fast_destination()
    dest.open(dest.parse_config(live.config(**config)), context or Credentials().context())
    return dest


def rec(stream: str, natural: str, data: dict[str, Any]) -> OutboundRecord:
    """An outbox record as the runtime hands it over: JSON round-tripped, amounts as Decimal."""
    return OutboundRecord(key=f"{stream}:test/{natural}", stream=stream, data=json_loads(json_dumps(data)))


def receipt(n: int, **extra: Any) -> OutboundRecord:
    return rec("SalesReceipt", f"r{n}", {
        "DocNumber": f"R-{n}", "TxnDate": "2025-04-01", "CustomerRef": {"name": "Cool Cars"},
        "Line": [{"Amount": "20.00", "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"ItemRef": {"name": "Services"}, "Qty": 2, "UnitPrice": "10.00",
                                          "TaxCodeRef": {"value": "NON"}}}], **extra})


def write(dest: QuickBooksOnlineDestination, records: list[OutboundRecord]) -> dict[str, Any]:
    by_stream: dict[str, list[OutboundRecord]] = {}
    for r in records:
        by_stream.setdefault(r.stream, []).append(r)
    out = {}
    for stream in dest.write_order:
        batch = by_stream.get(stream, [])
        for start in range(0, len(batch), dest.batch_size):
            out.update({r.key: r for r in dest.write_batch(stream, batch[start:start + dest.batch_size])})
    return out


def doc_numbers(live: Live, entity: str = "SalesReceipt") -> list[str]:
    return sorted(str(o.get("DocNumber")) for o in live.sandbox.company.entities[entity].values())


# ------------------------------------------------------------------------------------------------- batch


def test_documents_go_thirty_to_a_batch_call_each_with_its_own_result(live: Live):
    dest = open_destination(live)
    records = [receipt(n) for n in range(45)]
    records[7] = receipt(7, DocNumber="D" * 22)  # QBO's 21-character limit: a fault for this item alone
    results = write(dest, records)
    assert dest.api.batch_calls == 2  # 30 + 15
    bad = results[records[7].key]
    assert isinstance(bad.error, PermanentError) and not bad.retry
    assert bad.error.code == "2050" and "DocNumber" in str(bad.error) and records[7].key in str(bad.error)
    assert all(results[r.key].ok and results[r.key].created for r in records if r is not records[7])
    assert len(doc_numbers(live)) == 44
    first = live.sandbox.company.get("SalesReceipt", results[records[0].key].destination_id)
    assert first["PrivateNote"].split("\n")[0] == "ledgerlink SalesReceipt:test/r0"
    assert first["CustomerRef"]["name"] == "Cool Cars"


def test_the_batch_size_is_configurable(live: Live):
    dest = open_destination(live, batch_size=10)
    assert dest.batch_size == 10
    write(dest, [receipt(n) for n in range(25)])
    assert dest.api.batch_calls == 3


def test_a_second_run_finds_every_document_and_creates_nothing(live: Live):
    records = [receipt(n) for n in range(12)]
    first = write(open_destination(live), records)
    again = open_destination(live)
    second = write(again, records)
    assert all(r.ok and not r.created for r in second.values())
    assert {k: r.destination_id for k, r in second.items()} == {k: r.destination_id for k, r in first.items()}
    assert again.api.batch_calls == 0 and len(doc_numbers(live)) == 12


def test_a_hand_made_document_with_the_same_docnumber_is_not_taken_for_ours(live: Live):
    item = live.sandbox.company.id_named("Item", "Services")
    live.api("POST", "salesreceipt", json={"DocNumber": "R-1", "Line": [{"Amount": 5, "DetailType":
                                           "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": item}}}]})
    result = write(open_destination(live), [receipt(1)])[receipt(1).key]
    assert result.ok and result.created
    assert doc_numbers(live) == ["R-1", "R-1"]


def test_through_injected_faults_every_document_is_posted_exactly_once(live: Live):
    """Responses lost after the server committed, 500s and 429s: an answered 5xx is looked up and what is not
    there is resent under new requestids (QBO replays a repeated id's first answer, errors too)."""
    records = [receipt(n) for n in range(70)]
    live.inject("/batch", 504, count=1, after_commit=True)   # committed, the answer lost: replayed on retry
    live.inject("/batch", 500, count=1)
    live.inject("/batch", 429, count=2)
    live.inject("/query", 500, count=1)
    dest = open_destination(live, QuickBooksOnlineDestination(
        retry=RetryPolicy(max_attempts=8, base_delay=0.001, max_delay=0.002, jitter=False), sleep=lambda s: None))
    first = write(dest, records)
    assert all(r.ok for r in first.values()), [str(r.error) for r in first.values() if not r.ok]
    stats = live.stats()["counters"]
    assert stats["lost_responses"] == 1
    # now a batch whose every answer is lost: the look-up after the failed call finds what it committed
    more = [receipt(n) for n in range(70, 80)]
    live.inject("/batch", 504, count=10, after_commit=True)
    settled = write(dest, more)
    assert all(r.ok and not r.created for r in settled.values())
    # 30 + 30 + 10 with the 500'd call resent (the 504'd one was found, not resent), then the 10 found
    assert dest.api.batch_calls == 5
    numbers = doc_numbers(live)
    assert len(numbers) == len(set(numbers)) == 80


def test_a_malformed_answer_after_commit_is_transient_and_the_next_run_finds_the_documents(live: Live):
    live.inject("/batch", 200, count=10, after_commit=True, content="<html><body>Gateway</body></html>")
    records = [receipt(n) for n in range(5)]
    first = write(open_destination(live), records)  # the look-up after the garbled answer finds them
    assert all(r.ok and not r.created for r in first.values())
    live.http.delete("/_sandbox/faults")
    second = write(open_destination(live), records)
    assert all(r.ok and not r.created for r in second.values())
    assert len(doc_numbers(live)) == 5


# ------------------------------------------------------------------------------------------- documents


def invoice(n: int, amount: str = "100.00", customer: str = "Cool Cars") -> OutboundRecord:
    return rec("Invoice", f"i{n}", {
        "DocNumber": f"INV-{n}", "TxnDate": "2025-04-01", "CustomerRef": {"name": customer},
        "Line": [{"Amount": amount, "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"ItemRef": {"name": "Services"}, "Qty": 1, "UnitPrice": amount}}]})


def payment(n: int, invoice_doc: str, amount: str, total: str | None = None) -> OutboundRecord:
    return rec("Payment", f"p{n}", {
        "TxnDate": "2025-04-02", "CustomerRef": {"name": "Cool Cars"}, "TotalAmt": total or amount,
        "PaymentMethodRef": {"name": "Visa"},
        "Line": [{"Amount": amount, "LinkedTxn": [{"TxnType": "Invoice", "DocNumber": invoice_doc}]}]})


def test_invoices_and_payments_linked_to_them(live: Live):
    dest = open_destination(live)
    records = [invoice(1), invoice(2, "50.00"), payment(1, "INV-1", "100.00"), payment(2, "INV-2", "20.00", "25.00"),
               payment(3, "INV-404", "1.00")]
    results = write(dest, records)
    company = live.sandbox.company
    inv1, inv2 = (company.get("Invoice", results[invoice(n).key].destination_id) for n in (1, 2))
    assert (Decimal(str(inv1["Balance"])), Decimal(str(inv2["Balance"]))) == (Decimal(0), Decimal(30))
    pay2 = company.get("Payment", results[records[3].key].destination_id)
    assert pay2["Line"][0]["LinkedTxn"][0] == {"TxnType": "Invoice", "TxnId": inv2["Id"]}
    assert Decimal(str(pay2["UnappliedAmt"])) == Decimal(5)
    assert pay2["PaymentMethodRef"]["name"] == "Visa"
    missing = results[records[4].key].error
    assert isinstance(missing, RecordError) and missing.field == "LinkedTxn" and "INV-404" in str(missing)


def test_a_payment_larger_than_the_invoice_is_refused_with_intuits_words(live: Live):
    dest = open_destination(live)
    results = write(dest, [invoice(1, "10.00"), payment(1, "INV-1", "15.00")])
    error = results[payment(1, "INV-1", "15.00").key].error
    assert isinstance(error, PermanentError) and error.code == "6000" and "open balance" in str(error)


def journal(n: int, debit: str, credit: str, **line: Any) -> OutboundRecord:
    return rec("JournalEntry", f"j{n}", {"DocNumber": f"JE-{n}", "TxnDate": "2025-04-30", "Line": [
        {"Amount": debit, "DetailType": "JournalEntryLineDetail",
         "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"name": "Merchant Fees"}, **line}},
        {"Amount": credit, "DetailType": "JournalEntryLineDetail",
         "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": {"name": "Checking"}}}]})


def test_journal_entries_must_balance_and_the_rest_of_the_batch_posts(live: Live):
    dest = open_destination(live)
    ok, unbalanced = journal(1, "12.34", "12.34"), journal(2, "12.34", "12.30")
    results = write(dest, [ok, unbalanced, journal(3, "1.00", "1.00")])
    assert results[ok.key].ok and results[journal(3, "1.00", "1.00").key].ok
    error = results[unbalanced.key].error
    assert isinstance(error, PermanentError) and error.code == "6000" and "balanced" in str(error)
    assert unbalanced.key in str(error) and not results[unbalanced.key].retry


def test_journal_entry_lines_name_customers_vendors_or_employees(live: Live):
    dest = open_destination(live)
    entry = journal(1, "5.00", "5.00", Entity={"Type": "Vendor", "EntityRef": {"name": "Books by Bessie"}})
    result = write(dest, [entry])[entry.key]
    assert result.ok
    doc = live.sandbox.company.get("JournalEntry", result.destination_id)
    assert doc["Line"][0]["JournalEntryLineDetail"]["Entity"]["EntityRef"]["name"] == "Books by Bessie"


def test_deposits_credit_memos_and_refund_receipts(live: Live):
    dest = open_destination(live)
    records = [
        rec("CreditMemo", "c1", {"DocNumber": "CM-1", "TxnDate": "2025-04-03", "CustomerRef": {"name": "Cool Cars"},
                                 "Line": [{"Amount": "7.50", "DetailType": "SalesItemLineDetail",
                                           "SalesItemLineDetail": {"ItemRef": {"name": "Services"}}}]}),
        rec("RefundReceipt", "f1", {"DocNumber": "RF-1", "TxnDate": "2025-04-03", "CustomerRef": {"name": "Cool Cars"},
                                    "DepositToAccountRef": {"name": "Checking"},
                                    "Line": [{"Amount": "3.00", "DetailType": "SalesItemLineDetail",
                                              "SalesItemLineDetail": {"ItemRef": {"name": "Services"}}}]}),
        rec("Deposit", "d1", {"TxnDate": "2025-04-04", "DepositToAccountRef": {"name": "Checking"},
                              "Line": [{"Amount": "100.00", "DetailType": "DepositLineDetail",
                                        "DepositLineDetail": {"AccountRef": {"name": "Services"}}},
                                       {"Amount": "-2.90", "DetailType": "DepositLineDetail",
                                        "DepositLineDetail": {"AccountRef": {"name": "Merchant Fees"}}}]}),
        rec("RefundReceipt", "f2", {"DocNumber": "RF-2", "TxnDate": "2025-04-03", "CustomerRef": {"name": "Cool Cars"},
                                    "Line": [{"Amount": "3.00", "DetailType": "SalesItemLineDetail",
                                              "SalesItemLineDetail": {"ItemRef": {"name": "Services"}}}]}),
    ]
    results = write(dest, records)
    assert [results[r.key].ok for r in records] == [True, True, True, False]
    assert results[records[3].key].error.code == "2020"  # a refund must say which account paid it
    deposit = live.sandbox.company.get("Deposit", results[records[2].key].destination_id)
    assert Decimal(str(deposit["TotalAmt"])) == Decimal("97.10")
    again = write(open_destination(live), records[:3])  # the deposit has no DocNumber: found by date + key
    assert all(r.ok and not r.created for r in again.values())


def test_inventory_adjustments_only_move_inventory_items(live: Live):
    dest = open_destination(live)
    adjust = lambda n, item: rec("InventoryAdjustment", f"a{n}", {  # noqa: E731
        "DocNumber": f"ADJ-{n}", "TxnDate": "2025-04-05", "AdjustAccountRef": {"name": "Inventory Shrinkage"},
        "Line": [{"DetailType": "ItemAdjustmentLineDetail",
                  "ItemAdjustmentLineDetail": {"ItemRef": {"name": item}, "QtyDiff": -3}}]})
    results = write(dest, [adjust(1, "Sprinkler Heads"), adjust(2, "Services")])
    assert results[adjust(1, "Sprinkler Heads").key].ok
    error = results[adjust(2, "Services").key].error
    assert isinstance(error, PermanentError) and error.code == "6000" and "not an inventory item" in str(error)
    item = live.sandbox.company.entities["Item"][live.sandbox.company.id_named("Item", "Sprinkler Heads")]
    assert item["QtyOnHand"] == Decimal(22)


@pytest.mark.sandbox_options(inventory_tracking=False)
def test_a_posting_that_needs_a_feature_the_company_lacks_is_refused_with_guidance(live: Live):
    dest = open_destination(live)
    adjust = rec("InventoryAdjustment", "a1", {"DocNumber": "ADJ-1", "AdjustAccountRef": {"name": "Checking"},
                                               "Line": []})
    classed = receipt(1, ClassRef={"name": "Online"})
    results = write(dest, [adjust, classed])
    assert "inventory tracking" in str(results[adjust.key].error) and "turn it on" in str(results[adjust.key].error)
    assert results[classed.key].error.field == "ClassRef" and "class tracking" in str(results[classed.key].error)
    assert live.stats()["counters"].get("batches", 0) == 0


@pytest.mark.sandbox_options(class_tracking=True, track_departments=True)
def test_class_and_location_references_are_resolved_when_the_company_tracks_them(live: Live):
    dest = open_destination(live)
    doc = receipt(1, ClassRef={"name": "Online"}, DepartmentRef={"name": "West"})
    looked_up = write(dest, [doc, rec("Class", "online", {"Name": "Online"}), rec("Class", "x", {"Name": "Nope"})])
    saved = live.sandbox.company.get("SalesReceipt", looked_up[doc.key].destination_id)
    assert saved["ClassRef"]["name"] == "Online" and saved["DepartmentRef"]["name"] == "West"
    assert looked_up["Class:test/online"].destination_id == live.sandbox.company.id_named("Class", "Online")
    assert "no Class named 'Nope'" in str(looked_up["Class:test/x"].error)


@pytest.mark.sandbox_options(custom_txn_numbers=False)
def test_without_custom_transaction_numbers_documents_are_found_by_date_and_key(live: Live):
    records = [receipt(n) for n in range(3)]
    write(open_destination(live), records)
    again = write(open_destination(live), records)
    assert all(r.ok and not r.created for r in again.values())


def test_accounts_are_looked_up_then_created(live: Live):
    dest = open_destination(live)
    records = [rec("Account", "checking", {"Name": "checking", "AccountType": "Bank"}),
               rec("Account", "amazon", {"Name": "Amazon Clearing", "AccountType": "Bank"})]
    results = write(dest, records)
    assert not results[records[0].key].created
    assert results[records[0].key].destination_id == live.sandbox.company.id_named("Account", "Checking")
    assert results[records[1].key].created
    assert write(open_destination(live), records)[records[1].key].created is False


# ---------------------------------------------------------------------------------------------- updates


def test_an_update_with_a_stale_sync_token_reads_again_and_retries(live: Live):
    dest = open_destination(live)
    cool = live.sandbox.company.id_named("Customer", "Cool Cars")
    live.api("POST", "customer", json={"Id": cool, "SyncToken": "0", "sparse": True, "Notes": "someone else"})
    update = rec("Customer", "cool", {"Id": cool, "SyncToken": "0", "Notes": "ours"})
    result = write(dest, [update])[update.key]
    assert result.ok and result.version == "2"
    assert live.sandbox.company.get("Customer", cool)["Notes"] == "ours"
    doc = write(dest, [receipt(1)])[receipt(1).key]
    change = rec("SalesReceipt", "r1-memo", {"Id": doc.destination_id, "PrivateNote": "ledgerlink x\nchanged"})
    assert write(dest, [change])[change.key].version == "1"  # no SyncToken given: read first


# -------------------------------------------------------------------------------------------- bad input


def test_bad_input_is_a_clear_error_and_nothing_else_in_the_batch_is_lost(live: Live):
    dest = open_destination(live)
    records = [
        receipt(1, Line=[{"Amount": "20.001", "DetailType": "SalesItemLineDetail",
                          "SalesItemLineDetail": {"ItemRef": {"name": "Services"}}}]),
        receipt(2, Line=[{"Amount": "5.00", "DetailType": "SalesItemLineDetail",
                          "SalesItemLineDetail": {"ItemRef": {"name": "SKU-UNKNOWN"}}}]),
        receipt(3, DepositToAccountRef={"name": "Amazon Clearing"}),
        receipt(4),
        rec("Customer", "colon", {"DisplayName": "Amazon: US"}),
        rec("Customer", "quotes", {"DisplayName": 'O\'Brien "Bob" \\ Sons'}),
    ]
    results = write(dest, records)
    amount = results[records[0].key].error
    assert isinstance(amount, RecordError) and amount.field == "Line[0].Amount" and "2 decimals" in str(amount)
    sku = results[records[1].key].error
    assert sku.field == "ItemRef" and "SKU-UNKNOWN" in str(sku) and "create_items" in sku.hint
    account = results[records[2].key].error
    assert account.field == "DepositToAccountRef" and "deposit_account" in account.hint
    assert results[records[3].key].ok
    colon = results["Customer:test/colon"].error
    assert colon.field == "DisplayName" and "colon" in str(colon)
    quoted = results["Customer:test/quotes"]
    assert quoted.ok and quoted.created
    # the quoted name is found again by a query that escapes it
    assert write(open_destination(live), [records[5]])["Customer:test/quotes"].created is False


def test_an_expired_token_is_refreshed_and_the_batch_posts(live: Live):
    creds = Credentials()
    dest = open_destination(live, context=creds.context())
    live.inject("/batch", 401, count=1)
    results = write(dest, [receipt(1)])
    assert results[receipt(1).key].ok
    assert len([n for n, _ in creds.saves if not n.endswith(":expires_at")]) == 2  # the 401 led to a refresh, whose rotated token was saved at once


def test_a_batch_throttled_beyond_the_retries_leaves_every_record_pending(live: Live):
    dest = QuickBooksOnlineDestination(retry=RetryPolicy(max_attempts=2, base_delay=0.001, jitter=False),
                                       sleep=lambda s: None)
    open_destination(live, dest)
    live.inject("/batch", 429, count=5)
    results = write(dest, [receipt(n) for n in range(3)])
    assert all(r.retry and r.error.code == "3001" for r in results.values())


# ------------------------------------------------------------------------------------ reference freshness


def test_change_data_capture_forgets_a_customer_made_inactive_in_quickbooks(live: Live):
    context = Credentials().context()
    dest = open_destination(live, context=context)
    assert write(dest, [receipt(1)])[receipt(1).key].ok
    cool = live.sandbox.company.get("Customer", live.sandbox.company.id_named("Customer", "Cool Cars"))
    assert dest.refs.get("Customer", "Cool Cars") == cool["Id"]
    live.api("POST", "customer", json={"Id": cool["Id"], "SyncToken": cool["SyncToken"], "sparse": True,
                                       "Active": False})
    again = open_destination(live, context=context)  # same reference cache, next run
    assert again.refs.get("Customer", "Cool Cars") is None
    error = write(again, [receipt(2)])[receipt(2).key].error
    assert isinstance(error, RecordError) and "inactive" in str(error)
