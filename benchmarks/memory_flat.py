"""Peak memory of normalise + plan from 10,000 to 1,000,000 orders, each size in a fresh process.

    python benchmarks/memory_flat.py                          # 10k, 100k, 1M
    python benchmarks/memory_flat.py --sizes 10000 100000 --json
    python benchmarks/memory_flat.py --one 20000              # one size, in this process

The staged table is generated, not read from the sandbox (read + stage is measured by
`benchmarks/sync_throughput.py`; reading a million orders through the sandbox would measure the reader): the
Amazon sandbox's seller book builds 10,000 distinct 2026 orders, and larger tables repeat them under new order
ids (the id's first group), so every order is planned as a distinct order. The store runs at its default
memory settings (DuckDB's limit: LEDGERLINK_DUCKDB_MEMORY or the store's own). Peak RSS is the process's
`ru_maxrss` (DuckDB included); RSS after staging is printed beside it, so what planning adds shows.
Planning runs in two processes on two cores (`runtime.plan_workers`): the helper's peak RSS (forked from the
parent, so it shares the parent's pages until either writes them) is `helper_peak_rss_mb`. Figures, not
assertions.
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
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

GOAL_MB = 500
DISTINCT = 10_000
STREAM = "orders_2026"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def stage(store: Any, orders: int, chunk: int = 10_000) -> None:
    """`orders` 2026 orders: DISTINCT generated ones, repeated under new ids beyond that."""
    from ledgerlink_amazon_sp.orders.streams import INCLUDED_DATA
    from ledgerlink_amazon_sp.sandbox.seed import SellerBook

    from ledgerlink import json_dumps

    distinct = min(orders, DISTINCT)
    book = SellerBook(distinct, 7, datetime(2026, 3, 1, tzinfo=timezone.utc), lines_per_order=2)
    included = frozenset(INCLUDED_DATA)
    base: list[tuple[str, str | None, str]] = []
    for i in range(distinct):
        rec = book.order_2026(i, included)
        base.append((rec["orderId"], rec.get("lastUpdatedTime"), json_dumps(rec)))
    for start in range(0, orders, chunk):
        pks, cursors, data = [], [], []
        for n in range(start, min(orders, start + chunk)):
            pk, cursor, text = base[n % distinct]
            copy = n // distinct
            if copy:  # a new id: the first group of digits says which copy (Amazon's are three digits)
                new = f"{copy + 900:04d}{pk[3:]}"
                text = text.replace(f'"{pk}"', f'"{new}"')
                pk = new
            pks.append(pk)
            cursors.append(cursor)
            data.append(text)
        store.raw.stage(STREAM, pks, cursors, data, [None] * len(pks), run_id=1)


def one(orders: int, workdir: Path) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).parent))
    from normalise_plan import cpu_s, plan

    from ledgerlink.store import Store

    store = Store(workdir / "memory.duckdb")
    t0 = time.perf_counter()
    stage(store, orders)
    stage_s = time.perf_counter() - t0
    rss_staged, now_staged = rss_mb(), current_rss_mb()
    c0, t0 = cpu_s(), time.perf_counter()
    counts = plan(store)
    wall, cpu = time.perf_counter() - t0, cpu_s() - c0
    outbox = store.db.fetchone("SELECT count(*) FROM outbox")[0]
    limit = store.db.fetchone("SELECT current_setting('memory_limit')")[0]
    store.close()
    return {"orders": orders, "normalised": counts.get("normalised", 0), "outbox_rows": outbox,
            "stage_seconds": round(stage_s, 1), "plan_seconds": round(wall, 1), "plan_cpu_seconds": round(cpu, 1),
            "orders_per_s": round(orders / wall), "orders_per_cpu_s": round(orders / cpu),
            "peak_rss_after_stage_mb": round(rss_staged), "rss_after_stage_mb": round(now_staged),
            "peak_rss_mb": round(rss_mb()), "rss_end_mb": round(current_rss_mb()), "duckdb_memory_limit": limit,
            "helper_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
            "load_average": os.getloadavg(),
            "goal_mb": GOAL_MB}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--one", type=int, help="run one size in this process")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.one:
        with tempfile.TemporaryDirectory(prefix="ledgerlink-memory-") as tmp:
            rows = [one(args.one, Path(tmp))]
    else:
        rows = []
        for n in args.sizes:
            done = subprocess.run([sys.executable, __file__, "--one", str(n), "--json"], capture_output=True,
                                  text=True)
            if done.returncode:
                rows.append({"orders": n, "crashed": done.returncode, "stderr": done.stderr[-2000:]})
            else:
                rows.extend(json.loads(done.stdout))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'orders':>10} {'peak RSS MB':>12} {'after stage':>12} {'plan s':>8} {'CPU s':>7} {'orders/s':>9} "
          f"{'per CPU-s':>10} {'outbox':>9}")
    for r in rows:
        if "crashed" in r:
            print(f"{r['orders']:>10,} crashed (exit {r['crashed']}): {r['stderr'][-300:]}")
            continue
        print(f"{r['orders']:>10,} {r['peak_rss_mb']:>12} {r['peak_rss_after_stage_mb']:>12} {r['plan_seconds']:>8} "
              f"{r['plan_cpu_seconds']:>7} {r['orders_per_s']:>9,} {r['orders_per_cpu_s']:>10,} {r['outbox_rows']:>9,}")
    print(f"goal: peak RSS ≤ {GOAL_MB} MB and flat in N (DuckDB memory limit {rows[-1].get('duckdb_memory_limit')})")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("LEDGERLINK_LOG_LEVEL", "WARNING")
    raise SystemExit(main())
