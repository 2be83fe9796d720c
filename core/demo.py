"""`ledgerlink demo`: the built-in sandboxes, the Amazon → QuickBooks Online orders pipeline run twice, then the
settlements pipeline into the same company, and `reconcile` on both."""

from __future__ import annotations

import contextlib
import os
import shutil
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from . import jsonutil
from .errors import ConfigError, LedgerlinkError
from .pipeline import load_pipeline
from .plugins import host
from .runtime import sync
from .sandbox import running

__all__ = ["run_demo", "print_demo", "DEMO_PIPELINE", "SETTLEMENTS_PIPELINE"]

DEMO_PIPELINE = "amazon-to-qbo.yaml"
SETTLEMENTS_PIPELINE = "amazon-settlements-to-qbo.yaml"


def _sandbox_stats(url: str) -> dict[str, Any] | None:
    try:
        resp = httpx.get(f"{url}/_sandbox/stats", timeout=5)
        return resp.json() if resp.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


def _copy_pipeline(name: str, workdir: Path) -> Path:
    path = workdir / name
    path.write_text(resources.files("ledgerlink").joinpath("data", name).read_text())
    return path


def _settlement_summary(state: Path, run: Any) -> dict[str, Any]:
    """What the settlements step did: settlements read, journals posted, on hold, and the bank total (the
    deposit lines of every posted journal, which equal the settlements' totals)."""
    from .store import Store

    store = Store(state)
    try:
        rows = store.db.fetchall("SELECT o.data FROM outbox o WHERE o.stream = 'JournalEntry' AND o.status = 'done'")
        held = store.db.fetchall("SELECT count(*) FROM dead_letters WHERE status = 'open' AND stream = 'settlements'")
    finally:
        store.close()
    bank = Decimal(0)
    for (data,) in rows:
        for line in jsonutil.loads(data).get("Line") or []:
            if str(line.get("Description") or "").startswith("Deposit - settlement"):
                sign = 1 if line["JournalEntryLineDetail"]["PostingType"] == "Debit" else -1
                bank += sign * Decimal(str(line["Amount"]))
    counts = run.counts
    return {"settlements_read": (counts.get("read") or {}).get("settlements", 0),
            "journals_posted": (counts.get("created") or {}).get("JournalEntry", 0),
            "on_hold": held[0][0] if held else 0, "bank_total": str(bank)}


def _hand_over(source: Path, target: Path) -> None:
    """Both pipelines use one QuickBooks connection, and Intuit rotates its refresh token on use: the pipeline
    that runs next gets the current one from the pipeline that ran last."""
    from .store import Store

    src = Store(source)
    try:
        names = [n for (n,) in src.db.fetchall("SELECT name FROM credentials WHERE name LIKE 'qbo:%'")]
        values = {n: src.credentials.load(n) for n in names}
    finally:
        src.close()
    dst = Store(target)
    try:
        for name, value in values.items():
            if value is not None:
                dst.credentials.save(name, value)
    finally:
        dst.close()


def _reconcile(pipeline: Any, plugins: Any) -> dict[str, Any]:
    from .reconcile import open_context, reconcile

    try:
        ctx = open_context(pipeline, plugin_host=plugins)
        try:
            return reconcile(ctx).to_dict()
        finally:
            ctx.store.close()
    except LedgerlinkError as exc:
        return {"pipeline": pipeline.name, "ok": False, "checks": [], "skipped": {},
                "findings": [{"check": "reconcile", "subject": pipeline.name, "message": str(exc)}]}


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
    pipeline_file = _copy_pipeline(DEMO_PIPELINE, workdir)
    settlements_file = _copy_pipeline(SETTLEMENTS_PIPELINE, workdir)
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
        # the payouts of the same seller into the same company, then both pipelines reconciled
        settlements_state = (workdir / "amazon-settlements-to-qbo.duckdb").resolve()
        settlements = load_pipeline(settlements_file, env={**env, "LEDGERLINK_STATE": str(settlements_state)})
        orders_state = pipeline.state_path
        _hand_over(orders_state, settlements_state)
        paid = sync(settlements, plugin_host=plugins)
        settlement_step = {"run": paid.to_dict(), "state": str(settlements_state), "pipeline": str(settlements_file),
                           "currency": (settlements.destination.options.get("settlements") or {}).get(
                               "home_currency") or "", **_settlement_summary(settlements_state, paid)}
        _hand_over(settlements_state, orders_state)
        reconciled = [_reconcile(pipeline, plugins)]
        _hand_over(orders_state, settlements_state)
        reconciled.append(_reconcile(settlements, plugins))
    ok = first.status == "succeeded" and second.status == "succeeded" and paid.status == "succeeded"
    ties = all(r["ok"] for r in reconciled)
    created_again = sum((second.counts.get("created") or {}).values())
    return {"status": "succeeded" if ok and ties and created_again == 0 else "failed",
            "state": str(pipeline.state_path), "pipeline": str(pipeline_file),
            "sandboxes": {"amazon_sp": amazon_url, "qbo": qbo_url},
            "runs": [first.to_dict(), second.to_dict()],
            "quickbooks_objects": {"after_first_run": after_first, "after_second_run": after_second},
            "second_run_created": created_again,
            "settlements": settlement_step, "reconcile": reconciled}


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
    _print_settlements(result, console)
    console.print(f"state (DuckDB): {result['state']}")
    console.print(f"pipeline file:  {result['pipeline']}")
    if result.get("settlements"):
        console.print(f"settlements:    {result['settlements']['pipeline']} (state {result['settlements']['state']})")
    console.print(f"status: {result['status']}")


def _print_settlements(result: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    step = result.get("settlements")
    if step:
        table = Table(title="Amazon settlements → QuickBooks Online journal entries")
        table.add_column("")
        table.add_column("", justify="right")
        table.add_row("settlements read", str(step["settlements_read"]))
        table.add_row("journal entries posted", str(step["journals_posted"]))
        table.add_row("settlements on hold", str(step["on_hold"]))
        table.add_row(f"bank total {step['currency']}".strip(), step["bank_total"])
        table.add_row("seconds", f"{sum(step['run']['timings'].values()):.2f}")
        console.print(table)
    for report in result.get("reconcile") or []:
        if report["ok"]:
            console.print(f"reconcile {report['pipeline']}: [green]everything ties[/green]")
            continue
        console.print(f"reconcile {report['pipeline']}: [red]{len(report['findings'])} finding(s)[/red]")
        for f in report["findings"][:10]:
            console.print(f"  {f['check']}: {f['subject']}: {f['message']}")
