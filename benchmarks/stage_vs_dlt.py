"""read → stage against the frameworks users would pick instead: the hand-rolled floor, dlt's Arrow path and
`ledgerlink sync`, side by side on the anchor server (../shared/bench/anchors/), interleaved, medians of three.

    python benchmarks/stage_vs_dlt.py                 # 100,000 orders, 3 rounds
    python benchmarks/stage_vs_dlt.py --orders 20000 --rounds 1 --json

Each reader runs in its own environment, so nothing of dlt ever becomes a dependency of ledgerlink:
- `benchmarks/.venv-dlt`: dlt[duckdb], orjson, httpx, pyarrow (the anchors' README); runs the floor and dlt.
- `benchmarks/.venv-ledgerlink`: this checkout (editable) and `benchmarks/anchor_plugin`, a third-party source
  plugin written against ledgerlink's public API; runs `ledgerlink sync --json` into a destination that plans
  nothing, and reports `read_total / timings.read_s` as the anchors' README asks.
Both are created on first use (`--setup-only` just creates them). Besides rows/s, each run's CPU seconds (user +
system of the reader's process, the server's excluded) are printed: the machine is shared, wall time is noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ANCHORS = REPO.parent / "shared" / "bench" / "anchors"
DLT_VENV = HERE / ".venv-dlt"
LL_VENV = HERE / ".venv-ledgerlink"
GOALS = {"dlt_arrow": 1.0, "floor": 0.7}  # ledgerlink's rows/s over theirs, same run


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def setup() -> None:
    """Create the two environments when missing (pip through its ordinary index)."""
    if not _python(DLT_VENV).exists():
        subprocess.run([sys.executable, "-m", "venv", str(DLT_VENV)], check=True)
        subprocess.run([str(_python(DLT_VENV)), "-m", "pip", "install", "-q", "dlt[duckdb]", "orjson", "httpx",
                        "pyarrow"], check=True)
    if not _python(LL_VENV).exists():
        subprocess.run([sys.executable, "-m", "venv", str(LL_VENV)], check=True)
        subprocess.run([str(_python(LL_VENV)), "-m", "pip", "install", "-q", "-e", str(REPO), "-e",
                        str(HERE / "anchor_plugin")], check=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(orders: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(ANCHORS / "server.py"), str(orders), str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    proc.stdout.readline()  # "serving N orders …" once every page is encoded
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the anchor server did not start")


def _timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[str, float]:
    """Run `cmd`; its stdout and the CPU seconds (user + system) it and its children used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=1800)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done.stdout, cpu


def run_floor(url: str, work: Path) -> dict[str, Any]:
    out, cpu = _timed([str(_python(DLT_VENV)), str(ANCHORS / "bench_baseline.py")], {**os.environ, "ANCHOR_URL": url},
                      work)
    return _parse(out, cpu)


def run_dlt(url: str, work: Path) -> dict[str, Any]:
    out, cpu = _timed([str(_python(DLT_VENV)), str(ANCHORS / "bench_dlt.py"), "arrow"],
                      {**os.environ, "ANCHOR_URL": url}, work)
    return _parse(out, cpu)


def _parse(out: str, cpu: float) -> dict[str, Any]:
    rows = int(re.search(r"rows=(\d+)", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"rps=(\d+)", out).group(1))  # type: ignore[union-attr]
    return {"rows": rows, "rps": rps, "seconds": rows / rps if rps else None, "cpu_s": round(cpu, 2)}


PIPELINE = """version: 1
name: anchor-bench
state: {state}
source:
  connector: anchor_bench
  config:
    base_url: {url}
destination:
  connector: nothing_bench
  config: {{}}
"""


