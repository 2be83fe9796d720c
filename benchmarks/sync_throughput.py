"""Read + stage and normalise + plan throughput, and peak memory, against the Amazon sandbox.

    python benchmarks/sync_throughput.py                      # 100,000 orders of 2 lines, Orders 2026-01-01
    python benchmarks/sync_throughput.py --orders 10000 --json
    python benchmarks/sync_throughput.py --v0 --orders 5000   # Orders v0 (one getOrderItems per order)
    python benchmarks/sync_throughput.py --sweep              # 10k / 50k / 100k, each in a fresh process

The sandbox runs in its own process (`ledgerlink sandbox amazon_sp`), so client and server each get a core.
"read + stage" is `runtime.extract.extract` into a fresh DuckDB store; "normalise + plan" is
`runtime.normalise.normalise_and_plan` with the real QuickBooks Online destination's `plan` (no network).
Peak RSS is this process's `ru_maxrss` (DuckDB's memory included). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator


sys.path.insert(0, str(Path(__file__).parent))
from _sandbox import start_sandbox as start_named_sandbox  # noqa: E402

TARGETS = {"read_orders_per_s": 10_000, "normalise_orders_per_s": 5_000, "peak_rss_mb": 500}


def start_sandbox(orders: int, lines: int, v0: bool) -> tuple[subprocess.Popen[bytes], str]:
    """The sandbox encodes every searchOrders order once, before the clock starts (`pre_encode`), so "read +
    stage" measures the reader, not the sandbox writing JSON."""
    from ledgerlink_amazon_sp.orders.streams import INCLUDED_DATA

    encode = [] if v0 else ["--set", f"pre_encode={','.join(INCLUDED_DATA)}"]
    return start_named_sandbox("amazon_sp", "--set", f"orders={orders}", "--set", f"lines_per_order={lines}",
                               "--set", "time_scale=100000", *encode, wait_s=600)


@contextlib.contextmanager
def _flush_thread_cpu() -> Iterator[list[float]]:
    """CPU seconds of the thread that stages and commits flushes (DuckDB's own worker threads not included)."""
    from ledgerlink.runtime import extract as extract_module

    spent = [0.0]
    real = extract_module._flush

    def timed(*args: Any) -> None:
        start = time.thread_time()
        try:
            real(*args)
        finally:
            spent[0] += time.thread_time() - start

    extract_module._flush = timed
    try:
        yield spent
    finally:
        extract_module._flush = real


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process (the sandbox) has used so far, from /proc; 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def run(orders: int, lines: int, v0: bool, workdir: Path, memory_limit: str | None = None, *,
        read_only: bool = False) -> dict[str, Any]:
    from ledgerlink.runtime.extract import extract
    from ledgerlink.runtime.normalise import PlanContextImpl, mapping_engine, normalise_and_plan, resolve_normalisers
    from ledgerlink.store import Store
    from ledgerlink_amazon_sp import AmazonSellingPartnerSource
    from ledgerlink_qbo.destination import QuickBooksOnlineDestination

    proc, url = start_sandbox(orders, lines, v0)
    try:
        config = {
            "endpoint": url, "lwa_endpoint": f"{url}/auth/o2/token", "client_id": "bench", "client_secret": "bench",
            "refresh_token": "Atzr|bench", "marketplace_ids": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"],
            "start_date": (datetime.now(timezone.utc) - timedelta(days=90)).isoformat(),
            "orders_api": "v0" if v0 else "2026-01-01",
        }
        streams = ["orders", "order_items"] if v0 else ["orders_2026"]
        order_stream = streams[0]
        source = AmazonSellingPartnerSource()
        # DuckDB's limit for the store (default: LEDGERLINK_DUCKDB_MEMORY or 128MB); the store keeps coming back to it
        # after a statement's headroom or a rollback, which a bare SET would not survive
        store = Store(workdir / "bench.duckdb", memory_limit=memory_limit)
        rss_start = rss_mb()

        t0, cpu0, main0, server0 = time.perf_counter(), time.process_time(), time.thread_time(), _cpu_of(proc.pid)
        with _flush_thread_cpu() as flush_cpu:
            read = extract(source, config, streams, store, run_id=1)
        read_s, read_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        main_cpu, server_cpu = time.thread_time() - main0, _cpu_of(proc.pid) - server0
        if read.get("read_error"):
            raise SystemExit(f"read failed: {read['read_error']}")
        staged = store.raw.count(order_stream)
        rss_after_read = rss_mb()

        destination = QuickBooksOnlineDestination()
        ctx = PlanContextImpl(mapping_engine(destination, {}, "."), {})
        normalisers = [n for n in resolve_normalisers(source, {}) if n.stream == order_stream]
        t0 = time.perf_counter()
        planned = {} if read_only else normalise_and_plan(normalisers, destination, ctx, store, run_id=1)
        norm_s = max(time.perf_counter() - t0, 1e-9)
        outbox = sum(sum(v.values()) for v in store.outbox.counts().values())
        limit_in_force = store.db.fetchone("SELECT current_setting('memory_limit')")[0]
        dead = store.db.fetchone("SELECT count(*) FROM dead_letters")[0]
        store.close()
    finally:
        proc.terminate()
        proc.wait(10)
    return {
        "api": "v0" if v0 else "2026-01-01", "orders": orders, "duckdb_memory_limit": limit_in_force,
        "lines_per_order": lines,
        "orders_staged": staged, "read_seconds": round(read_s, 2), "read_orders_per_s": round(staged / read_s),
        "read_cpu_seconds": round(read_cpu, 2), "read_orders_per_cpu_s": round(staged / read_cpu),
        # the reader's own thread (fetch, parse, RECORD messages, staging's Python) beside the flush thread's
        # DuckDB work, and the sandbox process's CPU over the same read: which side limits the rate
        "read_main_thread_cpu_seconds": round(main_cpu, 2),
        "read_orders_per_main_thread_cpu_s": round(staged / main_cpu) if main_cpu else None,
        "read_flush_thread_cpu_seconds": round(flush_cpu[0], 2),
        "sandbox_cpu_seconds": round(server_cpu, 2),
        "sandbox_orders_per_cpu_s": round(staged / server_cpu) if server_cpu else None,
        "normalise_seconds": round(norm_s, 2), "normalise_orders_per_s": None if read_only else round(staged / norm_s),
        "normalised": planned.get("normalised", 0), "outbox_rows": outbox, "dead_letters": dead,
        "rss_start_mb": round(rss_start), "rss_after_read_mb": round(rss_after_read), "peak_rss_mb": round(rss_mb()),
        "json_reader": "standard" if STANDARD_JSON else "msgspec", "load_average": os.getloadavg(),
    }


