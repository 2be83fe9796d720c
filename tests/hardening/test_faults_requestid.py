"""A transient error answered to a QuickBooks Online requestid must not be replayed forever.

Intuit answers a repeated requestid with its first response, an error included. A batch retried under the
same id after a 500 therefore gets the 500 back on every try, and its documents became dead letters that
`dlq retry` could not revive. A send after an answered error carries a new id; what the remote may have
committed is found by looking the key up first."""

from __future__ import annotations

import httpx

from ledgerlink.runtime import sync
from fault_helpers import (
    REALM, amazon_to_qbo, clear_faults, dlq_retry_all, inject, outbox_and_letters, pipeline, receipts_in_qbo,
    sandbox_stats,
)


def _token(qbo: str) -> str:
    body = httpx.post(f"{qbo}/oauth2/v1/tokens/bearer", auth=("sandbox-qbo-client", "sandbox-qbo-client-secret"),
                      data={"grant_type": "refresh_token", "refresh_token": "sandbox-qbo-refresh-token"}).json()
    return body["access_token"]


def test_the_sandbox_replays_an_error_to_a_repeated_requestid_as_intuit_does(tmp_path):
    with amazon_to_qbo(tmp_path, orders=1) as w:
        qbo, headers = w["qbo"], {"Authorization": f"Bearer {_token(w['qbo'])}", "Accept": "application/json"}
        item = w["books"].company.id_named("Item", "Services")
        receipt = {"DocNumber": "RID-1", "Line": [{"Amount": 5, "DetailType": "SalesItemLineDetail",
                                                  "SalesItemLineDetail": {"ItemRef": {"value": item}}}]}
        batch = {"BatchItemRequest": [{"bId": "b1", "operation": "create", "SalesReceipt": receipt}]}

        def post(tail: str, rid: str, body: dict) -> httpx.Response:
            return httpx.post(f"{qbo}/v3/company/{REALM}/{tail}", params={"requestid": rid, "minorversion": "75"},
                              json=body, headers=headers)

        inject(qbo, path_contains="/batch", status=500, count=1)
        assert post("batch", "rid-a", batch).status_code == 500
        again = post("batch", "rid-a", batch)  # the fault is used up, but the id already has its answer
        assert again.status_code == 500 and "SystemFault" in again.text
        assert post("batch", "rid-b", batch).status_code == 200  # a new id is a new request
        # a refusal of a single create is kept for its id too, and a success as before
        assert post("salesreceipt", "rid-c", {**receipt, "DocNumber": "D" * 22}).status_code == 400
        assert post("salesreceipt", "rid-c", receipt).status_code == 400
        first = post("salesreceipt", "rid-d", {**receipt, "DocNumber": "RID-2"})
        assert first.status_code == 200 and post("salesreceipt", "rid-d", receipt).content == first.content
        # the gateway's 429 is not the service's answer: the same id goes through afterwards
        inject(qbo, path_contains="salesreceipt", status=429, count=1)
        assert post("salesreceipt", "rid-e", {**receipt, "DocNumber": "RID-3"}).status_code == 429
        assert post("salesreceipt", "rid-e", {**receipt, "DocNumber": "RID-3"}).status_code == 200
        assert receipts_in_qbo(w["books"]) == ["RID-1", "RID-2", "RID-3"]
        assert sandbox_stats(qbo)["counters"]["replayed"] >= 3


def test_a_batch_answered_with_a_500_is_posted_in_the_same_sync_under_a_new_request_id(tmp_path):
    with amazon_to_qbo(tmp_path, orders=8) as w:
        inject(w["qbo"], path_contains="/batch", status=500, count=1)
        report = sync(pipeline(w))
        assert report.status == "succeeded", report.errors
        outbox, letters = outbox_and_letters(w["state"])
        assert letters == 0 and not outbox.get("SalesReceipt", {}).get("pending")
        numbers = receipts_in_qbo(w["books"])
        assert numbers and len(numbers) == len(set(numbers)) == outbox["SalesReceipt"]["done"]


def test_documents_dead_lettered_by_repeated_500s_go_through_after_dlq_retry(tmp_path):
    with amazon_to_qbo(tmp_path, orders=6) as w:
        inject(w["qbo"], path_contains="/batch", status=500, count=10_000)
        for _ in range(6):  # every send fails until the records run out of attempts
            sync(pipeline(w))
        outbox, letters = outbox_and_letters(w["state"])
        assert outbox["SalesReceipt"].get("dead") and letters == outbox["SalesReceipt"]["dead"]
        assert receipts_in_qbo(w["books"]) == []
        clear_faults(w["qbo"])  # the outage is over
        assert "written again" in dlq_retry_all(w["state"])
        report = sync(pipeline(w))
        assert report.status == "succeeded", report.errors
        outbox, letters = outbox_and_letters(w["state"])
        assert letters == 0 and set(outbox["SalesReceipt"]) == {"done"}
        numbers = receipts_in_qbo(w["books"])
        assert len(numbers) == len(set(numbers)) == outbox["SalesReceipt"]["done"]
