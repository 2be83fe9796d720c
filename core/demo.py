"""`ledgerlink demo`: the built-in sandboxes, the Amazon → QuickBooks Online pipeline, run twice."""

from __future__ import annotations

import contextlib
import os
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from .errors import ConfigError
from .pipeline import load_pipeline
from .plugins import host
from .runtime import sync
from .sandbox import running

__all__ = ["run_demo", "print_demo", "DEMO_PIPELINE"]

DEMO_PIPELINE = "amazon-to-qbo.yaml"


def _sandbox_stats(url: str) -> dict[str, Any] | None:
    try:
        resp = httpx.get(f"{url}/_sandbox/stats", timeout=5)
        return resp.json() if resp.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


def run_demo(orders: int = 300, workdir: Path = Path(".ledgerlink/demo")) -> dict[str, Any]:
    plugins = host()
    sandboxes = plugins.sandboxes()
    missing = [n for n in ("amazon_sp", "qbo") if n not in sandboxes]
    if missing:
        raise ConfigError(f"the demo needs the sandboxes {', '.join(missing)}",
                          hint="they ship with ledgerlink; check `ledgerlink plugins` and LEDGERLINK_*_PLUGINS")
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    pipeline_file = workdir / DEMO_PIPELINE
    pipeline_file.write_text(resources.files("ledgerlink").joinpath("data", DEMO_PIPELINE).read_text())
    amazon = sandboxes["amazon_sp"](orders=orders, time_scale=1000)
    qbo = sandboxes["qbo"](time_scale=1000)
    with contextlib.ExitStack() as stack:
        amazon_url = stack.enter_context(running(amazon))
        qbo_url = stack.enter_context(running(qbo))
        env = {**os.environ,
               "LEDGERLINK_STATE": str((workdir / "amazon-to-qbo.duckdb").resolve()),
               "AMAZON_SP_ENDPOINT": amazon_url, "AMAZON_LWA_ENDPOINT": f"{amazon_url}/auth/o2/token",
               "QBO_BASE_URL": qbo_url, "QBO_TOKEN_URL": f"{qbo_url}/oauth2/v1/tokens/bearer",
               # the sandboxes run 1000× faster than the vendors' rate limits: so may the clients
               "QBO_REQUESTS_PER_MINUTE": "500000", "QBO_BATCH_REQUESTS_PER_MINUTE": "40000"}
        pipeline = load_pipeline(pipeline_file, env=env)
        first = sync(pipeline, plugin_host=plugins)
        after_first = _sandbox_stats(qbo_url)
        second = sync(pipeline, plugin_host=plugins)
        after_second = _sandbox_stats(qbo_url)
    ok = first.status == "succeeded" and second.status == "succeeded"
    created_again = sum((second.counts.get("created") or {}).values())
    return {"status": "succeeded" if ok and created_again == 0 else "failed",
            "state": str(pipeline.state_path), "pipeline": str(pipeline_file),
            "sandboxes": {"amazon_sp": amazon_url, "qbo": qbo_url},
            "runs": [first.to_dict(), second.to_dict()],
            "quickbooks_objects": {"after_first_run": after_first, "after_second_run": after_second},
            "second_run_created": created_again}


def print_demo(result: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    first, second = (r["counts"] for r in result["runs"])
    table = Table(title="ledgerlink demo: Amazon orders → QuickBooks Online (sandboxes)")
    table.add_column("")
    table.add_column("first sync", justify="right")
    table.add_column("second sync", justify="right")

    def row(label: str, fn: Any) -> None:
        table.add_row(label, str(fn(first)), str(fn(second)))

    row("orders read", lambda c: (c.get("read") or {}).get("orders", 0))
    row("order items read", lambda c: (c.get("read") or {}).get("order_items", 0))
    row("canonical orders", lambda c: (c.get("objects") or {}).get("order", 0))
    row("not in a posting status", lambda c: c.get("not_posted", 0))
    for stream in ("SalesReceipt", "Customer", "Item"):
        row(f"{stream}s created", lambda c, s=stream: (c.get("created") or {}).get(s, 0))
    row("documents already there", lambda c: sum((c.get("already_there") or {}).values()))
    row("references cached", lambda c: c.get("references", 0))
    row("dead letters open", lambda c: c.get("dead_letters_open", 0))
    t1, t2 = (sum(r["timings"].values()) for r in result["runs"])
    table.add_row("seconds", f"{t1:.2f}", f"{t2:.2f}")
    console.print(table)
    qbo = (result.get("quickbooks_objects") or {}).get("after_second_run")
    if qbo:
        held = {k: v for k, v in (qbo.get("objects") or {}).items() if k in ("Customer", "Item", "SalesReceipt")}
        console.print("QuickBooks sandbox now holds: " + ", ".join(f"{n} {k}s" for k, n in held.items()))
    verdict = "[green]nothing[/green]" if result["second_run_created"] == 0 else f"[red]{result['second_run_created']}[/red]"
    console.print(f"second sync created {verdict} — posting is idempotent")
    console.print(f"state (DuckDB): {result['state']}")
    console.print(f"pipeline file:  {result['pipeline']}")
    console.print(f"status: {result['status']}")
