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
parent, so it shares the parent's pages until either writes them) is `helper_peak_rss_mb`. Since a forked
pair's RSS double-counts what they share, the runner samples the measured process and its helper from the
outside every half second (`/proc/PID/smaps_rollup`): each one's peak RSS, PSS (shared pages split between
them) and USS (its own pages), and the pair's peak PSS and USS sums (the memory the run really takes). The
measured process itself records its RSS after every batch: `rss_by_tenth` (after each tenth of the run) and
`rss_growth_mb` (last tenth minus first) show whether it grows with N; `duckdb_mb` is DuckDB's own count
(`duckdb_memory()`) at the end. Figures, not assertions.

    python benchmarks/memory_flat.py --sizes 10000 100000     # the quiet-machine check (under 3 minutes)

A million orders: `--sql-copies --staged-dir DIR` stages each size once, in a process of its own with DuckDB's
limit raised (`--stage-memory`, 2GB: a million orders in about three minutes instead of half an hour), into
DIR/staged-N-sql.duckdb, kept for the next run; each measured run plans a copy of that file, opened at the
default memory settings, so its figures are planning's alone (a `sync` stages and plans in one process: what
staging leaves in DuckDB's cache is evicted before the helper forks, see docs/reference/performance.md). The
measured process prints its progress (records planned, RSS, CPU-s) every 20 batches and the runner its sampled
peaks every minute, on stderr: a run stopped early still says how far it got and how high it went.

    python benchmarks/memory_flat.py --sizes 10000 100000 1000000 --sql-copies --staged-dir /tmp/staged --json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
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


def proc_memory_kb(pid: int) -> dict[str, int] | None:
    """RSS, PSS and USS (private clean + dirty) of a process in KB, from smaps_rollup; None if it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            text = f.read()
    except OSError:
        return None
    fields = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
            fields[parts[0][:-1]] = int(parts[1])
    return {"rss": fields.get("Rss", 0), "pss": fields.get("Pss", 0),
            "uss": fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)}


def children_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


class PairSampler:
    """Samples a process and its children (the plan helper) from the outside, keeping peaks in MB."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak: dict[str, float] = {}

    def sample(self) -> None:
        own = proc_memory_kb(self.pid)
        if own is None:
            return
        helpers = [m for m in map(proc_memory_kb, children_of(self.pid)) if m is not None]
        helper = {k: sum(m[k] for m in helpers) for k in ("rss", "pss", "uss")}
        now = {"parent_rss": own["rss"], "parent_pss": own["pss"], "parent_uss": own["uss"],
               "helper_rss": helper["rss"], "helper_pss": helper["pss"], "helper_uss": helper["uss"],
               "pair_pss": own["pss"] + helper["pss"], "pair_uss": own["uss"] + helper["uss"]}
        for k, v in now.items():
            self.peak[k] = max(self.peak.get(k, 0), round(v / 1024, 1))

    def figures(self) -> dict[str, float]:
        return {f"sampled_peak_{k}_mb": round(v) for k, v in self.peak.items()}


