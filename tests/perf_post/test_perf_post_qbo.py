"""QuickBooks Online posting with several batches in flight (issue 18) against the sandbox, through the runtime:
the same documents and outbox results as one batch at a time, exactly once under lost answers, 5xx, throttling
and failed look-ups, nothing created by a second run, and never more calls at once than the destination asks."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledgerlink import PlannedWrite, RetryPolicy
from ledgerlink.runtime.load import load
from ledgerlink.store import Store
from ledgerlink_qbo import QuickBooksOnlineDestination

from sandbox_helpers import sandbox_running

pytestmark = pytest.mark.slow  # a sandbox and two or three drains of 100 documents each: tens of seconds loaded

#: what the sandbox gives a document that the posting does not decide (its Id, times, version)
_ASSIGNED = ("Id", "SyncToken", "MetaData", "domain", "sparse")


def receipts(n: int) -> list[PlannedWrite]:
    """Receipts naming the seeded company's customer, items and account; every seventh has a cent too many
    (a dead letter, the same in every run)."""
    return [PlannedWrite(stream="SalesReceipt", key=f"SalesReceipt:t/{i}", data={
        "DocNumber": f"T-{i:05d}", "TxnDate": "2025-04-01", "CustomerRef": {"name": "Cool Cars"},
        "DepositToAccountRef": {"name": "Undeposited Funds"},
        "Line": [{"Amount": "24.999" if i % 7 == 3 else f"{10 + i}.50", "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"ItemRef": {"name": "Services"}, "Qty": 1,
                                          "UnitPrice": "24.999" if i % 7 == 3 else f"{10 + i}.50",
                                          "TaxCodeRef": {"value": "NON"}}}]}) for i in range(n)]


def destination(in_flight: int) -> QuickBooksOnlineDestination:
    dest = QuickBooksOnlineDestination(retry=RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.002,
                                                         jitter=False), sleep=lambda s: None)
    dest.batches_in_flight = in_flight
    return dest


def config(url: str, sandbox: Any) -> dict[str, Any]:
    o = sandbox.options
    return {"base_url": url, "token_url": f"{url}/oauth2/v1/tokens/bearer", "realm_id": o.realm_id,
            "client_id": o.client_id, "client_secret": o.client_secret, "refresh_token": o.refresh_token}


def inject(url: str, path: str, status: int, count: int = 1, **extra: Any) -> None:
    httpx.post(f"{url}/_sandbox/faults", json={"path_contains": path, "status": status, "count": count, **extra},
               timeout=10).raise_for_status()


def documents(sandbox: Any) -> dict[str, dict[str, Any]]:
    """The sandbox's receipts by DocNumber, without what the sandbox assigned."""
    rows = list(sandbox.company.entities["SalesReceipt"].values())
    numbers = Counter(str(r.get("DocNumber")) for r in rows)
    assert not [n for n, c in numbers.items() if c > 1], "a receipt was posted twice"
    return {str(r["DocNumber"]): _without_assigned(r) for r in rows}


def _without_assigned(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_assigned(v) for k, v in node.items() if k not in _ASSIGNED}
    if isinstance(node, list):
        return [_without_assigned(v) for v in node]
    return node


def outcome(store: Store) -> dict[str, Any]:
    return {"outbox": sorted(store.db.fetchall("SELECT key, status FROM outbox")),
            "results": sorted(store.db.fetchall("SELECT key, created FROM results")),
            "dead": sorted(store.db.fetchall("SELECT record_key, status FROM dead_letters"))}


def run(tmp: Path, in_flight: int, faults: bool, n: int = 100) -> tuple[dict[str, Any], dict[str, Any], dict]:
    with sandbox_running("qbo") as (url, sandbox):
        if faults:
            inject(url, "/batch", 504, count=2, after_commit=True)  # committed, the answers lost
            inject(url, "/batch", 500, count=1)                     # answered error, nothing committed
            inject(url, "/batch", 429, count=1)                     # throttled
            inject(url, "/query", 503, count=1)                     # a look-up fails once
        store = Store(tmp / f"state-{in_flight}-{faults}.duckdb")
        store.outbox.add("qbo", receipts(n), None)
        dest = destination(in_flight)
        first = load(dest, config(url, sandbox), store, store.runs.start("t", False))
        # the next sync sends what was left for it (retry_later), then every receipt once more
        load(destination(in_flight), config(url, sandbox), store, store.runs.start("t", False))
        store.db.execute("UPDATE outbox SET status = 'pending' WHERE status = 'done'")
        again = load(destination(in_flight), config(url, sandbox), store, store.runs.start("t", False))
        stats = httpx.get(f"{url}/_sandbox/stats", timeout=10).json()
        result = outcome(store)
        store.db.close()
        return documents(sandbox), result, {"first": first, "again": again, "stats": stats}


@pytest.mark.parametrize("faults", [False, True])
def test_in_flight_posts_what_one_at_a_time_posts_exactly_once(tmp_path: Path, faults: bool):
    one_docs, one_outcome, one = run(tmp_path, 1, faults)
    many_docs, many_outcome, many = run(tmp_path, 4, faults)
    assert many_docs == one_docs
    assert len(many_docs) == 100 - len([i for i in range(100) if i % 7 == 3])
    assert many_outcome == one_outcome
    assert many["again"]["created"] == {} and one["again"]["created"] == {}
    assert sum(many["again"]["already_there"].values()) == len(many_docs)
    assert many["stats"]["peak_in_flight"] <= 4
    if not faults:
        assert many["first"]["created"] == one["first"]["created"] == {"SalesReceipt": len(many_docs)}
