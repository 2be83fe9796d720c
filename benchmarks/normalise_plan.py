"""Normalise + plan throughput: Amazon orders (Orders API 2026-01-01) into QuickBooks Online sales receipts.

    python benchmarks/normalise_plan.py                     # 20,000 orders, one pass
    python benchmarks/normalise_plan.py --orders 100000 --json
    python benchmarks/normalise_plan.py --profile out.html  # pyinstrument profile of the plan stage
    python benchmarks/normalise_plan.py --orders 10000 --compare  # columnar fast path vs reference, interleaved

The staged table is generated, not read: the Amazon sandbox's own seller book (`SellerBook.order_2026`, the
same orders `searchOrders` serves) is staged straight into a fresh DuckDB store with `RawTables.stage`, so
this measures normalise + plan alone (read + stage is `benchmarks/sync_throughput.py`'s). Then
`runtime.normalise.normalise_and_plan` runs with the real QuickBooks Online destination's `plan` (no network).
Reported: wall seconds, orders/s, CPU seconds of this process and its helper (`--workers 2`, the default on two
cores: see `ledgerlink.runtime.plan_workers`) and orders per CPU-second (the machine is shared: wall time is
noisy, CPU time less so), the rate on two idle cores (orders over the larger of the two processes' CPU seconds:
what the wall rate is when nothing else runs), and peak RSS. The columnar fast path (`ledgerlink.columnar`) is on
unless `--reference` (or `LEDGERLINK_COLUMNAR=0`); `--compare` runs both, each in a fresh process, alternately,
`--rounds` times, and prints the medians. Figures, not assertions.
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


def _imports() -> None:
    """The modules `plan` uses, imported before it is timed (a sync imports them when it loads the pipeline;
    importing the QuickBooks Online plugin is about 0.1 CPU-s, which earlier figures included)."""
    import ledgerlink_amazon_sp  # noqa: F401
    import ledgerlink_qbo.destination  # noqa: F401

    import ledgerlink.runtime.normalise  # noqa: F401


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
    _imports()
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
            "orders_per_cpu_s": round(staged / cpu) if cpu else None,
            "two_idle_cores_orders_per_s": round(staged / max(own, cpu - own)) if cpu else None,
            "columnar": os.environ.get("LEDGERLINK_COLUMNAR", "1") != "0", "normalised": counts.get("normalised", 0),
            "outbox_rows": outbox, "dead_letters": dead, "rss_after_stage_mb": round(rss_staged),
            "peak_rss_mb": round(rss_mb()), "goal_orders_per_s": GOAL_ORDERS_PER_S,
            "columnar_parent_share": os.environ.get("LEDGERLINK_COLUMNAR_PARENT_SHARE"),
            "load_average": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--profile", help="write a pyinstrument HTML profile of normalise + plan here")
    parser.add_argument("--workers", type=int, help="processes that plan (default: 2 on two cores or more)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--reference", action="store_true", help="the reference path only (no columnar fast path)")
    parser.add_argument("--compare", action="store_true", help="fast path and reference, alternately, fresh processes")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --compare")
    args = parser.parse_args(argv)
    if args.compare:
        return compare(args.orders, args.rounds, args.workers)
    if args.reference:
        os.environ["LEDGERLINK_COLUMNAR"] = "0"
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
              f"(on two idle cores the wall time is about the larger of the two): "
              f"{row['two_idle_cores_orders_per_s']:,} orders/s on two idle cores")
        print(f"  path: {'columnar fast path' if row['columnar'] else 'reference'}")
        print(f"  peak RSS {row['peak_rss_mb']} MB (after staging {row['rss_after_stage_mb']} MB); "
              f"load average {', '.join(f'{x:.1f}' for x in row['load_average'])} (2 shared cores)")
    return 0


def compare(orders: int, rounds: int, workers: int | None) -> int:
    """Fast path and reference alternately, each run in a fresh process; medians of each."""
    import statistics
    import subprocess

    runs: dict[str, list[dict[str, Any]]] = {"columnar": [], "reference": []}
    for n in range(rounds):
        for path in (("columnar", "reference") if n % 2 == 0 else ("reference", "columnar")):
            cmd = [sys.executable, __file__, "--orders", str(orders), "--json"]
            cmd += ["--reference"] if path == "reference" else []
            cmd += ["--workers", str(workers)] if workers else []
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=900).stdout
            runs[path].append(json.loads(out))
            row = runs[path][-1]
            print(f"round {n + 1} {path:9}: wall {row['plan_seconds']} s, CPU {row['plan_cpu_seconds']} s "
                  f"(parent {row['parent_cpu_seconds']}, helper {row['helper_cpu_seconds']}), "
                  f"{row['orders_per_cpu_s']:,} orders per CPU-s, {row['two_idle_cores_orders_per_s']:,} orders/s "
                  f"on two idle cores, peak RSS {row['peak_rss_mb']} MB, load {row['load_average'][0]:.1f}",
                  flush=True)
    print(f"medians of {rounds} rounds, {orders:,} orders (goal ≥ {GOAL_ORDERS_PER_S:,} orders/s on two cores):")
    for path, rows in runs.items():
        med = {k: statistics.median(r[k] for r in rows) for k in
               ("plan_seconds", "plan_cpu_seconds", "orders_per_s", "orders_per_cpu_s", "two_idle_cores_orders_per_s",
                "peak_rss_mb")}
        print(f"  {path:9}: {med['orders_per_s']:,.0f} orders/s wall ({med['plan_seconds']} s), "
              f"{med['orders_per_cpu_s']:,.0f} orders per CPU-second, {med['two_idle_cores_orders_per_s']:,.0f} "
              f"orders/s on two idle cores, peak RSS {med['peak_rss_mb']:.0f} MB")
    outboxes = {(r["outbox_rows"], r["dead_letters"]) for rows in runs.values() for r in rows}
    print(f"  outbox rows, dead letters: {sorted(outboxes)} (the same on both paths)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("LEDGERLINK_LOG_LEVEL", "WARNING")
    raise SystemExit(main())
