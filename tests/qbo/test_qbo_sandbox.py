"""The QBO sandbox rejects what QuickBooks Online rejects, with Intuit's codes, over a real socket."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from ledgerlink_qbo.faults import classify, parse_fault
from ledgerlink_qbo.sandbox.server import _Throttle
from qbo_helpers import Live


def fault_code(response: httpx.Response) -> str | None:
    fault = parse_fault(response)
    return fault.code if fault else None


def receipt(item_id: str, **extra):
    return {"Line": [{"Amount": "20.00", "DetailType": "SalesItemLineDetail",
                      "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "Qty": 2, "UnitPrice": 10}}], **extra}


# ------------------------------------------------------------------------------------------------ OAuth2


def test_refresh_rotates_the_token_and_the_old_one_dies_once_the_new_one_is_used(live: Live):
    o = live.sandbox.options
    post = lambda token: live.http.post("/oauth2/v1/tokens/bearer", auth=(o.client_id, o.client_secret),  # noqa: E731
                                        data={"grant_type": "refresh_token", "refresh_token": token})
    first = post(o.refresh_token).json()
    assert first["refresh_token"] != o.refresh_token and first["x_refresh_token_expires_in"] > 0
    assert post(o.refresh_token).status_code == 200  # response lost? the old token still works once…
    newest = post(o.refresh_token).json()["refresh_token"]
    assert post(newest).status_code == 200
    bad = post(o.refresh_token)  # …until a newer one has been used
    assert (bad.status_code, bad.json()) == (400, {"error": "invalid_grant"})


def test_wrong_client_credentials_are_refused(live: Live):
    r = live.http.post("/oauth2/v1/tokens/bearer", auth=("someone", "else"),
                       data={"grant_type": "refresh_token", "refresh_token": live.sandbox.options.refresh_token})
    assert (r.status_code, r.json()["error"]) == (401, "invalid_client")


def test_v3_needs_a_bearer_token(live: Live):
    r = live.http.get(f"/v3/company/{live.realm}/preferences", params={"minorversion": 75})
    assert r.status_code == 401 and fault_code(r) == "3200"
    assert r.json()["fault"]["type"] == "AUTHENTICATION"
    assert classify(r) == "permanent"


def test_another_realm_is_forbidden(live: Live):
    r = live.http.get("/v3/company/123/preferences", params={"minorversion": 75},
                      headers={"Authorization": f"Bearer {live.access_token()}"})
    assert r.status_code == 403 and fault_code(r) == "3100"


# ----------------------------------------------------------------------------------------- minorversion


@pytest.mark.parametrize("params", [{"minorversion": "74"}, {"minorversion": "abc"}])
def test_an_old_minorversion_is_refused(live: Live, params):
    r = live.api("GET", "preferences", params=params)
    assert r.status_code == 400 and fault_code(r) == "4001" and "75" in r.text


@pytest.mark.sandbox_options(strict_minor_version=False)
def test_a_lenient_sandbox_ignores_old_minorversions_as_intuit_does(live: Live):
    assert live.api("GET", "preferences", params={"minorversion": "12"}).status_code == 200


# ---------------------------------------------------------------------------------------------- queries


def test_query_parse_errors_are_4000(live: Live):
    r = live.api("GET", "query", params={"query": "select * from Customer where DisplayName = null"})
    assert r.status_code == 400 and fault_code(r) == "4000"
    assert r.json()["Fault"]["Error"][0]["Message"] == "Error parsing query"


def test_an_empty_result_has_no_entity_key(live: Live):
    r = live.api("GET", "query", params={"query": "select * from Customer where DisplayName = 'Nobody'"})
    assert r.json()["QueryResponse"] == {}


def test_inactive_objects_are_hidden_unless_asked_for(live: Live):
    q = "select * from Customer where DisplayName = 'Weiskopf Consulting'"
    token = live.access_token()
    assert live.api("GET", "query", token, params={"query": q}).json()["QueryResponse"] == {}
    rows = live.api("GET", "query", token, params={"query": q + " and Active in (true, false)"}).json()
    assert [c["Active"] for c in rows["QueryResponse"]["Customer"]] == [False]


def test_escaped_quotes_like_paging_and_count(live: Live):
    token = live.access_token()
    q = lambda text: live.api("GET", "query", token, params={"query": text}).json()["QueryResponse"]  # noqa: E731
    assert [c["DisplayName"] for c in q(r"select * from Customer where DisplayName = 'amy\'s bird sanctuary'")
            ["Customer"]] == ["Amy's Bird Sanctuary"]
    assert len(q("select * from Account where Name like '%Income%'")["Account"]) == 2
    page = q("select * from Account orderby Name startposition 2 maxresults 3")
    assert (page["startPosition"], page["maxResults"], len(page["Account"])) == (2, 3, 3)
    assert q("select count(*) from Account") == {"totalCount": 13}
    posted = live.api("POST", "query", token, content=b"select * from Vendor",
                      headers={"Content-Type": "application/text"}).json()
    assert posted["QueryResponse"]["Vendor"][0]["DisplayName"] == "Books by Bessie"


# ------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize("name", ["Books by Bessie", "emily platt", " Cool Cars "])
def test_display_names_are_unique_across_customers_vendors_and_employees(live: Live, name):
    r = live.api("POST", "customer", json={"DisplayName": name})
    assert r.status_code == 400 and fault_code(r) == "6240"
    assert r.json()["Fault"]["Error"][0]["Message"] == "Duplicate Name Exists Error"


def test_item_rules(live: Live):
    token = live.access_token()
    income = live.sandbox.company.id_named("Account", "Sales of Product Income")
    missing = live.api("POST", "item", token, json={"Name": "SKU-1", "Type": "NonInventory"})
    assert fault_code(missing) == "2020" and missing.json()["Fault"]["Error"][0]["element"] == "IncomeAccountRef"
    bad_ref = live.api("POST", "item", token, json={"Name": "SKU-1", "Type": "Service",
                                                    "IncomeAccountRef": {"value": "999"}})
    assert fault_code(bad_ref) == "2500"
    ok = live.api("POST", "item", token, json={"Name": "SKU-1", "Type": "NonInventory",
                                               "IncomeAccountRef": {"value": income}})
    assert ok.status_code == 200
    assert ok.json()["Item"]["IncomeAccountRef"] == {"value": income, "name": "Sales of Product Income"}
    dup = live.api("POST", "item", token, json={"Name": "sku-1", "Type": "NonInventory",
                                                "IncomeAccountRef": {"value": income}})
    assert fault_code(dup) == "6240"


def test_sales_receipt_rules(live: Live):
    token = live.access_token()
    item = live.sandbox.company.id_named("Item", "Services")
    post = lambda body: live.api("POST", "salesreceipt", token, json=body)  # noqa: E731
    assert fault_code(post({"DocNumber": "1"})) == "2020"
    assert fault_code(post(receipt("999"))) == "2500"
    by_name_only = receipt(item)
    by_name_only["Line"][0]["SalesItemLineDetail"]["ItemRef"] = {"name": "Services"}
    assert fault_code(post(by_name_only)) == "2500"  # refs need Ids: names are ledgerlink's to resolve
    assert fault_code(post(receipt(item, DocNumber="D" * 22))) == "2050"
    assert fault_code(post(receipt(item, PrivateNote="n" * 4001))) == "2050"
    wrong = receipt(item)
    wrong["Line"][0]["Amount"] = "19.99"
    assert fault_code(post(wrong)) == "6070"
    assert fault_code(post(receipt(item, CurrencyRef={"value": "CAD"}))) == "6000"
    assert fault_code(post(receipt(item, CustomerRef={"value": live.sandbox.company.id_named(
        "Customer", "Weiskopf Consulting")}))) == "610"  # inactive
    assert live.stats()["objects"]["SalesReceipt"] == 0


def test_the_sandbox_computes_the_money(live: Live):
    company = live.sandbox.company
    body = receipt(company.id_named("Item", "Services"), TxnTaxDetail={"TotalTax": "1.65"})
    body["Line"].append({"Amount": "2.50", "DetailType": "DiscountLineDetail", "DiscountLineDetail": {
        "PercentBased": False, "DiscountAccountRef": {"value": company.id_named("Account", "Discounts given")}}})
    doc = live.api("POST", "salesreceipt", json=body).json()["SalesReceipt"]
    assert Decimal(str(doc["TotalAmt"])) == Decimal("19.15")
    assert [ln["DetailType"] for ln in doc["Line"]] == ["SalesItemLineDetail", "SubTotalLineDetail",
                                                        "DiscountLineDetail"]
    assert (doc["Id"], doc["SyncToken"], doc["domain"], doc["Balance"]) == (doc["Id"], "0", "QBO", 0)
    assert doc["DepositToAccountRef"]["name"] == "Undeposited Funds"
    assert doc["MetaData"]["CreateTime"] == doc["MetaData"]["LastUpdatedTime"]


def test_a_repeated_requestid_returns_the_first_response(live: Live):
    token = live.access_token()
    body = {"DisplayName": "Replay Co"}
    first = live.api("POST", "customer", token, json=body, params={"requestid": "r-1"})
    second = live.api("POST", "customer", token, json=body, params={"requestid": "r-1"})
    assert first.status_code == second.status_code == 200 and first.content == second.content
    assert live.stats()["objects"]["Customer"] == 6


def test_updates_check_the_sync_token(live: Live):
    token = live.access_token()
    created = live.api("POST", "customer", token, json={"DisplayName": "Sync Co"}).json()["Customer"]
    updated = live.api("POST", "customer", token, json={"Id": created["Id"], "SyncToken": "0", "sparse": True,
                                                         "Notes": "hello"}).json()["Customer"]
    assert (updated["SyncToken"], updated["Notes"], updated["DisplayName"]) == ("1", "hello", "Sync Co")
    stale = live.api("POST", "customer", token, json={"Id": created["Id"], "SyncToken": "0", "sparse": True})
    assert stale.status_code == 400 and fault_code(stale) == "5010"
    gone = live.api("POST", "customer", token, json={"Id": "99999", "SyncToken": "0"})
    assert fault_code(gone) == "610"


# -------------------------------------------------------------------------------- throttling and faults


@pytest.mark.sandbox_options(requests_per_minute=2)
def test_more_than_the_per_minute_limit_gets_intuits_xml_3001_with_429(live: Live):
    token = live.access_token()
    codes = [live.api("GET", "preferences", token).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    r = live.api("GET", "preferences", token)
    assert r.headers["content-type"].startswith("application/xml")
    assert fault_code(r) == "3001" and classify(r) == "throttled"


def test_the_concurrency_limit_counts_requests_in_flight():
    throttle = _Throttle(per_window=100, window_s=60, concurrent=10)
    assert all(throttle.enter("r") for _ in range(10))
    assert not throttle.enter("r")
    assert throttle.enter("other realm")
    throttle.leave("r")
    assert throttle.enter("r")


def test_injected_faults_are_used_up_then_gone(live: Live):
    token = live.access_token()
    live.inject("preferences", 500, count=1)
    live.inject("preferences", 403, count=1, code="3001")
    first, second, third = (live.api("GET", "preferences", token) for _ in range(3))
    assert (first.status_code, fault_code(first), classify(first)) == (500, "10000", "transient")
    assert (second.status_code, fault_code(second), classify(second)) == (403, "3001", "throttled")
    assert third.status_code == 200
    assert live.stats()["counters"]["injected"] == 2


def test_an_eleventh_request_in_flight_gets_429_over_loopback(live: Live):
    """Ten requests held in flight (the sandbox's `hold` control), then two more: Intuit's XML 3001 with 429."""
    import threading
    import time

    token = live.access_token()
    live.http.post("/_sandbox/faults", json={"path_contains": "preferences", "hold": True, "count": 10})
    answers: list[int] = []
    threads = [threading.Thread(target=lambda: answers.append(live.api("GET", "preferences", token).status_code))
               for _ in range(10)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while live.stats()["in_flight"] < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert live.stats()["in_flight"] == 10
    extra = [live.api("GET", "preferences", token) for _ in range(2)]
    assert [r.status_code for r in extra] == [429, 429]
    assert fault_code(extra[0]) == "3001" and extra[0].headers["content-type"].startswith("application/xml")
    live.http.post("/_sandbox/release")
    for thread in threads:
        thread.join(10)
    assert answers == [200] * 10 and live.stats()["in_flight"] == 0
    assert live.api("GET", "preferences", token).status_code == 200


@pytest.mark.sandbox_options(max_concurrent=1)
def test_the_client_never_has_two_requests_in_flight(live: Live):
    """With the company allowing one request at a time, a destination run and a source read are never
    throttled: the client is sequential (Intuit allows 10 at once)."""
    from qbo_helpers import Credentials, fast_destination
    from test_qbo_documents import receipt, write
    from ledgerlink_qbo import QuickBooksOnlineSource

    dest = fast_destination()
    dest.open(dest.parse_config(live.config()), (creds := Credentials()).context())
    results = write(dest, [receipt(n) for n in range(40)])
    assert all(r.ok for r in results.values())
    config = {**live.config(), "refresh_token": creds.stored[next(iter(creds.stored))]}
    records = [m for m in QuickBooksOnlineSource().read(config) if m.record is not None]
    assert len([m for m in records if m.record.stream == "sales_receipts"]) == 40
    assert live.stats()["counters"].get("throttled", 0) == 0
