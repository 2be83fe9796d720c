"""Post sales receipts into the QuickBooks Online sandbox with Intuit's limits enforced, time-scaled.

    python benchmarks/qbo_post_receipts.py                     # 10,000 receipts, limits 50x faster
    python benchmarks/qbo_post_receipts.py --receipts 2000 --time-scale 20 --json
    python benchmarks/qbo_post_receipts.py --again             # then the same receipts again: creates nothing

The sandbox runs in its own process (`ledgerlink sandbox qbo`) enforcing 500 requests and 40 batch requests a
minute per company, both divided by `--time-scale`; the destination's client limits are scaled the same way.
Receipts go through `write_batch` exactly as the runtime drains the outbox: a look-up query per batch of 30,
then one `/batch` call. Batch calls are the binding limit (40 a minute = 1,200 documents a minute), so the
rate is reported as batch calls a minute against that limit (goal ≥ 95%), and all requests against 500.
Each batch costs a look-up and a `/batch` call, one after the other: when their round trips take longer than
the scaled limit's interval between batch calls (1.5 s / time scale), latency binds, not Intuit's limit; the
report prints both, so a loaded machine (or too high a time scale) shows as such. At Intuit's real limits the
interval is 1.5 s and a round trip of a few tens of milliseconds never binds.
Duplicates are receipts sharing a DocNumber in the sandbox afterwards (goal 0). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from ledgerlink import OutboundRecord, RetryPolicy, WriteContext
from ledgerlink_qbo import QuickBooksOnlineDestination

sys.path.insert(0, str(Path(__file__).parent))
from _sandbox import start_sandbox as start_named_sandbox  # noqa: E402

INTUIT_REQUESTS_PER_MINUTE = 500
INTUIT_BATCHES_PER_MINUTE = 40


def start_sandbox(time_scale: float) -> tuple[subprocess.Popen[bytes], str]:
    return start_named_sandbox("qbo", "--time-scale", str(time_scale), wait_s=60)


def receipts(count: int) -> list[OutboundRecord]:
    return [OutboundRecord(key=f"SalesReceipt:bench/order/{n}", stream="SalesReceipt", data={
        "DocNumber": f"B-{n:07d}", "TxnDate": "2025-04-01", "CustomerRef": {"name": "Cool Cars"},
        "DepositToAccountRef": {"name": "Undeposited Funds"},
        "Line": [{"Amount": "24.99", "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"ItemRef": {"name": "Services"}, "Qty": 1, "UnitPrice": "24.99",
                                          "TaxCodeRef": {"value": "NON"}}},
                 {"Amount": "4.99", "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"ItemRef": {"name": "Shipping"}, "Qty": 1, "UnitPrice": "4.99",
                                          "TaxCodeRef": {"value": "NON"}}}]}) for n in range(count)]


def post(url: str, records: list[OutboundRecord], time_scale: float) -> dict[str, Any]:
    # Intuit's waits are time-scaled, so are ours: a backoff of 0.5 s is 25 s of Intuit's time at 50x
    dest = QuickBooksOnlineDestination(retry=RetryPolicy(base_delay=0.5 / time_scale, max_delay=60 / time_scale))
    config = {"base_url": url, "token_url": f"{url}/oauth2/v1/tokens/bearer", "realm_id": "9341455000000000",
              "client_id": "sandbox-qbo-client", "client_secret": "sandbox-qbo-client-secret",
              "refresh_token": "sandbox-qbo-refresh-token",
              "requests_per_minute": int(INTUIT_REQUESTS_PER_MINUTE * time_scale),
              "batch_requests_per_minute": int(INTUIT_BATCHES_PER_MINUTE * time_scale)}
    dest.open(dest.parse_config(config), WriteContext())
    assert dest.api is not None
    before = dict(dest.api.http.stats)
    started = time.perf_counter()
    outcome: Counter[str] = Counter()
    for start in range(0, len(records), dest.batch_size):
        for result in dest.write_batch("SalesReceipt", records[start:start + dest.batch_size]):
            outcome["created" if result.ok and result.created else "found" if result.ok else "failed"] += 1
    elapsed = time.perf_counter() - started
    stats = dest.api.http.stats
    batches = dest.api.batch_calls
    requests = stats["requests"] - before["requests"]
    dest.close()
    minutes = elapsed * time_scale / 60  # in Intuit's (unscaled) minutes
    return {"documents": len(records), **outcome, "elapsed_s": round(elapsed, 2), "batch_calls": batches,
            "requests": requests, "throttled": stats["throttled"] - before["throttled"],
            "retries": stats["retries"] - before["retries"],
            "batch_rate_of_limit": round(batches / minutes / INTUIT_BATCHES_PER_MINUTE, 3) if batches else 0.0,
            "request_rate_of_limit": round(requests / minutes / INTUIT_REQUESTS_PER_MINUTE, 3),
            "documents_per_call": round(len(records) / max(requests, 1), 2),
            "documents_per_batch_call": round(outcome["created"] / batches, 2) if batches else 0.0,
            "cycle_ms": round(elapsed / batches * 1000, 1) if batches else None,
            "limit_interval_ms": round(60 / (INTUIT_BATCHES_PER_MINUTE * time_scale) * 1000, 1)}


def duplicates(url: str) -> tuple[int, int]:
    """(receipts in the sandbox, receipts sharing a DocNumber with another), read through the sandbox's API."""
    o = {"client_id": "sandbox-qbo-client", "client_secret": "sandbox-qbo-client-secret"}
    with httpx.Client(base_url=url, timeout=30) as http:
        token = http.post("/oauth2/v1/tokens/bearer", auth=(o["client_id"], o["client_secret"]),
                          data={"grant_type": "refresh_token", "refresh_token": "sandbox-qbo-refresh-token"}
                          ).json()["access_token"]
        numbers: Counter[str] = Counter()
        position = 1
        while True:
            for _ in range(100):  # the sandbox enforces its own (scaled) limit on us too
                r = http.get("/v3/company/9341455000000000/query", headers={
                    "Authorization": f"Bearer {token}", "Accept": "application/json"}, params={
                    "minorversion": "75",
                    "query": f"select * from SalesReceipt startposition {position} maxresults 1000"})
                if r.status_code != 429:
                    break
                time.sleep(0.05)
            rows = r.json()["QueryResponse"].get("SalesReceipt", [])
            numbers.update(str(row.get("DocNumber")) for row in rows)
            if len(rows) < 1000:
                break
            position += 1000
    return sum(numbers.values()), sum(n - 1 for n in numbers.values() if n > 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receipts", type=int, default=10_000)
    parser.add_argument("--time-scale", type=float, default=50.0)
    parser.add_argument("--again", action="store_true", help="post the same receipts a second time")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    proc, url = start_sandbox(args.time_scale)
    try:
        records = receipts(args.receipts)
        report: dict[str, Any] = {"time_scale": args.time_scale, "first": post(url, records, args.time_scale)}
        if args.again:
            report["again"] = post(url, records, args.time_scale)
        report["receipts_in_sandbox"], report["duplicates"] = duplicates(url)
    finally:
        proc.terminate()
        proc.wait(10)
    if args.json:
        print(json.dumps(report))
        return
    first = report["first"]
    print(f"posted {first['documents']:,} receipts in {first['elapsed_s']} s (limits {args.time_scale:g}x faster):"
          f" created {first.get('created', 0):,}, failed {first.get('failed', 0)}")
    print(f"  batch calls {first['batch_calls']} at {first['batch_rate_of_limit']:.1%} of Intuit's 40/min "
          f"(goal >= 95%); all requests {first['requests']} at {first['request_rate_of_limit']:.1%} of 500/min")
    print(f"  one batch (look-up + /batch) every {first['cycle_ms']} ms; the scaled limit allows one every "
          f"{first['limit_interval_ms']} ms ({'latency' if first['cycle_ms'] and first['cycle_ms'] > 1.05 * "
          f"first['limit_interval_ms'] else 'the limit'} binds); load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(f"  documents per API call {first['documents_per_call']} (per batch call "
          f"{first['documents_per_batch_call']}); throttled {first['throttled']}, retries {first['retries']}")
    if "again" in report:
        again = report["again"]
        print(f"  again: created {again.get('created', 0)}, found {again.get('found', 0)} in {again['elapsed_s']} s "
              f"({again['requests']} requests, {again['batch_calls']} batch calls)")
    print(f"  receipts in the sandbox {report['receipts_in_sandbox']:,}, duplicates {report['duplicates']} (goal 0)")


if __name__ == "__main__":
    main()
