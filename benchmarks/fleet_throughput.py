"""Fleet throughput: tenants synced per minute and scheduling overhead per sync, for 1, 2 and 3 workers.

    python benchmarks/fleet_throughput.py                        # 9 tenants, 10 orders each, 1..3 workers
    python benchmarks/fleet_throughput.py --tenants 30 --workers 1 3 --json

Needs the developers' Postgres (docs/concepts/fleet.md); `--admin-url` names a role that may create databases.
The BigCommerce sandbox (one store per tenant) and two QuickBooks Online companies run in their own processes;
each worker count gets a fresh database and fresh workspaces, every tenant is triggered at once, and the clock
runs from the first trigger to the last finished run. Per sync, from DBOS's and the fleet's own records:

- sync: the pipeline's own time (`runs.sync_s`: read, stage, plan, post);
- overhead: the fleet's time around it (`runs.overhead_s`: lease, loading the file, bookkeeping) plus the time
  from DBOS's dequeue to the step starting (DBOS's own records);
- queue wait: from trigger to dequeue (grows when tenants outnumber the workers' slots).

Also printed: each round's set-up (database, sandboxes and workers starting, all at once), the workers' CPU
seconds per sync (from /proc), and the whole run's wall time, CPU seconds and the load average it started under.
The default run (9 tenants, 3 rounds) used 79 CPU seconds in all on 2026-12-07 (440 s wall under a load average
of 20 on 2 cores); on a quiet 2-core machine it takes about two minutes.

Figures, not assertions. On a shared 2-core machine the workers compete with the sandboxes for the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _sandbox import start_sandbox  # noqa: E402

PIPELINE = "bigcommerce-two-stores-a-to-qbo.yaml"
REALMS = ("9341455000000101", "9341455000000202")


def _workspace(root: Path, tenant: str, store: str, bc: str, qbo: str, realm: str) -> Path:
    from importlib import resources

    folder = root / tenant
    folder.mkdir(parents=True)
    (folder / PIPELINE).write_text(resources.files("ledgerlink").joinpath("data", PIPELINE).read_text())
    env = {"BIGCOMMERCE_BASE_URL": bc, "BIGCOMMERCE_STORE_HASH_A": store, "BIGCOMMERCE_REQUESTS_PER_SECOND": "1000",
           "QBO_BASE_URL": qbo, "QBO_TOKEN_URL": f"{qbo}/oauth2/v1/tokens/bearer", "QBO_REALM_ID": realm,
           "QBO_REQUESTS_PER_MINUTE": "30000", "QBO_BATCH_REQUESTS_PER_MINUTE": "6000"}
    (folder / "tenant.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return folder


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system, the process and its waited-for children) a live process has used (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def run(workers: int, tenants: int, orders: int, concurrency: int, admin_url: str) -> dict[str, Any]:
    import psycopg

    from ledgerlink.fleet import FleetDatabase, add_tenant
    from ledgerlink.fleet.engine import enqueue_sync, init_fleet

    name = f"ll_fleet_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    stores = [f"b{i:03d}" for i in range(tenants)]
    procs: list[subprocess.Popen[bytes]] = []
    result: dict[str, Any] | None = None
    root = Path(tempfile.mkdtemp(prefix="ll-fleet-bench-"))
    workers_started: list[subprocess.Popen[bytes]] = []
    set_up = time.monotonic()
    try:
        db = FleetDatabase(url)
        init_fleet(db)
        # the workers and the three sandboxes start at once (each pays Python's and the plugins' imports)
        env = {**os.environ, "LEDGERLINK_LOG_LEVEL": "ERROR"}
        workers_started += [subprocess.Popen(
            [sys.executable, "-m", "ledgerlink", "fleet", "worker", "--database-url", url, "--worker-id",
             f"bench-{w}", "--concurrency", str(concurrency), "--max-seconds", "1800"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env) for w in range(workers)]
        launches = [("bigcommerce", ("--time-scale", "1000", "--set", f"orders={orders}", "--set",
                                     f"store_hash={stores[0]}", "--set", f"stores={json.dumps(stores[1:])}"))]
        launches += [("qbo", ("--time-scale", "60", "--set", f'realm_id="{realm}"', "--set",
                              "rotate_refresh_tokens=false")) for realm in REALMS]
        with ThreadPoolExecutor(len(launches)) as pool:
            futures = [pool.submit(start_sandbox, name, *args, wait_s=600) for name, args in launches]
        problems = [f.exception() for f in futures if f.exception() is not None]
        started = [f.result() for f in futures if f.exception() is None]
        procs.extend(p for p, _ in started)  # stopped in `finally` even when another did not start
        if problems:
            raise problems[0]
        bc, companies = started[0][1], [u for _, u in started[1:]]
        for i in range(tenants):
            add_tenant(db, f"t{i:03d}", _workspace(root, f"t{i:03d}", stores[i], bc, companies[i % 2], REALMS[i % 2]))
        deadline = time.monotonic() + 300
        while db.execute("SELECT count(*) FROM workers")[0][0] < workers:
            if time.monotonic() > deadline:
                raise SystemExit("the workers did not start")
            time.sleep(0.2)
        start = time.monotonic()
        setup_s = start - set_up
        for i in range(tenants):
            enqueue_sync(db, f"t{i:03d}", PIPELINE.removesuffix(".yaml"))
        deadline = time.monotonic() + 1800
        while db.execute("SELECT count(*) FROM runs WHERE status IN ('succeeded', 'failed')")[0][0] < tenants:
            if time.monotonic() > deadline:
                raise SystemExit("the syncs did not finish within 30 minutes")
            time.sleep(0.2)
        elapsed = time.monotonic() - start
        failed = db.execute("SELECT count(*) FROM runs WHERE status = 'failed'")[0][0]
        rows = db.execute(
            "SELECT r.sync_s, r.overhead_s + greatest(0, extract(epoch FROM r.step_started_at) "
            "- w.started_at_epoch_ms / 1000.0), (w.started_at_epoch_ms - w.created_at) / 1000.0 "
            "FROM runs r JOIN dbos.workflow_status w ON w.workflow_uuid = r.workflow_id WHERE r.status = 'succeeded'")
        sync_s = [float(r[0]) for r in rows]
        overhead = [float(r[1]) for r in rows]
        wait = [float(r[2]) for r in rows]
        result = {"workers": workers, "tenants": tenants, "orders_per_tenant": orders, "failed": failed,
                  "setup_s": round(setup_s, 1),
                "elapsed_s": round(elapsed, 1), "tenants_per_minute": round(tenants / elapsed * 60, 1),
                "sync_s_median": round(statistics.median(sync_s), 2) if sync_s else None,
                "overhead_s_per_sync_median": round(statistics.median(overhead), 3) if overhead else None,
                "overhead_s_per_sync_mean": round(statistics.mean(overhead), 3) if overhead else None,
                "queue_wait_s_median": round(statistics.median(wait), 2) if wait else None}
        return result
    finally:
        cpu_workers = sum(_cpu_s(p.pid) for p in workers_started)
        procs.extend(workers_started)
        if result is not None:
            result["worker_cpu_s"] = round(cpu_workers, 1)
            result["worker_cpu_s_per_sync"] = round(cpu_workers / max(1, tenants), 2)
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        import shutil

        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=9, help="enough to keep 3 workers' 6 slots busy")
    parser.add_argument("--orders", type=int, default=10, help="orders per tenant's store")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--concurrency", type=int, default=2, help="syncs at once per worker")
    parser.add_argument("--admin-url", default=os.environ.get(
        "LEDGERLINK_TEST_POSTGRES_URL", "postgresql://ledgerlink:ledgerlink@127.0.0.1:5432/postgres"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    began, load = time.monotonic(), os.getloadavg()[0]
    results = [run(w, args.tenants, args.orders, args.concurrency, args.admin_url) for w in args.workers]
    total = {"wall_s": round(time.monotonic() - began, 1), "load_average_at_start": round(load, 1),
             "cpu_s_all_processes": round(_own_and_children_cpu_s(), 1)}
    if args.json:
        print(json.dumps({"rounds": results, "total": total}, indent=2))
        return
    print(f"{args.tenants} tenants of {args.orders} orders, --concurrency {args.concurrency} per worker")
    print(f"{'workers':>7} {'set-up s':>8} {'tenants/min':>11} {'elapsed s':>9} {'sync s (median)':>15} "
          f"{'overhead s/sync (median, mean)':>30} {'queue wait s':>12} {'worker CPU s/sync':>17} {'failed':>6}")
    for r in results:
        print(f"{r['workers']:>7} {r['setup_s']:>8} {r['tenants_per_minute']:>11} {r['elapsed_s']:>9} "
              f"{r['sync_s_median']:>15} "
              f"{str(r['overhead_s_per_sync_median']) + ', ' + str(r['overhead_s_per_sync_mean']):>30} "
              f"{r['queue_wait_s_median']:>12} {r.get('worker_cpu_s_per_sync', '?'):>17} {r['failed']:>6}")
    print(f"whole run: {total['wall_s']} s wall, {total['cpu_s_all_processes']} CPU s (this process, sandboxes, "
          f"workers), load average {total['load_average_at_start']} at the start")


def _own_and_children_cpu_s() -> float:
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
