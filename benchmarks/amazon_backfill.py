"""Back-fill of an Amazon seller's order history through the all-orders report, under Amazon's usage plans.

    python benchmarks/amazon_backfill.py                       # 50,000 orders, time_scale 1000
    python benchmarks/amazon_backfill.py --orders 10000 --json
    python benchmarks/amazon_backfill.py --compare-api         # also read them through getOrders + getOrderItems

The sandbox runs in its own process (`ledgerlink sandbox amazon_sp`) and enforces the published usage plans,
scaled by `time_scale` (its report lifecycle too: 5 s in queue + 20 s in progress, Amazon seconds). "read +
stage" is `runtime.extract.extract` of the `all_orders_report` stream into a fresh DuckDB store; "normalise +
plan" turns the staged orders into QuickBooks Online sales receipts (no network). Calls are the sandbox's own
count per operation. The minimum is what the report path cannot do with less: per 30-day window one
createReport, one getReport and one getReportDocument (a window with no data ends CANCELLED: no document).
The plans' floor is the time the plans impose on those calls (throttle waits once bursts are spent, plus the
report's processing), in Amazon seconds and scaled; the getOrders + getOrderItems way is computed from the
same plans (1 + N/100 + N calls; getOrderItems at 0.5/s after a burst of 30). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _sandbox import start_sandbox  # noqa: E402

WINDOW_DAYS = 30
QUEUE_S, PROCESSING_S = 5.0, 20.0  # the sandbox's defaults (AmazonSandboxOptions.report_queue_s / _processing_s)


def plans() -> dict[str, tuple[float, int]]:
    from ledgerlink_amazon_sp.sandbox import SANDBOX_PLANS

    return dict(SANDBOX_PLANS)


def throttle_floor(calls: dict[str, int]) -> float:
    """Amazon seconds the plans impose on these calls: per operation (its own bucket), the calls beyond the
    burst at the plan's rate; operations run side by side, so the slowest decides."""
    table = plans()
    return max([max(0, n - table[op][1]) / table[op][0] for op, n in calls.items() if op in table] or [0.0])


def config_for(url: str, start: datetime, time_scale: float, **extra: Any) -> dict[str, Any]:
    return {"endpoint": url, "lwa_endpoint": f"{url}/auth/o2/token", "client_id": "bench", "client_secret": "bench",
            "refresh_token": "Atzr|bench", "marketplace_ids": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"],
            "start_date": start.isoformat(), "report_window_days": WINDOW_DAYS, "backfill": "reports",
            "report_poll_seconds": 30 / time_scale, "report_retry_cooldown_seconds": 60 / time_scale, **extra}


def sp_calls(url: str) -> dict[str, dict[str, int]]:
    return httpx.get(f"{url}/_sandbox/stats", timeout=10).json()["calls"]


def run(orders: int, time_scale: float, workdir: Path, compare_api: bool) -> dict[str, Any]:
    from ledgerlink.runtime.extract import extract
    from ledgerlink.runtime.normalise import PlanContextImpl, mapping_engine, normalise_and_plan, resolve_normalisers
    from ledgerlink.store import Store
    from ledgerlink_amazon_sp import AmazonSellingPartnerSource
    from ledgerlink_qbo.destination import QuickBooksOnlineDestination

    proc, url = start_sandbox("amazon_sp", "--set", f"orders={orders}", "--set", f"time_scale={time_scale}")
    try:
        # the seed spans the 60 days before now; start just before it so no order is missed
        start = datetime.now(timezone.utc) - timedelta(days=60, minutes=11)
        end = datetime.now(timezone.utc) - timedelta(minutes=2)
        windows = math.ceil((end - start) / timedelta(days=WINDOW_DAYS))
        source = AmazonSellingPartnerSource()
        store = Store(workdir / "backfill.duckdb")
        t0, cpu0 = time.perf_counter(), time.process_time()
        read = extract(source, config_for(url, start, time_scale), ["all_orders_report"], store, run_id=1)
        read_s, read_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        if read.get("read_error"):
            raise SystemExit(f"read failed: {read['read_error']}")
        staged = store.raw.count("all_orders_report")
        rows = store.db.fetchone("SELECT sum(json_array_length(data, '$.rows')) FROM "
                                 + store.raw.ensure("all_orders_report"))[0]
        calls = {op: sum(by.values()) for op, by in sp_calls(url).items()}
        throttled = {op: by.get("429", 0) for op, by in sp_calls(url).items() if by.get("429")}

        destination = QuickBooksOnlineDestination()
        ctx = PlanContextImpl(mapping_engine(destination, {}, "."), {})
        normalisers = [n for n in resolve_normalisers(source, {}) if n.stream == "all_orders_report"]
        t0 = time.perf_counter()
        planned = normalise_and_plan(normalisers, destination, ctx, store, run_id=1)
        norm_s = time.perf_counter() - t0
        dead = store.db.fetchone("SELECT count(*) FROM dead_letters")[0]
        store.close()

        api: dict[str, Any] = {}
        if compare_api:
            api = read_through_orders_api(url, start, time_scale, workdir)
    finally:
        proc.terminate()
        proc.wait(10)

    empty = max(0, windows - calls.get("getReportDocument", 0))
    minimum = 3 * (windows - empty) + 2 * empty
    lifecycle = (QUEUE_S + PROCESSING_S) * windows  # reports run one after another, each waits for its window
    report_floor = throttle_floor(calls) + lifecycle
    api_calls = {"getOrders": 1 + math.ceil(orders / 100) + windows - 1, "getOrderItems": orders}
    api_floor = throttle_floor(api_calls)
    used = sum(calls.values())
    return {
        "orders": orders, "time_scale": time_scale, "windows": windows, "orders_staged": staged, "rows": rows,
        "calls": calls, "calls_used": used, "calls_minimum": minimum, "throttled_429": throttled,
        "api_way_calls": sum(api_calls.values()), "api_way_formula": f"1 + N/100 + N = {1 + orders // 100 + orders}",
        "read_seconds": round(read_s, 2), "read_orders_per_s": round(staged / read_s) if read_s else None,
        "read_cpu_seconds": round(read_cpu, 2), "read_orders_per_cpu_s": round(staged / read_cpu) if read_cpu else None,
        "plan_floor_amazon_s": round(report_floor, 1), "plan_floor_scaled_s": round(report_floor / time_scale, 3),
        "api_way_floor_amazon_s": round(api_floor), "api_way_floor_hours": round(api_floor / 3600, 1),
        "api_way_floor_scaled_s": round(api_floor / time_scale, 1),
        "normalise_seconds": round(norm_s, 2), "normalised": planned.get("normalised", 0), "dead_letters": dead,
        **api,
    }


