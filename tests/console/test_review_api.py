"""The review queue through the API: list with filters (a bad one is a 400 naming it), one document beside its
source rows, approve and reject by keys, filter or all as a bookkeeper (recorded under the signed-in user and in
the audit log), approved documents posted exactly once by the served pipeline's own sync."""

from __future__ import annotations


import fakes
import pytest
from console_helpers import receipt_key
from sandbox_helpers import wait_for


P = "/api/v1/pipelines/shop"


def test_the_queue_lists_what_awaits_approval_and_the_health_counts_it(review_console):
    client = review_console.with_token("viewer")
    queue = client.get(f"{P}/review").json()
    assert [i["key"] for i in queue["items"]] == [receipt_key(i) for i in range(4)]
    assert queue["counts"] == {"awaiting_approval": 4, "approved_not_posted": 0, "rejected": 0}
    assert queue["review"] == "always" and queue["items"][0]["summary"]["customer"] == "Fake Store USD"
    health = client.get("/api/v1/pipelines").json()[0]
    assert health["awaiting_approval"] == 4 and "4 document(s) awaiting approval" in health["alerts"]
    assert client.get(P).json()["awaiting_approval"] == 4
    page = client.get(f"{P}/review?limit=2&offset=1").json()
    assert [i["key"] for i in page["items"]] == [receipt_key(1), receipt_key(2)]
    assert client.get(f"{P}/review?text=O-0003").json()["items"][0]["key"] == receipt_key(3)


@pytest.mark.parametrize("query, where", [
    ("min_total=abc", "query parameter min_total"), ("date_from=31-12-2026", "query parameter date_from"),
    ("status=maybe", "query parameter status"), ("limit=abc", "query parameter limit"),
    ("min_total=5&max_total=1", "query parameter min_total"), ("max_total=NaN", "query parameter max_total"),
])
def test_a_bad_filter_is_a_400_naming_the_parameter(review_console, query, where):
    response = review_console.with_token("viewer").get(f"{P}/review?{query}")
    assert response.status_code == 400, response.text
    assert response.json()["error"]["where"] == where


def test_one_document_as_the_ledger_will_receive_it_beside_its_source_rows(review_console):
    client = review_console.with_token("viewer")
    doc = client.get(f"{P}/review/{receipt_key(1)}").json()
    assert doc["item"]["key"] == receipt_key(1) and doc["payload"]
    assert doc["source_rows"] and all(r["record"] is not None for r in doc["source_rows"])
    assert client.get(f"{P}/review/O-0001").json()["item"]["key"] == receipt_key(1)  # the order id is enough
    missing = client.get(f"{P}/review/O-9999")
    assert missing.status_code == 404 and "no document 'O-9999'" in missing.json()["error"]["message"]


def test_approve_posts_exactly_once_through_the_served_sync_and_is_audited(review_console):
    client, csrf = review_console.signed_in("bookkeeper")
    shop = review_console.workspace.services["shop"]
    before = shop.syncs
    done = client.post(f"{P}/review/approve", json={"keys": ["O-0001", receipt_key(2)]},
                       headers={"X-CSRF-Token": csrf}).json()
    assert done["keys"] == [receipt_key(1), receipt_key(2)] and done["by"] == "bookkeeper" and done["sync_queued"]
    assert wait_for(lambda: shop.syncs > before and shop.idle)
    assert set(fakes.REMOTE["Receipt"]) == {"O-0001", "O-0002"}
    # approving again changes nothing and posts nothing twice
    again = client.post(f"{P}/review/approve", json={"keys": [receipt_key(1)]}, headers={"X-CSRF-Token": csrf}).json()
    assert again["keys"] == [] and "posted" in again["skipped"][receipt_key(1)] and not again["sync_queued"]
    shop._run("another sync")
    assert len(fakes.REMOTE["Receipt"]) == 2
    entry = review_console.workspace.audit.list()[1]  # newest first: [0] is the approval that changed nothing
    assert entry["actor"] == "bookkeeper" and entry["action"] == "documents approved"
    assert receipt_key(1) in entry["target"]
    counts = review_console.with_token("viewer").get(f"{P}/review").json()["counts"]
    assert counts["awaiting_approval"] == 2


def test_reject_by_filter_with_a_reason_and_approve_all(review_console):
    client = review_console.with_token("bookkeeper")
    rejected = client.post(f"{P}/review/reject", json={"text": "O-0000", "reason": "duplicate"}).json()
    assert rejected["keys"] == [receipt_key(0)] and rejected["by"] == "token:bookkeeper-script"
    listed = client.get(f"{P}/review?status=rejected").json()["items"]
    assert listed[0]["reason"] == "duplicate"
    shop = review_console.workspace.services["shop"]
    before = shop.syncs
    approved = client.post(f"{P}/review/approve", json={"all": True}).json()
    assert approved["keys"] == [receipt_key(i) for i in (1, 2, 3)]
    assert wait_for(lambda: shop.syncs > before and shop.idle)
    assert set(fakes.REMOTE["Receipt"]) == {"O-0001", "O-0002", "O-0003"}  # the rejected one never posts
    assert review_console.workspace.audit.list()[1]["action"] == "documents rejected"


@pytest.mark.parametrize("body, where", [
    ({}, "body"), ({"keys": ["O-0001"], "all": True}, "body"), ({"keys": []}, "body.keys"),
    ({"keys": [1]}, "body.keys"), ({"min_total": "lots"}, "body.min_total"), ({"all": "yes"}, "body.all"),
    ({"all": True, "reason": 5}, "body.reason"),
])
def test_a_bad_decision_is_a_400_and_changes_nothing(review_console, body, where):
    client = review_console.with_token("bookkeeper")
    response = client.post(f"{P}/review/reject", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["where"] == where
    assert client.get(f"{P}/review").json()["counts"]["awaiting_approval"] == 4


def test_roles_sign_in_and_csrf_guard_the_queue(review_console):
    for path in (f"{P}/review", f"{P}/review/O-0001"):
        assert review_console.anonymous.get(path).status_code == 401
    for action in ("approve", "reject"):
        assert review_console.anonymous.post(f"{P}/review/{action}", json={"all": True}).status_code == 401
        assert review_console.with_token("viewer").post(f"{P}/review/{action}",
                                                        json={"all": True}).status_code == 403
        client, _ = review_console.signed_in("admin")
        assert client.post(f"{P}/review/{action}", json={"all": True}).status_code == 403  # no CSRF token
    bad_json = review_console.with_token("bookkeeper").post(f"{P}/review/approve", content=b"{not json",
                                                           headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400
    assert review_console.with_token("viewer").get(f"{P}/review").json()["counts"]["awaiting_approval"] == 4
    assert fakes.REMOTE.get("Receipt", {}) == {}


def test_reject_waits_for_a_running_sync_and_refuses_when_it_does_not_end(review_console, monkeypatch):
    import ledgerlink.console.operations as ops

    shop = review_console.workspace.services["shop"]
    monkeypatch.setattr(shop, "running", True)
    monkeypatch.setattr(ops, "REJECT_WAIT_S", 0.0)  # the sync "never ends": no waiting in a test
    response = review_console.with_token("bookkeeper").post(f"{P}/review/reject", json={"all": True})
    assert response.status_code == 409 and "posting now" in response.json()["error"]["message"]
    monkeypatch.setattr(shop, "running", False)
    assert review_console.with_token("viewer").get(f"{P}/review").json()["counts"]["awaiting_approval"] == 4
