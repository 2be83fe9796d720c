"""Post sales receipts into the QuickBooks Online sandbox with Intuit's limits enforced, time-scaled.

    python benchmarks/qbo_post_receipts.py                        # 10,000 receipts at time scales 20, 50, 100
    python benchmarks/qbo_post_receipts.py --time-scale 50 --in-flight 1 4 --rounds 2 --json

The sandbox runs in its own process (`ledgerlink sandbox qbo`) enforcing 500 requests and 40 batch requests a
minute per company, both divided by the time scale; the destination's client limits are scaled the same way.
The receipts go into a pipeline's outbox and are drained by the runtime (`ledgerlink.runtime.load`), exactly as
a sync drains it: outbox reads, the destination's checks, a look-up query per 30 documents, one `/batch` call
per 30, and each batch's answers recorded in the state file. Then the same outbox is posted again (every
receipt marked pending once more): a second run must create nothing.

Batch calls are the binding limit (40 a minute = 1,200 documents a minute), so the rate is reported as batch
calls a minute against that limit (goal >= 95 %), and all requests against 500. The scaled interval between two
batch calls is 1.5 s / time scale (75 ms at 20, 30 ms at 50, 15 ms at 100): at 100, ledgerlink's own work per
batch (reading and recording the outbox, checking and resolving 30 documents, JSON) and the sandbox's are
what is left to hide. `--in-flight 1` sends one batch at a time (look-up, /batch, record, then the next), as
before the pipeline; the default is the destination's own `batches_in_flight`.

Printed per run: the rate, whether the limit or latency bound it, client CPU seconds (this process, user +
system, during the drain) and the sandbox's CPU seconds (its process, from /proc), duplicates (receipts sharing
a DocNumber in the sandbox afterwards, goal 0) and what the second run created (goal 0). Figures, not
assertions; state the machine's load beside them (printed too).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from ledgerlink import PlannedWrite, RetryPolicy
from ledgerlink.runtime.load import load
from ledgerlink.store import Store
from ledgerlink_qbo import QuickBooksOnlineDestination
from ledgerlink_qbo.destination import credential_name

sys.path.insert(0, str(Path(__file__).parent))
from _sandbox import start_sandbox as start_named_sandbox  # noqa: E402

INTUIT_REQUESTS_PER_MINUTE = 500
INTUIT_BATCHES_PER_MINUTE = 40
REALM = "9341455000000000"


def start_sandbox(time_scale: float) -> tuple[subprocess.Popen[bytes], str]:
    return start_named_sandbox("qbo", "--time-scale", str(time_scale), wait_s=60)


def receipts(count: int) -> list[PlannedWrite]:
    return [PlannedWrite(stream="SalesReceipt", key=f"SalesReceipt:bench/order/{n}", data={
        "DocNumber": f"B-{n:07d}", "TxnDate": "2025-04-01", "CustomerRef": {"name": "Cool Cars"},
        "DepositToAccountRef": {"name": "Undeposited Funds"},
        "Line": [{"Amount": "24.99", "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"ItemRef": {"name": "Services"}, "Qty": 1, "UnitPrice": "24.99",
                                          "TaxCodeRef": {"value": "NON"}}},
                 {"Amount": "4.99", "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"ItemRef": {"name": "Shipping"}, "Qty": 1, "UnitPrice": "4.99",
                                          "TaxCodeRef": {"value": "NON"}}}]}) for n in range(count)]


def cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sandbox_counters(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}/_sandbox/stats", timeout=30).json()


def drain(url: str, store: Store, time_scale: float, in_flight: int | None, sandbox_pid: int) -> dict[str, Any]:
    """One sync's write step over the store's outbox; what it did and what it cost."""
    # Intuit's waits are time-scaled, so are ours: a backoff of 0.5 s is 25 s of Intuit's time at 50x
    dest = QuickBooksOnlineDestination(retry=RetryPolicy(base_delay=0.5 / time_scale, max_delay=60 / time_scale))
    if in_flight is not None:
        dest.batches_in_flight = in_flight
    config = {"base_url": url, "token_url": f"{url}/oauth2/v1/tokens/bearer", "realm_id": REALM,
              "client_id": "sandbox-qbo-client", "client_secret": "sandbox-qbo-client-secret",
              "refresh_token": "sandbox-qbo-refresh-token",
              "requests_per_minute": int(INTUIT_REQUESTS_PER_MINUTE * time_scale),
              "batch_requests_per_minute": int(INTUIT_BATCHES_PER_MINUTE * time_scale)}
    run_id = store.runs.start("bench", False)
    before = sandbox_counters(url)["counters"]
    cpu0, sandbox0 = cpu_self(), cpu_of(sandbox_pid)
    started = time.perf_counter()
    counts = load(dest, config, store, run_id)
    elapsed = time.perf_counter() - started
    cpu, sandbox_cpu = cpu_self() - cpu0, cpu_of(sandbox_pid) - sandbox0
    after = sandbox_counters(url)
    delta = {k: after["counters"].get(k, 0) - before.get(k, 0) for k in ("requests", "batches", "throttled")}
    batches = delta["batches"]
    # the drain's whole time counts, opening the destination (token, company settings, CDC: three calls) too
    minutes = elapsed * time_scale / 60  # in Intuit's (unscaled) minutes
    created = sum((counts.get("created") or {}).values())
    found = sum((counts.get("already_there") or {}).values())
    limit_ms = 60 / (INTUIT_BATCHES_PER_MINUTE * time_scale) * 1000
    cycle_ms = elapsed / batches * 1000 if batches else None
    return {"in_flight": dest.batches_in_flight, "created": created, "found": found,
            "failed": counts.get("write_dead_letters", 0) + counts.get("retry_later", 0),
            "elapsed_s": round(elapsed, 3), "batch_calls": batches, "requests": delta["requests"],
            "throttled": delta["throttled"],
            "batch_rate_of_limit": round(batches / minutes / INTUIT_BATCHES_PER_MINUTE, 3) if batches else 0.0,
            "request_rate_of_limit": round(delta["requests"] / minutes / INTUIT_REQUESTS_PER_MINUTE, 3),
            "cycle_ms": round(cycle_ms, 1) if cycle_ms else None, "limit_interval_ms": round(limit_ms, 1),
            "binds": None if cycle_ms is None else "latency" if cycle_ms > 1.05 * limit_ms else "the limit",
            "peak_in_flight": after["peak_in_flight"],
            "client_cpu_s": round(cpu, 2), "sandbox_cpu_s": round(sandbox_cpu, 2),
            "client_cpu_ms_per_batch": round(cpu / batches * 1000, 2) if batches else None,
            "load": round(os.getloadavg()[0], 1)}


def duplicates(url: str, refresh_token: str) -> tuple[int, int]:
    """(receipts in the sandbox, receipts sharing a DocNumber with another), read through the sandbox's API."""
    with httpx.Client(base_url=url, timeout=60) as http:
        token = http.post("/oauth2/v1/tokens/bearer", auth=("sandbox-qbo-client", "sandbox-qbo-client-secret"),
                          data={"grant_type": "refresh_token", "refresh_token": refresh_token}
                          ).json()["access_token"]
        numbers: Counter[str] = Counter()
        position = 1
        while True:
            for _ in range(200):  # the sandbox enforces its own (scaled) limit on us too
                r = http.get(f"/v3/company/{REALM}/query", headers={
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


def one_round(count: int, time_scale: float, in_flight: int | None) -> dict[str, Any]:
    """A fresh sandbox and state file: post `count` receipts, then post them all again."""
    proc, url = start_sandbox(time_scale)
    try:
        with tempfile.TemporaryDirectory(prefix="qbo-post-") as tmp:
            store = Store(Path(tmp) / "bench.duckdb")
            store.outbox.add("qbo", receipts(count), None)
            first = drain(url, store, time_scale, in_flight, proc.pid)
            # the second run: every receipt pending again, with the sends the first run counted (new request ids)
            store.db.execute("UPDATE outbox SET status = 'pending'")
            again = drain(url, store, time_scale, in_flight, proc.pid)
            token = store.credentials.load(credential_name(REALM))  # the drains rotated it
            store.db.close()
        in_sandbox, dupes = duplicates(url, token or "sandbox-qbo-refresh-token")
    finally:
        proc.terminate()
        proc.wait(10)
    return {"time_scale": time_scale, "receipts": count, "first": first, "again": again,
            "receipts_in_sandbox": in_sandbox, "duplicates": dupes}


def show(report: dict[str, Any]) -> None:
    first, again = report["first"], report["again"]
    print(f"time scale {report['time_scale']:g}, {first['in_flight']} batch(es) in flight: "
          f"{report['receipts']:,} receipts in {first['elapsed_s']} s, created {first['created']:,}, "
          f"failed {first['failed']}")
    print(f"  batch calls {first['batch_calls']} at {first['batch_rate_of_limit']:.1%} of Intuit's 40/min "
          f"(goal >= 95%); all requests {first['requests']} at {first['request_rate_of_limit']:.1%} of 500/min; "
          f"throttled {first['throttled']}, peak in flight {first['peak_in_flight']}")
    print(f"  one batch call every {first['cycle_ms']} ms against {first['limit_interval_ms']} ms allowed "
          f"({first['binds']} binds); CPU s: client {first['client_cpu_s']} "
          f"({first['client_cpu_ms_per_batch']} ms a batch), sandbox {first['sandbox_cpu_s']}; load {first['load']}")
    print(f"  again: created {again['created']}, found {again['found']:,} in {again['elapsed_s']} s "
          f"({again['requests']} requests, {again['batch_calls']} batch calls); receipts in the sandbox "
          f"{report['receipts_in_sandbox']:,}, duplicates {report['duplicates']} (goal 0)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receipts", type=int, default=10_000)
    parser.add_argument("--time-scale", type=float, nargs="+", default=[20.0, 50.0, 100.0])
    parser.add_argument("--in-flight", type=int, nargs="+", default=[None],
                        help="batches in flight (several values: rounds interleaved); default the destination's")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    print(f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores",
          file=sys.stderr)
    for _ in range(args.rounds):
        for scale in args.time_scale:
            for in_flight in args.in_flight:
                report = one_round(args.receipts, scale, in_flight)
                if args.json:
                    print(json.dumps(report), flush=True)
                else:
                    show(report)


if __name__ == "__main__":
    main()
