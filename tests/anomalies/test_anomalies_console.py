"""The anomalies API and page over a served pipeline: viewers read, bookkeepers run the checks, acknowledge and
snooze (audited, kept in the pipeline's state across runs), and bad input is a clear 4xx; the overview links the
open findings from its alert area."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from console_helpers import PASSWORD

API = "/api/v1/pipelines/shop/anomalies"
#: the refused order record (no SKU) counts as unposted at once with this threshold
NOW_THRESHOLD = {"thresholds": {"unposted_orders.max_age_hours": 0}}


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "every form carries a CSRF token"
    return found.group(1)


def _sign_in(console, name: str) -> tuple[TestClient, str]:
    client = TestClient(console.app)
    form = client.get("/signin")
    response = client.post("/signin", data={"csrf_token": _csrf(form.text), "name": name, "password": PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return client, _csrf(client.get("/").text)


def _run(console) -> dict:
    report = console.with_token("bookkeeper").post(f"{API}/run", json=NOW_THRESHOLD)
    assert report.status_code == 200, report.text
    return report.json()


def test_run_and_list_through_the_api(served_shop):
    report = _run(served_shop)
    [f] = [f for f in report["findings"] if f["check"] == "unposted_orders"]
    assert f["subject"] == "order record orders/O-0001" and f["status"] == "open"
    assert report["open"] == 1 and len(report["checks"]) == 18 and "referral_fee_drift" in report["not_applicable"]
    viewer = served_shop.with_token("viewer")
    listed = viewer.get(API)
    assert listed.status_code == 200 and [x["fingerprint"] for x in listed.json()["findings"]] == [f["fingerprint"]]
    assert listed.json()["last_run"]["not_applicable"]["referral_fee_drift"]
    assert viewer.get(API, params={"status": "acknowledged"}).json()["findings"] == []
    assert viewer.get(API, params={"check": "unposted_orders", "status": "all"}).json()["findings"]
    assert served_shop.workspace.audit.list(limit=1)[0]["action"] == "anomaly checks run"


def test_viewers_read_only(served_shop):
    fp = [f for f in _run(served_shop)["findings"] if f["status"] == "open"][0]["fingerprint"]
    viewer = served_shop.with_token("viewer")
    assert viewer.post(f"{API}/run", json={}).status_code == 403
    refused = viewer.post(f"{API}/acknowledge", json={"fingerprints": [fp]})
    assert refused.status_code == 403
    assert viewer.get(API).json()["findings"][0]["status"] == "open"


def test_acknowledge_and_snooze_persist_and_are_audited(served_shop):
    fp = [f for f in _run(served_shop)["findings"] if f["status"] == "open"][0]["fingerprint"]
    book = served_shop.with_token("bookkeeper")
    done = book.post(f"{API}/acknowledge", json={"fingerprints": [fp], "note": "SKU feed fixed"})
    assert done.status_code == 200 and done.json()[0]["status"] == "acknowledged"
    assert done.json()[0]["decided_by"] == "token:bookkeeper-script"
    entry = served_shop.workspace.audit.list(limit=1)[0]
    assert entry["action"] == "anomalies acknowledged" and entry["target"] == fp
    assert _run(served_shop)["open"] == 0  # found again: still acknowledged
    snoozed = book.post(f"{API}/snooze", json={"fingerprints": [fp], "until": "2099-12-31"})
    assert snoozed.status_code == 200 and snoozed.json()[0]["snoozed_until"].startswith("2099-12-31")
    assert _run(served_shop)["open"] == 0
    reopened = book.post(f"{API}/reopen", json={"fingerprints": [fp]})
    assert reopened.json()[0]["status"] == "open" and _run(served_shop)["open"] == 1


def test_bad_input_is_a_clear_4xx(served_shop):
    book = served_shop.with_token("bookkeeper")
    cases = [
        (book.post(f"{API}/run", json={"checks": ["nope"]}), 400, "no anomaly check named nope"),
        (book.post(f"{API}/run", json={"checks": "unposted_orders"}), 400, "must be a list"),
        (book.post(f"{API}/run", json={"thresholds": {"unposted_orders.max_age_hours": -1}}), 400, "max_age_hours"),
        (book.post(f"{API}/run", json={"thresholds": {"oops": 1}}), 400, "is not CHECK.FIELD=VALUE"),
        (book.get(API, params={"status": "gone"}), 400, "is not one of"),
        (book.get(API, params={"check": "nope"}), 400, "no anomaly check named nope"),
        (book.post(f"{API}/acknowledge", json={"fingerprints": ["feedface"]}), 404, "no finding with fingerprint"),
        (book.post(f"{API}/acknowledge", json={"fingerprints": []}), 400, "1 to 10000"),
        (book.post(f"{API}/snooze", json={"fingerprints": ["feedface"], "until": "tomorrow"}), 400, "is not a date"),
        (book.post(f"{API}/snooze", json={"fingerprints": ["feedface"]}), 400, "is required"),
        (book.post(f"{API}/acknowledge", json={"fingerprints": ["feedface"], "note": "x" * 501}), 400, "500"),
        (book.post("/api/v1/pipelines/nope/anomalies/run", json={}), 404, "nope"),
    ]
    for response, status, says in cases:
        assert response.status_code == status, (says, response.text)
        assert says in response.json()["error"]["message"] + (response.json()["error"]["where"] or ""), response.text


def test_the_page_for_each_role(served_shop):
    _run(served_shop)
    viewer, _ = _sign_in(served_shop, "viewer")
    page = viewer.get("/anomalies")
    assert page.status_code == 200 and "order record orders/O-0001" in page.text
    assert "Acknowledge selected" not in page.text and 'name="fingerprints"' not in page.text
    assert "not applicable here" in page.text
    overview = viewer.get("/")
    assert '<a href="/anomalies">1 open anomaly</a>' in overview.text
    bookkeeper, csrf = _sign_in(served_shop, "bookkeeper")
    page = bookkeeper.get("/anomalies")
    assert "Acknowledge selected" in page.text and "Snooze selected" in page.text
    assert bookkeeper.get("/anomalies?status=nope").status_code == 400


def test_acknowledge_and_snooze_from_the_page(served_shop):
    fp = [f for f in _run(served_shop)["findings"] if f["status"] == "open"][0]["fingerprint"]
    viewer, vcsrf = _sign_in(served_shop, "viewer")
    refused = viewer.post("/anomalies/acknowledge", data={"csrf_token": vcsrf, "pipeline": "shop", "fingerprints": fp})
    assert refused.status_code == 403
    client, csrf = _sign_in(served_shop, "bookkeeper")
    no_csrf = client.post("/anomalies/acknowledge", data={"pipeline": "shop", "fingerprints": fp})
    assert no_csrf.status_code == 403
    nothing = client.post("/anomalies/acknowledge", data={"csrf_token": csrf, "pipeline": "shop"})
    assert nothing.status_code == 400 and "select at least one finding" in nothing.text
    bad_date = client.post("/anomalies/snooze", data={"csrf_token": csrf, "pipeline": "shop", "fingerprints": fp,
                                                      "until": "someday"})
    assert bad_date.status_code == 400 and "is not a date" in bad_date.text
    snoozed = client.post("/anomalies/snooze", data={"csrf_token": csrf, "pipeline": "shop", "fingerprints": fp,
                                                     "until": "2099-01-31"})
    assert snoozed.status_code == 200 and "snoozed until 2099-01-31" in snoozed.text
    assert served_shop.workspace.audit.list(limit=1)[0]["action"] == "anomalies snoozed"
    assert "order record orders/O-0001" not in client.get("/anomalies").text  # open only, by default
    assert "order record orders/O-0001" in client.get("/anomalies?status=snoozed").text
    acked = client.post("/anomalies/acknowledge", data={"csrf_token": csrf, "pipeline": "shop", "fingerprints": fp})
    assert acked.status_code == 200 and "acknowledged" in acked.text
    ran = client.post("/anomalies/run", data={"csrf_token": csrf, "pipeline": "shop"})
    assert ran.status_code == 200 and "open finding(s)" in ran.text
    assert '1 open anomal' not in client.get("/").text
