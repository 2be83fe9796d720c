"""The destination against the sandbox over loopback: exactly-once writes, links, faults and retries."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink import PermanentError, RecordError, RetryPolicy, ThrottledError, WriteContext, request_id
from ledgerlink_qbo import QuickBooksOnlineDestination
from ledgerlink_qbo.client import QboApi
from ledgerlink_qbo.config import QboConfig
from ledgerlink_qbo.destination import credential_name
from qbo_helpers import Credentials, Live, PlanCtx, as_outbox, fast_destination, make_line, make_order, write_all


def open_destination(live: Live, creds: Credentials | None = None, **config: object):
    dest = fast_destination()
    creds = creds or Credentials()
    dest.open(dest.parse_config(live.config(**config)), creds.context())
    return dest, creds


def planned(order=None, **options):
    order = order or make_order()
    return order, as_outbox(fast_destination().plan(order, PlanCtx(options)))


def test_an_order_posts_customer_items_and_a_receipt_with_the_orders_total(live: Live):
    order, records = planned()
    dest, _ = open_destination(live)
    results = write_all(dest, records)
    assert all(r.ok for r in results.values()), results
    created = {r.key for r in results.values() if r.created}
    assert created == {r.key for r in records} - {"Item:Shipping", "Item:Gift Wrap"}  # seeded, linked
    receipt = results[records[-1].key]
    doc = live.api("GET", f"salesreceipt/{receipt.destination_id}").json()["SalesReceipt"]
    assert Decimal(str(doc["TotalAmt"])) == order.grand_total.amount == Decimal("46.02")
    assert doc["CustomerRef"]["name"] == "Amazon.com USD"
    assert doc["DepositToAccountRef"]["name"] == "Undeposited Funds"
    assert doc["PrivateNote"].startswith("ledgerlink SalesReceipt:amazon_sp/order/")
    assert receipt.version == "0"
    assert live.stats()["objects"]["SalesReceipt"] == 1
    dest.close()


def test_writing_the_same_records_again_creates_nothing(live: Live):
    _, records = planned()
    dest, _ = open_destination(live)
    first = write_all(dest, records)
    before = live.stats()["objects"]
    # a new run: new destination, empty reference cache, same outbox records
    again, _ = open_destination(live)
    second = write_all(again, records)
    assert all(r.ok and not r.created for r in second.values()), second
    assert {k: r.destination_id for k, r in second.items()} == {k: r.destination_id for k, r in first.items()}
    assert live.stats()["objects"] == before


def test_a_replayed_requestid_returns_the_original_object(live: Live):
    _, records = planned()
    dest, _ = open_destination(live)
    write_all(dest, [r for r in records if r.stream != "SalesReceipt"])
    receipt = records[-1]
    payload = dest.resolver.resolve(receipt.data, stream=receipt.stream, key=receipt.key)
    first = dest.api.create("SalesReceipt", payload, request_id(receipt.key))
    second = dest.api.create("SalesReceipt", payload, request_id(receipt.key))
    assert first == second
    assert live.stats()["objects"]["SalesReceipt"] == 1
    assert live.stats()["counters"]["replayed"] == 1


def test_a_customer_name_taken_by_an_existing_customer_links_to_it(live: Live):
    # "cool cars" differs from the seeded "Cool Cars" only by case: the look-up misses, QBO says 6240
    order = make_order(buyer_name="cool cars")
    _, records = planned(order, customer_strategy="per_buyer")
    dest, _ = open_destination(live)
    results = write_all(dest, records)
    customer = results[records[0].key]
    assert customer.ok and not customer.created
    assert customer.destination_id == live.sandbox.company.id_named("Customer", "Cool Cars")
    assert results[records[-1].key].ok


def test_a_customer_name_taken_by_a_vendor_is_a_clear_record_error(live: Live):
    order = make_order(buyer_name="Books by Bessie")
    _, records = planned(order, customer_strategy="per_buyer")
    dest, _ = open_destination(live)
    results = write_all(dest, records)
    error = results[records[0].key].error
    assert isinstance(error, RecordError) and error.field == "DisplayName"
    assert "belongs to a Vendor" in str(error) and "rename the vendor" in str(error)
    assert not results[records[0].key].retry
    receipt_error = results[records[-1].key].error
    assert isinstance(receipt_error, RecordError) and receipt_error.field == "CustomerRef"


def test_an_inactive_customer_with_the_name_is_not_silently_used(live: Live):
    order = make_order(buyer_name="Weiskopf Consulting")
    _, records = planned(order, customer_strategy="per_buyer")
    dest, _ = open_destination(live)
    error = write_all(dest, records)[records[0].key].error
    assert isinstance(error, RecordError) and "inactive" in str(error)


def test_an_injected_500_is_retried_and_the_receipt_still_posts_once(live: Live):
    _, records = planned()
    live.inject("/batch", 500, count=2, method="POST")  # whole calls; a fault on `salesreceipt` hits one item
    dest, _ = open_destination(live)
    results = write_all(dest, records)
    assert results[records[-1].key].ok and results[records[-1].key].created
    assert live.stats()["objects"]["SalesReceipt"] == 1
    # answered 500s are not resent under the same requestid (QBO would replay them): looked up, then resent
    assert dest.api.batch_calls == 3


def test_a_429_xml_throttle_is_classified_throttled_and_retried(live: Live):
    _, records = planned()
    live.inject("/query", 429, count=1)
    live.inject("/customer", 403, count=1, code="3001")
    dest, _ = open_destination(live)
    results = write_all(dest, records)
    assert all(r.ok for r in results.values())
    assert dest.api.http.stats["throttled"] == 2


def test_throttling_that_outlasts_the_retries_leaves_the_record_pending(live: Live):
    _, records = planned()
    dest, _ = open_destination(live)
    live.inject("/query", 429, count=50)
    result = dest.write_batch("Customer", [records[0]])[0]
    assert isinstance(result.error, ThrottledError) and result.retry
    assert result.error.code == "3001"
    assert "Customer" in str(result.error) and records[0].key in str(result.error)


@pytest.mark.sandbox_options(requests_per_minute=6, time_scale=30)
def test_the_sandboxes_own_rate_limit_is_survived(live: Live):
    """6 requests per 2 s window (wide enough that a loaded machine still sends a seventh inside it): real
    (short) backoff waits for the window to pass."""
    _, records = planned()
    dest = QuickBooksOnlineDestination(retry=RetryPolicy(max_attempts=30, base_delay=0.05, max_delay=0.3))
    dest.open(dest.parse_config(live.config()), Credentials().context())
    results = write_all(dest, records)
    assert all(r.ok for r in results.values())
    assert live.stats()["counters"].get("throttled", 0) >= 1


def test_an_unknown_sku_without_create_items_is_a_permanent_record_error(live: Live):
    _, records = planned(create_items=False)
    dest, _ = open_destination(live)
    result = write_all(dest, records)[records[-1].key]
    assert isinstance(result.error, RecordError) and not result.retry
    assert result.error.field == "ItemRef"
    assert result.error.hint == "create the item in QuickBooks or set create_items: true"
    assert "SKU-RED-MUG" in str(result.error)


def test_a_validation_fault_reaches_the_dead_letter_with_intuits_code(live: Live):
    _, records = planned()
    dest, _ = open_destination(live)
    write_all(dest, [r for r in records if r.stream != "SalesReceipt"])
    receipt = records[-1]
    receipt.data["DocNumber"] = "X" * 22  # a user's override broke the 21-character limit
    result = dest.write_batch("SalesReceipt", [receipt])[0]
    assert isinstance(result.error, PermanentError) and not result.retry
    assert result.error.code == "2050" and "DocNumber" in (result.error.remote_message or "")
    assert receipt.key in str(result.error)


def test_a_stale_sync_token_is_a_5010_permanent_error(live: Live):
    dest, _ = open_destination(live)
    customer = dest.api.find("Customer", "DisplayName", "Cool Cars")[0]
    dest.api.update("Customer", {**customer, "sparse": True, "Notes": "first"})
    with pytest.raises(PermanentError) as info:
        dest.api.update("Customer", {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True,
                                     "Notes": "second"})
    assert info.value.code == "5010" and "SyncToken" in (info.value.hint or "")


def test_a_foreign_currency_order_is_refused_when_multicurrency_is_off(live: Live):
    order = make_order(currency="CAD", sales_channel="Amazon.ca",
                       lines=[make_line("L1", "SKU-1", "1", "20.00", "CAD")])
    _, records = planned(order)
    dest, _ = open_destination(live)
    results = write_all(dest, records)
    error = results[records[-1].key].error
    assert isinstance(error, RecordError) and error.field == "CurrencyRef"
    assert order.natural_key in str(error) and "Multicurrency" in str(error)


def test_a_rotated_refresh_token_is_saved_at_once_and_preferred_next_time(live: Live):
    dest, creds = open_destination(live)
    name = credential_name(live.realm)
    assert [n for n, _ in creds.saves if not n.endswith(":expires_at")] == [name]  # beside it: when it expires
    rotated = creds.stored[name]
    assert rotated != live.sandbox.options.refresh_token
    live.http.post("/_sandbox/tokens/expire")
    dest.write_batch("Customer", as_outbox(fast_destination().plan(make_order(), PlanCtx()))[:1])
    assert len([n for n, _ in creds.saves if n == name]) == 2  # the 401 made it refresh again, and the new token was stored too
    # the config's token is now stale; the stored one wins
    again, creds2 = open_destination(live, Credentials(stored=dict(creds.stored)))
    assert again.company.home_currency == "USD"


def test_a_refused_refresh_token_says_to_reauthorise(live: Live):
    api = QboApi(QboConfig(**live.config(refresh_token="revoked-token")), "revoked-token")
    with pytest.raises(PermanentError, match="invalid_grant") as info:
        api.company_info()
    assert "re-authorise" in (info.value.hint or "")
    assert "revoked-token" not in str(info.value)


def test_check_reads_company_info(live: Live):
    dest = fast_destination()
    assert dest.check(live.config()).status.value == "SUCCEEDED"
    assert dest.check(live.config(realm_id="123")).status.value == "FAILED"


def test_open_reads_the_company_settings(live: Live):
    dest, _ = open_destination(live)
    assert (dest.company.home_currency, dest.company.multicurrency, dest.company.using_sales_tax) == ("USD", False,
                                                                                                      True)
    assert isinstance(dest.context, WriteContext)
