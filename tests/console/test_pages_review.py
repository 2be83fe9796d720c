"""The console's Review before posting page through Starlette's TestClient: the queue as the ledger will receive
each document beside its source rows, for every role (viewers see no buttons), filters as query parameters (a bad
one is a clear 400 page), approve / reject one, the selected or all matching, audited, CSRF- and role-guarded."""

from __future__ import annotations

import re

import fakes
import pytest
from console_helpers import PASSWORD, Console, receipt_key
from sandbox_helpers import wait_for
from starlette.testclient import TestClient


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "every form carries a CSRF token"
    return found.group(1)


def sign_in(console: Console, name: str) -> tuple[TestClient, str]:
    client = TestClient(console.app)
    form = client.get("/signin")
    response = client.post("/signin", data={"csrf_token": _csrf(form.text), "name": name, "password": PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    page = client.get("/review")
    assert page.status_code == 200, page.text
    return client, _csrf(page.text)


def awaiting(console: Console) -> int:
    return console.with_token("viewer").get("/api/v1/pipelines/shop/review").json()["counts"]["awaiting_approval"]


@pytest.mark.parametrize("role", ["viewer", "bookkeeper", "admin"])
def test_the_page_shows_each_document_beside_its_source_rows_for_every_role(review_console, role):
    client, _ = sign_in(review_console, role)
    page = client.get("/review").text
    assert 'href="/review" class="here"' in page  # in the nav, marked as the page shown
    assert "4 awaiting approval" in page
    for i in range(4):
        assert receipt_key(i) in page
    assert "Fake Store USD" in page and "As the ledger will receive it" in page and "Source rows" in page
    assert page.count("<h4><code>orders O-") >= 4  # each document's source rows
    assert ("Approve selected" in page) is (role != "viewer")
    assert ('name="keys"' in page) is (role != "viewer")
    assert ("Reject all matching" in page) is (role != "viewer")


def test_filters_narrow_the_queue_and_are_carried_into_the_forms(review_console):
    client, _ = sign_in(review_console, "bookkeeper")
    page = client.get("/review?text=O-0002").text
    assert receipt_key(2) in page and receipt_key(1) not in page
    assert '<input type="hidden" name="text" value="O-0002">' in page
    assert "Nothing awaits approval matching the filter" in client.get("/review?min_total=999999").text


@pytest.mark.parametrize("query, where", [
    ("min_total=abc", "query parameter min_total"), ("max_total=NaN", "query parameter max_total"),
    ("min_total=5&max_total=1", "query parameter min_total"), ("customer=" + "x" * 600, "query parameter customer"),
])
def test_a_bad_filter_is_a_clear_400_page(review_console, query, where):
    client, _ = sign_in(review_console, "viewer")
    response = client.get(f"/review?{query}")
    assert response.status_code == 400, response.text[:300]
    assert response.headers["content-type"].startswith("text/html") and where in response.text


def test_unauthenticated_is_sent_to_sign_in_and_actions_refused(review_console):
    response = review_console.anonymous.get("/review?kind=Receipt", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/signin?next=/review")
    refused = review_console.anonymous.post("/review/approve", data={"pipeline": "shop", "all": "1"})
    assert refused.status_code == 401
    assert awaiting(review_console) == 4


def test_missing_csrf_is_403_and_viewers_are_refused(review_console):
    client, _ = sign_in(review_console, "bookkeeper")
    for action in ("approve", "reject"):
        response = client.post(f"/review/{action}", data={"pipeline": "shop", "keys": receipt_key(0), "reason": "x"})
        assert response.status_code == 403, response.text[:300]
    viewer, csrf = sign_in(review_console, "viewer")
    response = viewer.post("/review/approve", data={"csrf_token": csrf, "pipeline": "shop", "all": "1"})
    assert response.status_code == 403
    assert awaiting(review_console) == 4


def test_approve_selected_posts_them_on_the_next_sync_and_is_audited(review_console):
    client, csrf = sign_in(review_console, "bookkeeper")
    shop = review_console.shop
    before = shop.syncs
    response = client.post("/review/approve", data={"csrf_token": csrf, "pipeline": "shop",
                                                    "keys": [receipt_key(1), receipt_key(2)]})
    assert response.status_code == 200, response.text[:500]
    assert f"{receipt_key(1)}: approved" in response.text and "a sync is queued" in response.text
    assert wait_for(lambda: shop.syncs > before and shop.idle)
    assert set(fakes.REMOTE["Receipt"]) == {"O-0001", "O-0002"}
    entry = review_console.workspace.audit.list(limit=1)[0]
    assert entry["actor"] == "bookkeeper" and entry["action"] == "documents approved"
    assert receipt_key(1) in entry["target"] and entry["pipeline"] == "shop"
    again = client.post("/review/approve", data={"csrf_token": csrf, "pipeline": "shop", "keys": receipt_key(1)})
    assert "not changed (already posted)" in again.text
    assert "2 awaiting approval" in client.get("/review").text


def test_reject_needs_a_reason_then_rejects_all_matching_the_filter(review_console):
    client, csrf = sign_in(review_console, "bookkeeper")
    no_reason = client.post("/review/reject", data={"csrf_token": csrf, "pipeline": "shop", "all": "1"})
    assert no_reason.status_code == 400 and "say why" in no_reason.text
    assert awaiting(review_console) == 4
    response = client.post("/review/reject", data={"csrf_token": csrf, "pipeline": "shop", "all": "1",
                                                   "text": "O-0003", "reason": "duplicate order"})
    assert response.status_code == 200 and f"{receipt_key(3)}: rejected" in response.text
    assert receipt_key(0) not in response.text
    entry = review_console.workspace.audit.list(limit=1)[0]
    assert entry["action"] == "documents rejected" and "duplicate order" in str(entry["detail"])
    listed = review_console.with_token("viewer").get("/api/v1/pipelines/shop/review?status=rejected").json()
    assert [i["key"] for i in listed["items"]] == [receipt_key(3)] and listed["items"][0]["reason"] == "duplicate order"
    bad = client.post("/review/approve", data={"csrf_token": csrf, "pipeline": "shop", "all": "1", "min_total": "x"})
    assert bad.status_code == 400 and "form.min_total" in bad.text
    none = client.post("/review/approve", data={"csrf_token": csrf, "pipeline": "shop"})
    assert none.status_code == 400 and "select at least one document" in none.text
    assert awaiting(review_console) == 3


def test_approve_all_then_the_page_is_empty(review_console):
    client, csrf = sign_in(review_console, "admin")
    shop = review_console.shop
    before = shop.syncs
    response = client.post("/review/approve", data={"csrf_token": csrf, "pipeline": "shop", "all": "1"})
    assert response.status_code == 200 and response.text.count(": approved") == 4
    assert wait_for(lambda: shop.syncs > before and shop.idle)
    assert len(fakes.REMOTE["Receipt"]) == 4
    assert "Nothing awaits approval" in client.get("/review").text
