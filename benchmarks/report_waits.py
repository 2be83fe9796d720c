"""What a slow Amazon report costs a fleet worker: waited for in process vs. saved and woken by DBOS.

One worker with one slot, two sellers. Seller A's first report stays IN_PROGRESS for `--hold` seconds (the
sandbox's HOLD, released by this script); seller B's sync is queued right after A's. Run for each mode in turn
(interleaved, `--rounds` times):

- `in-process`: `fleet worker --wait-in-run-seconds 3600`, the worker waits as `ledgerlink sync` does;
- `durable`: `--wait-in-run-seconds 1`, the sync saves the report, frees the slot and a DBOS delayed sync looks
  again (`report_look_again_seconds` 5).

Prints per mode: how long B waited in the queue behind A, the slot-seconds A's syncs held, A's syncs, and the
worker's CPU seconds. Needs Postgres (LEDGERLINK_TEST_POSTGRES_URL, as the fleet tests).

    python benchmarks/report_waits.py --hold 30 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _sandbox import start_sandbox  # noqa: E402
from fleet_throughput import _cpu_s  # noqa: E402

PIPELINE = "amazon-report-to-qbo"
ADMIN_URL = os.environ.get("LEDGERLINK_TEST_POSTGRES_URL", "postgresql://ledgerlink:ledgerlink@127.0.0.1:5432/postgres")


def _workspace(root: Path, tenant: str, amazon: str, qbo: str, realm: str) -> Path:
    folder = root / tenant
    folder.mkdir(parents=True)
    start = (datetime.now(timezone.utc) - timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = resources.files("ledgerlink").joinpath("data", "amazon-to-qbo.yaml").read_text()
    text = text.replace("name: amazon-to-qbo", f"name: {PIPELINE}").replace(
        "  streams: [orders, order_items]", "  streams: [all_orders_report]").replace(
        "    start_date: ${AMAZON_START_DATE:-2026-01-01T00:00:00Z}\n",
        f"    start_date: {start}\n    backfill: reports\n    report_look_again_seconds: 5\n")
    (folder / f"{PIPELINE}.yaml").write_text(text)
    env = {"AMAZON_SP_ENDPOINT": amazon, "AMAZON_LWA_ENDPOINT": f"{amazon}/auth/o2/token", "QBO_BASE_URL": qbo,
           "QBO_TOKEN_URL": f"{qbo}/oauth2/v1/tokens/bearer", "QBO_REALM_ID": realm,
           "QBO_REQUESTS_PER_MINUTE": "500000", "QBO_BATCH_REQUESTS_PER_MINUTE": "500000"}
    (folder / "tenant.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return folder


def _until(what: str, check: Any, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def run(mode: str, hold_s: float) -> dict[str, Any]:
    import psycopg

    from ledgerlink.fleet import FleetDatabase, add_tenant
    from ledgerlink.fleet.engine import enqueue_sync, init_fleet

    name = f"ll_report_waits_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    procs: list[subprocess.Popen[bytes]] = []
    worker = None
    try:
        db = FleetDatabase(url)
        init_fleet(db)
        root = Path(tempfile.mkdtemp(prefix="ll-report-waits-"))
        sellers = {}
        for tenant, realm in (("a", "9341455000000401"), ("b", "9341455000000402")):
            amazon_proc, amazon = start_sandbox("amazon_sp", "--time-scale", "1000", "--set", "orders=30")
            qbo_proc, qbo = start_sandbox("qbo", "--time-scale", "1000", "--set", f'realm_id="{realm}"', "--set",
                                          "rotate_refresh_tokens=false")
            procs += [amazon_proc, qbo_proc]
            add_tenant(db, tenant, _workspace(root, tenant, amazon, qbo, realm))
            sellers[tenant] = amazon
        httpx.post(f"{sellers['a']}/_sandbox/reports/next", json={"outcome": "HOLD"}).raise_for_status()
        wait = "3600" if mode == "in-process" else "1"
        worker = subprocess.Popen(
            [sys.executable, "-m", "ledgerlink", "fleet", "worker", "--database-url", url, "--worker-id", "bench",
             "--concurrency", "1", "--wait-in-run-seconds", wait, "--max-seconds", "1800"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "LEDGERLINK_LOG_LEVEL": "ERROR"})
        _until("the worker", lambda: db.execute("SELECT count(*) FROM workers")[0][0] == 1)
        cpu0, t0 = _cpu_s(worker.pid), time.monotonic()
        enqueue_sync(db, "a", PIPELINE)
        _until("A's sync to start", lambda: db.execute("SELECT 1 FROM runs WHERE tenant = 'a'"))
        queued_b = time.time()
        enqueue_sync(db, "b", PIPELINE)
        time.sleep(max(0.0, hold_s - (time.monotonic() - t0)))
        httpx.post(f"{sellers['a']}/_sandbox/reports/release").raise_for_status()
        _until("both sellers", lambda: db.execute("SELECT count(DISTINCT tenant) FROM runs WHERE status = "
                                                  "'succeeded'")[0][0] == 2)
        elapsed, cpu = time.monotonic() - t0, _cpu_s(worker.pid) - cpu0
        b_start = db.execute("SELECT extract(epoch FROM min(started_at)) FROM runs WHERE tenant = 'b'")[0][0]
        a_runs = db.execute("SELECT count(*), sum(sync_s + overhead_s) FROM runs WHERE tenant = 'a'")[0]
        return {"mode": mode, "hold_s": hold_s, "b_queue_wait_s": round(float(b_start) - queued_b, 1),
                "a_syncs": a_runs[0], "a_slot_s": round(float(a_runs[1]), 1), "elapsed_s": round(elapsed, 1),
                "worker_cpu_s": round(cpu, 2), "load": os.getloadavg()[0]}
    finally:
        for proc in ([worker] if worker else []) + procs:
            proc.terminate()
        for proc in ([worker] if worker else []) + procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hold", type=float, default=30.0, help="seconds seller A's report stays IN_PROGRESS")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    for _ in range(args.rounds):
        for mode in ("in-process", "durable"):
            print(json.dumps(run(mode, args.hold)), flush=True)


if __name__ == "__main__":
    main()