def run_sampled(cmd: list[str], interval: float = 0.5, report_every: float = 60.0
                ) -> tuple[subprocess.CompletedProcess[str], dict[str, float]]:
    """Run `cmd`, sampling its memory (and its children's) every `interval` seconds; the peaks so far go to
    stderr every `report_every` seconds (a long run stopped early still says how high it went)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        sampler = PairSampler(proc.pid)
        reported = time.perf_counter()
        while proc.poll() is None:
            sampler.sample()
            if time.perf_counter() - reported > report_every:
                reported = time.perf_counter()
                print(json.dumps({"at": datetime.now(timezone.utc).strftime("%H:%M:%S"), "load": os.getloadavg()[0],
                                  **sampler.figures()}), file=sys.stderr, flush=True)
            time.sleep(interval)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(cmd, proc.returncode, out.read(), err.read()), sampler.figures()


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


def stage_copies_in_sql(store: Any, orders: int, step: int = 2_000) -> None:
    """The same staged table as `stage`, its copies made by DuckDB (`--sql-copies`): DISTINCT orders staged
    through `RawTables.stage`, then each copy of them inserted by one SQL statement with the new order id in the
    key and the record. Staging a million orders row by row takes most of an hour on a loaded machine; this
    measures what planning a million takes without it. Within a copy the staging order may differ."""
    from ledgerlink.store.raw import table_name

    stage(store, min(orders, DISTINCT))
    name = table_name(STREAM)
    low, high = store.db.fetchone(f"SELECT min(seq), max(seq) FROM {name}")
    # `step`: rows a statement: ten thousand records at once would not fit DuckDB's default limit
    for copy in range(1, -(-orders // DISTINCT)):
        n = min(DISTINCT, orders - copy * DISTINCT)
        new = f"'{copy + 900:04d}' || substr(pk, 4)"
        for start in range(low, low + n, step):
            store.db.execute(
                f"INSERT INTO {name} SELECT {new}, cursor, replace(data, '\"' || pk || '\"', '\"' || {new} || '\"'), "
                f"join_key, nextval('ll_seq'), run_id, staged_at FROM {name} WHERE seq >= ? AND seq < ? AND seq <= ?",
                [start, min(start + step, low + n), high])


def plan(store: Any, progress: Any, should_stop: Any) -> dict[str, Any]:
    """Amazon 2026 orders into QuickBooks Online, as `normalise_plan.plan`, with a progress callback."""
    from ledgerlink_amazon_sp import AmazonSellingPartnerSource
    from ledgerlink_qbo.destination import QuickBooksOnlineDestination

    from ledgerlink.runtime.normalise import PlanContextImpl, mapping_engine, normalise_and_plan, resolve_normalisers

    source, destination = AmazonSellingPartnerSource(), QuickBooksOnlineDestination()
    ctx = PlanContextImpl(mapping_engine(destination, {}, "."), {}, store=store, destination=destination.name)
    normalisers = [n for n in resolve_normalisers(source, {}) if n.stream == STREAM]
    return normalise_and_plan(normalisers, destination, ctx, store, run_id=1, progress=progress,
                              should_stop=should_stop)


def stage_to_file(orders: int, path: Path, *, sql_copies: bool, memory_limit: str) -> dict[str, Any]:
    """Stage `orders` into a state file of its own (`--staged-dir`), with DuckDB's limit raised to
    `memory_limit`: the staging is not what is measured, and a file staged once is planned many times (each run
    plans a copy of it, opened at the default memory settings)."""
    from ledgerlink.store import Store

    part = path.with_name(path.name + ".part")
    part.unlink(missing_ok=True)
    c0, t0 = time.process_time(), time.perf_counter()
    store = Store(part, memory_limit=memory_limit)
    if sql_copies:
        stage_copies_in_sql(store, orders, step=DISTINCT)
    else:
        stage(store, orders, chunk=DISTINCT)
    store.db.execute("CHECKPOINT")
    store.close()
    part.rename(path)
    return {"orders": orders, "staged_file": str(path), "stage_seconds": round(time.perf_counter() - t0, 1),
            "stage_cpu_seconds": round(time.process_time() - c0, 1), "file_mb": round(path.stat().st_size / 2**20),
            "load_average": os.getloadavg()}


def staged_file(orders: int, staged_dir: Path, *, sql_copies: bool, memory_limit: str) -> Path:
    """The state file with `orders` staged in `staged_dir`, staged in a child process when it is not there."""
    path = staged_dir / f"staged-{orders}{'-sql' if sql_copies else ''}.duckdb"
    if not path.exists():
        staged_dir.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([sys.executable, __file__, "--stage-only", str(orders), "--to", str(path),
                               "--stage-memory", memory_limit, *(["--sql-copies"] * sql_copies)],
                              capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"staging {orders} orders failed (exit {done.returncode}): {done.stderr[-2000:]}")
        print(done.stdout.strip(), file=sys.stderr, flush=True)
    return path


def one(orders: int, workdir: Path, *, sql_copies: bool = False, plan_minutes: float | None = None,
        staged: Path | None = None) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).parent))
    from normalise_plan import cpu_s

    from ledgerlink.store import Store

    t0 = time.perf_counter()
    if staged is not None:  # a copy of a file staged before: this process only plans
        shutil.copyfile(staged, workdir / "memory.duckdb")
        store = Store(workdir / "memory.duckdb")
    else:
        store = Store(workdir / "memory.duckdb")
        (stage_copies_in_sql if sql_copies else stage)(store, orders)
    stage_s = time.perf_counter() - t0
    rss_staged, now_staged = rss_mb(), current_rss_mb()
    trace: list[float] = []
    seen = [0]

    def progress(stage_name: str, n: int) -> None:  # after each committed batch of `n` staged records
        trace.append(current_rss_mb())
        seen[0] += n
        if len(trace) % 20 == 0:  # how far a long run got, where the runner's log shows it
            print(json.dumps({"at": datetime.now(timezone.utc).strftime("%H:%M:%S"), "batches": len(trace),
                              "records": seen[0], "rss_mb": round(trace[-1]), "cpu_s": round(cpu_s() - c0, 1)}),
                  file=sys.stderr, flush=True)

    c0, t0 = cpu_s(), time.perf_counter()
    until = None if plan_minutes is None else t0 + 60 * plan_minutes
    counts = plan(store, progress=progress, should_stop=lambda: until is not None and time.perf_counter() > until)
    wall, cpu = time.perf_counter() - t0, cpu_s() - c0
    outbox = store.db.fetchone("SELECT count(*) FROM outbox")[0]
    limit = store.db.fetchone("SELECT current_setting('memory_limit')")[0]
    duckdb_mb = store.db.fetchone("SELECT sum(memory_usage_bytes) FROM duckdb_memory()")[0] / 2**20
    duckdb_tags = {tag: round(b / 2**20, 1) for tag, b in store.db.fetchall(
        "SELECT tag, memory_usage_bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0")}
    store.close()
    tenths = [trace[min(len(trace) - 1, (len(trace) * (i + 1)) // 10 - 1)] for i in range(10)] if trace else []
    return {"orders": orders, "normalised": counts.get("normalised", 0), "outbox_rows": outbox,
            "stopped_at_time_budget": bool(counts.get("stopped")), "sql_copies": sql_copies,
            "staged_before": staged is not None,
            "stage_seconds": round(stage_s, 1), "plan_seconds": round(wall, 1), "plan_cpu_seconds": round(cpu, 1),
            "orders_per_s": round(counts.get("normalised", 0) / wall),
            "orders_per_cpu_s": round(counts.get("normalised", 0) / cpu),
            "peak_rss_after_stage_mb": round(rss_staged), "rss_after_stage_mb": round(now_staged),
            "peak_rss_mb": round(rss_mb()), "rss_end_mb": round(current_rss_mb()), "duckdb_memory_limit": limit,
            "helper_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
            "rss_by_tenth": [round(x) for x in tenths], "rss_growth_mb": round(tenths[-1] - tenths[0]) if tenths else 0,
            "batches": len(trace), "duckdb_mb": round(duckdb_mb), "duckdb_mb_by_tag": duckdb_tags,
            "load_average": os.getloadavg(),
            "goal_mb": GOAL_MB}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--one", type=int, help="run one size in this process")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sql-copies", action="store_true",
                        help="stage the copies beyond the first 10,000 orders with SQL (fast; see stage_copies_in_sql)")
    parser.add_argument("--plan-minutes", type=float, help="stop planning after this many minutes (a partial figure)")
    parser.add_argument("--staged-dir", type=Path,
                        help="stage each size once into a state file kept in this folder (made when missing, in a "
                             "process of its own, not measured); each run plans a copy of it")
    parser.add_argument("--stage-memory", default="2GB", help="DuckDB's limit while staging into --staged-dir")
    parser.add_argument("--stage-only", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--to", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--staged", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage_only:
        print(json.dumps(stage_to_file(args.stage_only, args.to, sql_copies=args.sql_copies,
                                       memory_limit=args.stage_memory)))
        return 0
    if args.one:
        with tempfile.TemporaryDirectory(prefix="ledgerlink-memory-") as tmp:
            rows = [one(args.one, Path(tmp), sql_copies=args.sql_copies, plan_minutes=args.plan_minutes,
                        staged=args.staged)]
    else:
        rows = []
        for n in args.sizes:
            extra = ["--sql-copies"] * args.sql_copies + (["--plan-minutes", str(args.plan_minutes)]
                                                          if args.plan_minutes else [])
            if args.staged_dir:
                extra += ["--staged", str(staged_file(n, args.staged_dir, sql_copies=args.sql_copies,
                                                      memory_limit=args.stage_memory))]
            done, sampled = run_sampled([sys.executable, __file__, "--one", str(n), "--json", *extra])
            if done.returncode:
                rows.append({"orders": n, "crashed": done.returncode, "stderr": done.stderr[-2000:], **sampled})
            else:
                rows.extend({**r, **sampled} for r in json.loads(done.stdout))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'orders':>10} {'peak RSS':>9} {'helper':>7} {'pair PSS':>9} {'pair USS':>9} {'growth':>7} "
          f"{'stage s':>8} {'plan s':>7} {'CPU s':>7} {'per CPU-s':>10} {'outbox':>9}   (MB; load)")
    for r in rows:
        if "crashed" in r:
            print(f"{r['orders']:>10,} crashed (exit {r['crashed']}): {r['stderr'][-300:]}")
            continue
        print(f"{r['orders']:>10,} {r['peak_rss_mb']:>9} {r['helper_peak_rss_mb']:>7} "
              f"{r.get('sampled_peak_pair_pss_mb', '-'):>9} {r.get('sampled_peak_pair_uss_mb', '-'):>9} "
              f"{r['rss_growth_mb']:>7} {r['stage_seconds']:>8} {r['plan_seconds']:>7} {r['plan_cpu_seconds']:>7} "
              f"{r['orders_per_cpu_s']:>10,} {r['outbox_rows']:>9,}   "
              f"({', '.join(f'{x:.1f}' for x in r['load_average'])})")
    print(f"goal: peak RSS ≤ {GOAL_MB} MB and flat in N (DuckDB memory limit {rows[-1].get('duckdb_memory_limit')}); "
          "growth = RSS after the last tenth of planning minus after the first")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("LEDGERLINK_LOG_LEVEL", "WARNING")
    raise SystemExit(main())