def read_through_orders_api(url: str, start: datetime, time_scale: float, workdir: Path) -> dict[str, Any]:
    """The same history through getOrders + getOrderItems (Orders v0), for the record."""
    from ledgerlink.runtime.extract import extract
    from ledgerlink.store import Store
    from ledgerlink_amazon_sp import AmazonSellingPartnerSource

    before = {op: sum(by.values()) for op, by in sp_calls(url).items()}
    store = Store(workdir / "api.duckdb")
    t0 = time.perf_counter()
    extract(AmazonSellingPartnerSource(), config_for(url, start, time_scale), ["orders", "order_items"], store,
            run_id=1)
    seconds = time.perf_counter() - t0
    staged = store.raw.count("orders")
    store.close()
    after = {op: sum(by.values()) for op, by in sp_calls(url).items()}
    used = {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)}
    return {"api_way_measured_calls": used, "api_way_measured_seconds": round(seconds, 1), "api_way_orders": staged}


def table(row: dict[str, Any]) -> str:
    n = row["orders"]
    calls = ", ".join(f"{op} {k}" for op, k in sorted(row["calls"].items()))
    out = [
        f"back-fill of {n:,} orders via GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL "
        f"(time_scale {row['time_scale']:g}, {row['windows']} windows of {WINDOW_DAYS} days)",
        f"  staged          {row['orders_staged']:,} orders, {row['rows']:,} item rows; normalised "
        f"{row['normalised']:,}, dead letters {row['dead_letters']}",
        f"  SP-API calls    {row['calls_used']} used ({calls}); minimum {row['calls_minimum']}; 429s "
        f"{sum(row['throttled_429'].values())}",
        f"  getOrders way   {row['api_way_calls']:,} calls ({row['api_way_formula']})",
        f"  wall time       read+stage {row['read_seconds']} s ({row['read_orders_per_s']:,} orders/s; "
        f"{row['read_orders_per_cpu_s']:,} orders per CPU-second of the reader), normalise+plan "
        f"{row['normalise_seconds']} s",
        f"  plans' floor    reports {row['plan_floor_amazon_s']} Amazon s = {row['plan_floor_scaled_s']} s scaled; "
        f"getOrders way {row['api_way_floor_amazon_s']:,} Amazon s ({row['api_way_floor_hours']} h) = "
        f"{row['api_way_floor_scaled_s']} s scaled",
    ]
    if "api_way_measured_calls" in row:
        out.append(f"  getOrders way measured: {row['api_way_measured_calls']} in {row['api_way_measured_seconds']} s "
                   f"({row['api_way_orders']:,} orders)")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--time-scale", type=float, default=1000.0, help="the sandbox's time_scale (plans and "
                                                                         "report processing run this much faster)")
    parser.add_argument("--compare-api", action="store_true", help="also read through getOrders + getOrderItems "
                                                                   "(slow: the plans' floor, scaled)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ledgerlink-backfill-") as tmp:
        row = run(args.orders, args.time_scale, Path(tmp), args.compare_api)
    print(json.dumps(row, indent=1) if args.json else table(row))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("LEDGERLINK_LOG_LEVEL", "WARNING")
    raise SystemExit(main())
