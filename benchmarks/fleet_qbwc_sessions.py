"""What hosting the Web Connector in the fleet costs per session, against `ledgerlink serve`'s own `/qbwc/`.

    python benchmarks/fleet_qbwc_sessions.py                     # 20 orders, 20 empty sessions each way
    python benchmarks/fleet_qbwc_sessions.py --orders 50 --sessions 40 --json

Needs the developers' Postgres (docs/concepts/fleet.md; `--admin-url` names a role that may create databases) and
Intuit's qbXML XSD under ../shared/reference (the simulator validates every request). Everything runs in this
process: the BigCommerce sandbox, `serve`'s app for one copy of bigcommerce-to-qbd, a fleet endpoint
(`/fleet/qbwc/<tenant>/<pipeline>/`) for another, each with its own simulated company file. Per way:

- posting: a sync, then Web Connector sessions (and syncs between them) until nothing waits; wall and CPU seconds;
- empty sessions: a session that finds nothing to send (`authenticate` → `none` → `closeConnection`), A and B
  interleaved; in the fleet it takes the pipeline's lease, opens the state file, counts, closes and releases.

CPU seconds are this process's (`time.process_time`, all threads: servers and client alike). Figures, not
assertions; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "fleet"))

ADMIN_URL = "postgresql://ledgerlink:ledgerlink@127.0.0.1:5432/postgres"
XSD = REPO.parent / "shared" / "reference" / "qbxml" / "xsd-16.0" / "qbxmlops160.xsd"


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--admin-url", default=os.environ.get("LEDGERLINK_TEST_POSTGRES_URL", ADMIN_URL))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import psycopg
    from starlette.applications import Starlette
    from starlette.routing import Route

    from ledgerlink.fleet import FleetDatabase, add_tenant
    from ledgerlink.fleet.engine import Worker, init_fleet
    from ledgerlink.fleet.sessions import FleetSessions
    from ledgerlink.pipeline import load_pipeline
    from ledgerlink.plugins import host
    from ledgerlink.sandbox import running_app
    from ledgerlink.serve import PipelineService, build_app
    from qbwc_helpers import PIPELINE, qbd_workspace, simulator
    from sandbox_helpers import sandbox_running

    load_at_start = os.getloadavg()
    name = f"ll_bench_qbwc_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(args.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = args.admin_url.rsplit("/", 1)[0] + "/" + name
    db = FleetDatabase(url)
    results: dict[str, Any] = {"orders": args.orders, "sessions": args.sessions, "load_at_start": load_at_start}
    try:
        init_fleet(db)
        with tempfile.TemporaryDirectory() as tmp, sandbox_running("bigcommerce", orders=args.orders) as (bc, _):
            root = Path(tmp)
            add_tenant(db, "acme", qbd_workspace(root / "tenants", "acme", bc=bc, username="acme-qb",
                                                 password="acme-password-1"))
            serve_dir = qbd_workspace(root / "serve", "solo", bc=bc, username="acme-qb", password="acme-password-1")
            env = dict(line.split("=", 1) for line in (serve_dir / "tenant.env").read_text().splitlines())
            env["LEDGERLINK_STATE"] = str(serve_dir / "state.duckdb")
            service = PipelineService(load_pipeline(serve_dir / f"{PIPELINE}.yaml", env=env), host(), every=None,
                                      debounce=0.05)
            service.start()
            sessions = FleetSessions(db, host())
            fleet_app = Starlette(routes=[Route("/fleet/{service}/{tenant}/{pipeline}/", sessions,
                                                methods=["GET", "POST"])])
            worker = Worker(db, worker_id="bench")
            sim_a = simulator(XSD, username="acme-qb", password="acme-password-1")
            sim_b = simulator(XSD, username="acme-qb", password="acme-password-1")
            try:
                with running_app(build_app(service)) as serve_url, running_app(fleet_app) as fleet_base:
                    a_url, b_url = f"{serve_url}/qbwc/", f"{fleet_base}/fleet/qbwc/acme/{PIPELINE}/"

                    def post_serve() -> int:
                        n = 0
                        for _ in range(10):
                            service.trigger("bench")
                            time.sleep(0.1)
                            deadline = time.monotonic() + 120
                            while not service.idle and time.monotonic() < deadline:
                                time.sleep(0.02)
                            n += 1
                            if sim_a.poll(a_url)["result"] == "none":
                                return n
                        return n

                    def post_fleet() -> int:
                        n = 0
                        for _ in range(10):
                            worker.run_sync("acme", PIPELINE, "bench", None)
                            n += 1
                            if sim_b.poll(b_url)["result"] == "none":
                                return n
                        return n

                    for label, fn, sim in (("serve", post_serve, sim_a), ("fleet", post_fleet, sim_b)):
                        rounds, wall, cpu = _timed(fn)
                        results[f"{label}_posting"] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                                                       "sessions": rounds, "objects": sim.company.counts()}
                    walls: dict[str, list[float]] = {"serve": [], "fleet": []}
                    cpus: dict[str, list[float]] = {"serve": [], "fleet": []}
                    for _ in range(args.sessions):  # A and B interleaved
                        for label, sim, target in (("serve", sim_a, a_url), ("fleet", sim_b, b_url)):
                            outcome, wall, cpu = _timed(lambda: sim.poll(target))
                            assert outcome["result"] == "none", outcome
                            walls[label].append(wall)
                            cpus[label].append(cpu)
                    for label in ("serve", "fleet"):
                        results[f"{label}_empty_session"] = {
                            "median_wall_ms": round(statistics.median(walls[label]) * 1000, 1),
                            "median_cpu_ms": round(statistics.median(cpus[label]) * 1000, 1)}
            finally:
                sessions.close()
                service.stop()
    finally:
        db.close()
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    results["load_at_end"] = os.getloadavg()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for key, value in results.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