#: `--standard-json`: read bodies with the standard library (the reader before issue 18's msgspec), to compare
STANDARD_JSON = False


def use_standard_json() -> None:
    """Make `ledgerlink.json_loads` the standard library's exact-Decimal reading (before any plugin imports it)."""
    global STANDARD_JSON
    import ledgerlink
    from ledgerlink import jsonutil

    STANDARD_JSON = True
    jsonutil.loads = ledgerlink.json_loads = jsonutil.loads_standard


def table(rows: list[dict[str, Any]]) -> str:
    cols = [("api", "api"), ("orders", "orders"), ("read_orders_per_s", "read+stage o/s"), ("read_orders_per_cpu_s", "read o/CPU-s"),
            ("read_orders_per_main_thread_cpu_s", "reader thread o/CPU-s"), ("sandbox_orders_per_cpu_s", "sandbox o/CPU-s"),
            ("normalise_orders_per_s", "normalise+plan o/s"), ("peak_rss_mb", "peak RSS MB"),
            ("rss_after_read_mb", "RSS after read"), ("outbox_rows", "outbox rows"), ("dead_letters", "dead")]
    out = ["  ".join(f"{title:>18}" for _, title in cols)]
    for r in rows:
        out.append("  ".join(f"{'' if r.get(k) is None else r[k]:>18}" for k, _ in cols))
    targets = ", ".join(f"{k} {'≤' if k == 'peak_rss_mb' else '≥'} {v:,}" for k, v in TARGETS.items())
    out.append(f"targets: {targets}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=None, help="orders the sandbox serves (default 100,000; "
                                                                 "5,000 with --v0)")
    parser.add_argument("--lines", type=int, default=2, help="lines per order")
    parser.add_argument("--v0", action="store_true", help="read through Orders v0 instead of 2026-01-01")
    parser.add_argument("--sweep", action="store_true", help="10k, 50k and 100k orders, each in a fresh process")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--duckdb-memory-limit", default=None, help="e.g. 192MB (default: the store's, LEDGERLINK_DUCKDB_MEMORY or 128MB)")
    parser.add_argument("--read-only", action="store_true", help="read + stage only (no normalise + plan)")
    parser.add_argument("--standard-json", action="store_true",
                        help="read JSON with the standard library, as before msgspec (to compare)")
    args = parser.parse_args(argv)
    if args.standard_json:
        use_standard_json()

    if args.sweep:
        rows = []
        for n in (10_000, 50_000, 100_000):
            cmd = [sys.executable, __file__, "--orders", str(n), "--lines", str(args.lines), "--json"]
            if args.v0:
                cmd.append("--v0")
            if args.duckdb_memory_limit:
                cmd += ["--duckdb-memory-limit", args.duckdb_memory_limit]
            done = subprocess.run(cmd, check=True, capture_output=True, text=True)
            rows.extend(json.loads(done.stdout))
    else:
        orders = args.orders or (5_000 if args.v0 else 100_000)
        with tempfile.TemporaryDirectory(prefix="ledgerlink-bench-") as tmp:
            rows = [run(orders, args.lines, args.v0, Path(tmp), args.duckdb_memory_limit, read_only=args.read_only)]
    print(json.dumps(rows, indent=1) if args.json else table(rows))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("LEDGERLINK_LOG_LEVEL", "WARNING")
    raise SystemExit(main())
