"""Normalise + plan throughput: Amazon orders (Orders API 2026-01-01) into QuickBooks Online sales receipts.

    python benchmarks/normalise_plan.py                     # 20,000 orders, one pass
    python benchmarks/normalise_plan.py --orders 100000 --json
    python benchmarks/normalise_plan.py --profile out.html  # pyinstrument profile of the plan stage

The staged table is generated, not read: the Amazon sandbox's own seller book (`SellerBook.order_2026`, the
same orders `searchOrders` serves) is staged straight into a fresh DuckDB store with `RawTables.stage`, so
this measures normalise + plan alone (read + stage is `benchmarks/sync_throughput.py`'s). Then
`runtime.normalise.normalise_and_plan` runs with the real QuickBooks Online destination's `plan` (no network).
Reported: wall seconds, orders/s, CPU seconds of this process and its helper (`--workers 2`, the default on two
cores: see `ledgerlink.runtime.plan_workers`) and orders per CPU-second (the machine is shared: wall time is
noisy, CPU time less so), and peak RSS. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

GOAL_ORDERS_PER_S = 5_000
STREAM = "orders_2026"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def own_cpu_s() -> float:
    """CPU seconds of this process alone (the planning parent, without its helper)."""
    self_ = resource.getrusage(resource.RUSAGE_SELF)
    return self_.ru_utime + self_.ru_stime


def cpu_s() -> float:
    """CPU seconds of this process and its finished children (worker processes, if any)."""
    self_, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return self_.ru_utime + self_.ru_stime + children.ru_utime + children.ru_stime


def stage_orders(store: Any, orders: int, lines: int | None = 2, *, seed: int = 7, chunk: int = 5_000) -> int:
    """Stage `orders` generated 2026 orders as the stream would (pk orderId, cursor lastUpdatedTime)."""
    from ledgerlink_amazon_sp.orders.streams import INCLUDED_DATA
    from ledgerlink_amazon_sp.sandbox.seed import SellerBook

    from ledgerlink import json_dumps

    anchor = datetime(2026, 3, 1, tzinfo=timezone.utc)
    book = SellerBook(orders, seed, anchor, lines_per_order=lines)
    included = frozenset(INCLUDED_DATA)
    for start in range(0, orders, chunk):
        pks, cursors, data = [], [], []
        for i in range(start, min(orders, start + chunk)):
            rec = book.order_2026(i, included)
            pks.append(rec["orderId"])
            cursors.append(rec.get("lastUpdatedTime"))
            data.append(json_dumps(rec))
        store.raw.stage(STREAM, pks, cursors, data, [None] * len(pks), run_id=1)
    return store.raw.count(STREAM)


def plan(store: Any, *, batch: int = 2000, workers: int | None = None) -> dict[str, Any]:
    from ledgerlink_amazon_sp import AmazonSellingPartnerSource
    from ledgerlink_qbo.destination import QuickBooksOnlineDestination

    from ledgerlink.runtime.normalise import PlanContextImpl, mapping_engine, normalise_and_plan, resolve_normalisers

    source, destination = AmazonSellingPartnerSource(), QuickBooksOnlineDestination()
    ctx = PlanContextImpl(mapping_engine(destination, {}, "."), {}, store=store, destination=destination.name)
    normalisers = [n for n in resolve_normalisers(source, {}) if n.stream == STREAM]
    return normalise_and_plan(normalisers, destination, ctx, store, run_id=1, batch=batch, workers=workers)


def run(orders: int, workdir: Path, profile: str | None = None, workers: int | None = None) -> dict[str, Any]:
    from ledgerlink.store import Store

    store = Store(workdir / "bench.duckdb")
    t0 = time.perf_counter()
    staged = stage_orders(store, orders)
    stage_s = time.perf_counter() - t0
    rss_staged = rss_mb()
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.002)
        profiler.start()
    c0, own0, t0 = cpu_s(), own_cpu_s(), time.perf_counter()
    counts = plan(store, workers=workers)
    wall, cpu, own = time.perf_counter() - t0, cpu_s() - c0, own_cpu_s() - own0
    if profiler is not None:
        profiler.stop()
        Path(profile).write_text(profiler.output_html())  # type: ignore[arg-type]
        print(profiler.output_text(unicode=False, color=False, show_all=False)[:12000], file=sys.stderr)
    outbox = store.db.fetchone("SELECT count(*) FROM outbox")[0]
    dead = store.db.fetchone("SELECT count(*) FROM dead_letters")[0]
    store.close()
    return {"orders": staged, "stage_seconds": round(stage_s, 2), "plan_seconds": round(wall, 2),
            "plan_cpu_seconds": round(cpu, 2), "parent_cpu_seconds": round(own, 2),
            "helper_cpu_seconds": round(cpu - own, 2), "orders_per_s": round(staged / wall),
            "orders_per_cpu_s": round(staged / cpu) if cpu else None, "normalised": counts.get("normalised", 0),
            "outbox_rows": outbox, "dead_letters": dead, "rss_after_stage_mb": round(rss_staged),
            "peak_rss_mb": round(rss_mb()), "goal_orders_per_s": GOAL_ORDERS_PER_S,
            "load_average": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--profile", help="write a pyinstrument HTML profile of normalise + plan here")
    parser.add_argument("--workers", type=int, help="processes that plan (default: 2 on two cores or more)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ledgerlink-plan-") as tmp:
        row = run(args.orders, Path(tmp), args.profile, args.workers)
    if args.json:
        print(json.dumps(row, indent=1))
    else:
        print(f"normalise + plan, {row['orders']:,} orders → {row['outbox_rows']:,} outbox rows "
              f"({row['dead_letters']} dead letters)")
        print(f"  wall {row['plan_seconds']} s = {row['orders_per_s']:,} orders/s (goal ≥ {GOAL_ORDERS_PER_S:,}); "
              f"CPU {row['plan_cpu_seconds']} s = {row['orders_per_cpu_s']:,} orders per CPU-second")
        print(f"  of which the planning process {row['parent_cpu_seconds']} s, its helper {row['helper_cpu_seconds']} s "
              f"(on two idle cores the wall time is about the larger of the two)")
        print(f"  peak RSS {row['peak_rss_mb']} MB (after staging {row['rss_after_stage_mb']} MB); "
              f"load average {', '.join(f'{x:.1f}' for x in row['load_average'])} (2 shared cores)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("LEDGERLINK_LOG_LEVEL", "WARNING")
    raise SystemExit(main())