def run_ledgerlink(url: str, work: Path, n: int, before: str | None = None) -> dict[str, Any]:
    """`ledgerlink sync --json`; with `before`, ledgerlink is imported from that directory instead (an older
    checkout's `ledgerlink` package on PYTHONPATH), to measure a change side by side."""
    state = work / f"ledgerlink-{n}.duckdb"
    pipeline = work / f"anchor-{n}.yaml"
    pipeline.write_text(PIPELINE.format(state=state, url=url))
    env = {**os.environ, "LEDGERLINK_LOAD_PLUGINS": "anchor_bench", "LEDGERLINK_LOG_LEVEL": "WARNING"}
    if before:
        env["PYTHONPATH"] = before
    out, cpu = _timed([str(_python(LL_VENV)), "-m", "ledgerlink", "sync", str(pipeline), "--json"], env, work)
    try:
        report = json.loads(out[out.index("{"):])
    except ValueError:
        raise SystemExit(f"ledgerlink sync printed no report:\n{out[:3000]}") from None
    if report["status"] != "succeeded":
        raise SystemExit(f"ledgerlink sync failed: {report['errors']}")
    rows = int(report["counts"]["read_total"])
    seconds = float(report["timings"]["read_s"])
    return {"rows": rows, "rps": rows / seconds, "seconds": seconds, "cpu_s": round(cpu, 2)}


READERS = {"floor": run_floor, "dlt_arrow": run_dlt, "ledgerlink": run_ledgerlink}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--setup-only", action="store_true", help="create the environments and stop")
    parser.add_argument("--only", choices=sorted(READERS), action="append", help="run only these readers")
    parser.add_argument("--before", metavar="DIR", help="also run ledgerlink imported from DIR (a directory holding "
                        "an older checkout's `ledgerlink` package, e.g. a symlink to its core/), as `before`")
    args = parser.parse_args(argv)
    setup()
    if args.setup_only:
        return 0
    readers = args.only or list(READERS)
    if args.before:
        readers.append("before")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in readers}
    proc, url = start_server(args.orders)
    try:
        with tempfile.TemporaryDirectory(prefix="ledgerlink-anchor-") as tmp:
            for n in range(args.rounds):
                order = readers[n % len(readers):] + readers[:n % len(readers)]  # who goes first rotates
                for name in order:
                    work = Path(tmp) / f"{name}-{n}"
                    work.mkdir()
                    if name == "before":
                        result = run_ledgerlink(url, work, n, before=args.before)
                    elif name == "ledgerlink":
                        result = run_ledgerlink(url, work, n)
                    else:
                        result = READERS[name](url, work)
                    if result["rows"] != args.orders:
                        raise SystemExit(f"{name} staged {result['rows']} rows, not {args.orders}")
                    runs[name].append(result)
                    print(f"round {n + 1} {name:>10}: {result['rps']:>9,.0f} rows/s  {result['cpu_s']:6.2f} CPU s",
                          file=sys.stderr, flush=True)
    finally:
        proc.terminate()
        proc.wait(10)
    summary = {name: {"median_rps": round(statistics.median(r["rps"] for r in rs)),
                      "median_cpu_s": round(statistics.median(r["cpu_s"] for r in rs), 2),
                      "rps": [round(r["rps"]) for r in rs]} for name, rs in runs.items()}
    if "ledgerlink" in summary:
        ours = summary["ledgerlink"]["median_rps"]
        if "before" in summary:
            summary["ledgerlink"]["vs_before"] = round(ours / summary["before"]["median_rps"], 2)
        for peer, goal in GOALS.items():
            if peer in summary:
                summary["ledgerlink"][f"vs_{peer}"] = round(ours / summary[peer]["median_rps"], 2)
                summary["ledgerlink"][f"goal_vs_{peer}"] = goal
    result = {"orders": args.orders, "rounds": args.rounds, "load_average": os.getloadavg(), "readers": summary}
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"read → stage, {args.orders:,} orders, medians of {args.rounds} interleaved rounds "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        for name, s in summary.items():
            extra = "".join(f"  {k[3:]} {v}×" + (f" (goal ≥ {s['goal_' + k]}×)" if "goal_" + k in s else "")
                            for k, v in s.items() if k.startswith("vs_"))
            print(f"  {name:>10}: {s['median_rps']:>8,} rows/s  {s['median_cpu_s']:6.2f} CPU s  "
                  f"runs {s['rps']}{extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
