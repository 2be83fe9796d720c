"""Issue 4's bad input, case by case, in one place: unknown SKU, missing account mapping, a customer name with a
colon or quotes, an amount with more than 2 decimals, a 6000 validation fault, a 401 with an expired token, a
malformed response body. Each is a clear error (or a dead letter with Intuit's message) for that record alone;
the rest of the batch posts, once.

More of the same elsewhere: test_qbo_documents.py (unbalanced journals, lost responses), test_qbo_destination.py
(unknown SKU without create_items, a refused refresh token)."""

from __future__ import annotations

from decimal import Decimal

from ledgerlink import PermanentError, RecordError, RetryPolicy
from ledgerlink_qbo import QuickBooksOnlineDestination
from qbo_helpers import Credentials, Live
from test_qbo_documents import doc_numbers, open_destination, rec, receipt, write


def test_each_bad_document_fails_alone_with_a_clear_error_and_the_rest_post_once(live: Live):
    item_line = {"Amount": "5.00", "DetailType": "SalesItemLineDetail",
                 "SalesItemLineDetail": {"ItemRef": {"name": "SKU-UNKNOWN"}}}
    records = [
        receipt(1),
        receipt(2, Line=[item_line]),                                                  # unknown SKU
        receipt(3, DepositToAccountRef={"name": "Amazon Clearing"}),                   # no such account
        receipt(4, TxnTaxDetail={"TotalTax": "1.005"}),                                # 3 decimals
        receipt(5, TxnTaxDetail={"TotalTax": "-50.00"}),                               # QBO: 6000
        receipt(6),
    ]
    results = write(open_destination(live), records)
    assert results[records[0].key].ok and results[records[5].key].ok
    sku = results[records[1].key].error
    assert isinstance(sku, RecordError) and sku.field == "ItemRef" and "no Item named 'SKU-UNKNOWN'" in str(sku)
    assert sku.hint == "create the item in QuickBooks or set create_items: true"
    account = results[records[2].key].error
    assert isinstance(account, RecordError) and account.field == "DepositToAccountRef"
    assert "'Amazon Clearing'" in str(account) and "deposit_account" in account.hint
    assert "create_missing_accounts" in account.hint
    decimals = results[records[3].key].error
    assert isinstance(decimals, RecordError) and decimals.field == "TxnTaxDetail.TotalTax"
    assert "more than 2 decimals" in str(decimals) and "money" in decimals.hint
    refused = results[records[4].key]
    assert isinstance(refused.error, PermanentError) and not refused.retry and refused.error.code == "6000"
    assert refused.error.remote_message == ("A business validation error has occurred while processing your request: "
                                            "Business Validation Error: The SalesReceipt total can't be negative. "
                                            "(element TotalAmt)")
    assert records[4].key in str(refused.error) and "business rule" in refused.error.hint
    assert not any(results[r.key].retry for r in records)
    assert doc_numbers(live) == ["R-1", "R-6"]


def test_customer_names_with_a_colon_fail_and_with_quotes_post_and_are_found_again(live: Live):
    records = [rec("Customer", "colon", {"DisplayName": "Amazon: US"}),
               rec("Customer", "quotes", {"DisplayName": 'O\'Brien "Bob" \\ Sons'}),
               rec("Customer", "plain", {"DisplayName": "Plain Buyer"})]
    results = write(open_destination(live), records)
    colon = results["Customer:test/colon"].error
    assert isinstance(colon, RecordError) and colon.field == "DisplayName" and "colon" in str(colon)
    assert "replace the colon" in colon.hint
    assert results["Customer:test/quotes"].created and results["Customer:test/plain"].created
    again = write(open_destination(live), records[1:])  # found by a query that escapes the quote
    assert all(r.ok and not r.created for r in again.values())
    names = [c["DisplayName"] for c in live.sandbox.company.entities["Customer"].values()]
    assert names.count('O\'Brien "Bob" \\ Sons') == 1


def test_an_expired_access_token_is_refreshed_and_the_batch_posts(live: Live):
    creds = Credentials()
    dest = open_destination(live, context=creds.context())
    live.http.post("/_sandbox/tokens/expire")
    results = write(dest, [receipt(1), receipt(2)])
    assert all(r.ok for r in results.values())
    assert len([n for n, _ in creds.saves if not n.endswith(":expires_at")]) == 2  # the rotated token of the second refresh was stored at once


def test_a_401_that_outlives_the_refresh_says_to_reauthorise_and_loses_nothing(live: Live):
    creds = Credentials()
    dest = open_destination(live, context=creds.context())
    live.inject("/batch", 401, count=10)
    records = [receipt(n) for n in range(3)]
    results = write(dest, records)
    for record in records:
        error = results[record.key].error
        assert isinstance(error, PermanentError) and error.status == 401 and record.key in str(error)
        assert "Token expired" in str(error) and "re-authorise" in error.hint
    assert doc_numbers(live) == []
    live.http.delete("/_sandbox/faults")
    again = write(open_destination(live, context=creds.context()), records)  # `dlq retry`, re-authorised
    assert all(r.ok and r.created for r in again.values()) and len(doc_numbers(live)) == 3


def test_a_malformed_body_on_the_look_up_before_posting_posts_nothing_and_the_next_run_posts_once(live: Live):
    dest = open_destination(live, QuickBooksOnlineDestination(
        retry=RetryPolicy(max_attempts=2, base_delay=0.001, jitter=False), sleep=lambda s: None))
    live.inject("/query", 200, count=5, content='{"QueryResponse": {"SalesReceipt": [')  # cut off
    records = [receipt(n) for n in range(3)]
    results = write(dest, records)
    assert all(r.retry and "not a JSON object" in str(r.error) for r in results.values())
    assert doc_numbers(live) == []  # without the look-up, posting could have made a second copy
    live.http.delete("/_sandbox/faults")
    again = write(open_destination(live), records)
    assert all(r.ok for r in again.values()) and len(doc_numbers(live)) == 3
    receipt_ids = {r.destination_id for r in again.values()}
    assert {Decimal(str(live.sandbox.company.get("SalesReceipt", i)["TotalAmt"])) for i in receipt_ids} == {
        Decimal("20.00")}
