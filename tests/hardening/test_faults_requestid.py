"""A transient error answered to a QuickBooks Online requestid must not be replayed forever.

Intuit answers a repeated requestid with its first response, an error included. A batch retried under the
same id after a 500 therefore gets the 500 back on every try, and its documents became dead letters that
`dlq retry` could not revive. A send after an answered error carries a new id; what the remote may have
committed is found by looking the key up first."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from click.testing import CliRunner

from ledgerlink.cli import cli
from ledgerlink.runtime import sync
from ledgerlink.store import Store
from sandbox_helpers import amazon_env, load_shipped, qbo_env, sandbox_running

REALM = "9341455000000000"


@contextlib.contextmanager
def amazon_to_qbo(tmp_path: Path, orders: int) -> Iterator[dict[str, Any]]:
    """The shipped amazon-to-qbo pipeline against both sandboxes; `sync()` runs it once."""
    with sandbox_running("amazon_sp", orders=orders) as (amazon, _), sandbox_running("qbo") as (qbo, books):
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon),
               **qbo_env(qbo, batch_per_minute="40000")}
        yield {"qbo": qbo, "books": books, "state": tmp_path / "state.duckdb",
               "sync": lambda: sync(load_shipped(tmp_path, "amazon-to-qbo.yaml", env))}


def inject(qbo: str, **fault: Any) -> None:
    httpx.post(f"{qbo}/_sandbox/faults", json=fault).raise_for_status()


def receipts_in_qbo(books: Any) -> list[str]:
    """The DocNumbers of every SalesReceipt in the sandbox company (duplicates kept)."""
    return sorted(str(o.get("DocNumber")) for o in books.company.entities["SalesReceipt"].values())


def outbox_and_letters(state: Path) -> tuple[dict[str, dict[str, int]], int]:
    store = Store(state)
    try:
        return store.outbox.counts(), store.dead_letters.count_open()
    finally:
        store.close()


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
        assert httpx.get(f"{qbo}/_sandbox/stats").json()["counters"]["replayed"] >= 3


def test_a_batch_answered_with_a_500_is_posted_in_the_same_sync_under_a_new_request_id(tmp_path):
    with amazon_to_qbo(tmp_path, orders=8) as w:
        inject(w["qbo"], path_contains="/batch", status=500, count=1)
        report = w["sync"]()
        assert report.status == "succeeded", report.errors
        outbox, letters = outbox_and_letters(w["state"])
        assert letters == 0 and not outbox.get("SalesReceipt", {}).get("pending")
        numbers = receipts_in_qbo(w["books"])
        assert numbers and len(numbers) == len(set(numbers)) == outbox["SalesReceipt"]["done"]


@pytest.mark.slow
def test_documents_dead_lettered_by_repeated_500s_go_through_after_dlq_retry(tmp_path):
    with amazon_to_qbo(tmp_path, orders=6) as w:
        inject(w["qbo"], path_contains="/batch", status=500, count=10_000)
        for _ in range(6):  # every send fails until the records run out of attempts
            w["sync"]()
        outbox, letters = outbox_and_letters(w["state"])
        assert outbox["SalesReceipt"].get("dead") and letters == outbox["SalesReceipt"]["dead"]
        assert receipts_in_qbo(w["books"]) == []
        httpx.delete(f"{w['qbo']}/_sandbox/faults").raise_for_status()  # the outage is over
        retried = CliRunner().invoke(cli, ["dlq", "retry", str(w["state"]), "--all"])
        assert retried.exit_code == 0 and "written again" in retried.output, retried.output
        report = w["sync"]()
        assert report.status == "succeeded", report.errors
        outbox, letters = outbox_and_letters(w["state"])
        assert letters == 0 and set(outbox["SalesReceipt"]) == {"done"}
        numbers = receipts_in_qbo(w["books"])
        assert len(numbers) == len(set(numbers)) == outbox["SalesReceipt"]["done"]
