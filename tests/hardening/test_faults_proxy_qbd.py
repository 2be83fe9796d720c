"""Amazon → QuickBooks Desktop through a fault proxy between the Web Connector and the served pipeline.

The simulated Web Connector polls `ledgerlink serve`'s endpoint through a `FaultProxy` that, seeded, resets
SOAP calls, answers 429s and 5xx pages in the bridge's stead, replaces the bridge's answer after it acted on a
call (a qbXML message handed out but never delivered to QuickBooks; QuickBooks' answers settled but the Web
Connector told it failed), and delivers answers after the Web Connector gave up. A SOAP call that fails ends
the Web Connector's session, as the real one does; the next poll starts a new one. After the faulty sessions,
the faults stop, dead letters are retried, and the queue drains: every planned receipt is in the company file
once, and nothing is left waiting or dead.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from ledgerlink.pipeline import load_pipeline
from ledgerlink.plugins import host
from ledgerlink.sandbox import running, running_app
from ledgerlink.serve import PipelineService, build_app
from fault_proxy import FAULT_KINDS, FaultProxy, running_proxy

TRIALS = (4, 9)
ORDERS = 10
FAULTY_SESSIONS = 20
WEB_CONNECTOR_TIMEOUT_S = 1.5
RATES = {"refused": 0.04, "throttled": 0.03, "error_before": 0.04, "error_after": 0.06, "late": 0.02}


def _wait(predicate: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _poll(simulator: Any, service: PipelineService, url: str) -> str:
    """One Web Connector session after the pipeline is idle: its result, or "fault" if a SOAP call failed."""
    assert _wait(lambda: service.idle)
    try:
        return str(simulator.poll(url)["result"])
    except (httpx.HTTPError, RuntimeError, ValueError) as exc:  # a reset, a 5xx, a timeout, a garbled answer
        return f"fault: {type(exc).__name__}"


def _drain(simulator: Any, service: PipelineService, url: str, max_sessions: int = 40) -> None:
    quiet = 0
    for _ in range(max_sessions):
        if _poll(simulator, service, url) == "none":
            quiet += 1
            if quiet >= 2 and service.idle:
                return
        else:
            quiet = 0
    raise AssertionError("the Web Connector queue did not drain")


def _trial(tmp_path: Path, seed: int) -> dict[str, Any]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    sandboxes = host().sandboxes()
    with running(sandboxes["amazon_sp"](orders=ORDERS, time_scale=1000)) as amazon:
        pipeline_file = tmp_path / "amazon-to-qbd.yaml"
        pipeline_file.write_text(resources.files("ledgerlink").joinpath("data", "amazon-to-qbd.yaml").read_text())
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), "AMAZON_SP_ENDPOINT": amazon,
               "AMAZON_LWA_ENDPOINT": f"{amazon}/auth/o2/token"}
        service = PipelineService(load_pipeline(pipeline_file, env=env), host(), every=None, debounce=0.05)
        service.start()
        simulator = sandboxes["qb_desktop"](poll_every_s=0)
        simulator.client.http = httpx.Client(timeout=WEB_CONNECTOR_TIMEOUT_S)
        try:
            with running_app(build_app(service)) as url:
                proxy = FaultProxy(url, seed=seed, rates=RATES, late_s=WEB_CONNECTOR_TIMEOUT_S + 0.3,
                                   applies=lambda method, path: path.startswith("/qbwc"))
                with running_proxy(proxy) as front:
                    qbwc = f"{front}/qbwc/"
                    service.trigger("test")
                    outcomes = [_poll(simulator, service, qbwc) for _ in range(FAULTY_SESSIONS)]
                    proxy.enabled = False
                    _drain(simulator, service, qbwc)
                    store = service.store
                    letters = store.dead_letters.list("open")
                    for letter in letters:
                        store.requeue(letter)
                    if letters:
                        service.trigger("dlq retry")
                        _drain(simulator, service, qbwc)
                    planned = {k for (k,) in store.db.fetchall(
                        "SELECT key FROM outbox WHERE stream = 'SalesReceipt'")}
                    done = {k for (k,) in store.db.fetchall(
                        "SELECT key FROM outbox WHERE stream = 'SalesReceipt' AND status = 'done'")}
                    receipts = simulator.company.txns.get("SalesReceipt", [])
                    in_books = [str(r.get("Memo") or "").split("\n", 1)[0].removeprefix("ledgerlink ")
                                for r in receipts]
                    return {"seed": seed, "faults": dict(proxy.injected), "outcomes": outcomes,
                            "planned": planned, "done": done, "in_books": in_books,
                            "dead_letters_before_retry": len(letters),
                            "dead_letters_after": store.dead_letters.count_open(),
                            "waiting": store.awaiting("qb_desktop").count(),
                            "pending": store.db.fetchone("SELECT count(*) FROM outbox WHERE status = 'pending'")[0]}
        finally:
            service.stop()
            simulator.client.http.close()


@pytest.mark.slow
def test_orders_reach_quickbooks_desktop_exactly_once_through_web_connector_faults(tmp_path):
    trials = [_trial(tmp_path / f"trial-{seed}", seed) for seed in TRIALS]
    summary: dict[str, Any] = {"trials": len(trials), "faults": {k: 0 for k in FAULT_KINDS}, "lost": 0,
                               "duplicated": 0, "stranded_dead_letters": 0, "left_waiting_or_pending": 0,
                               "sessions_ended_by_a_fault": 0, "session_failures": {}}
    for t in trials:
        for kind, n in t["faults"].items():
            summary["faults"][kind] += n
        summary["lost"] += len(t["planned"] - set(t["in_books"])) + len(t["planned"] - t["done"])
        summary["duplicated"] += len(t["in_books"]) - len(set(t["in_books"]))
        summary["stranded_dead_letters"] += t["dead_letters_after"]
        summary["left_waiting_or_pending"] += t["waiting"] + t["pending"]
        summary["sessions_ended_by_a_fault"] += sum(o.startswith("fault") for o in t["outcomes"])
        for o in t["outcomes"]:
            if o.startswith("fault"):
                summary["session_failures"][o] = summary["session_failures"].get(o, 0) + 1
    summary["faults_total"] = sum(summary["faults"].values())
    summary["receipts_per_trial"] = [len(t["planned"]) for t in trials]
    text = json.dumps(summary, indent=2, sort_keys=True)
    print("\nfault summary (amazon → qb_desktop):\n" + text)
    target = Path(os.environ.get("LEDGERLINK_FAULT_SUMMARY") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    (target / "fault-summary-amazon-qbd.json").write_text(text)

    assert all(t["planned"] for t in trials)
    assert summary["faults_total"] >= 10 and summary["sessions_ended_by_a_fault"] >= 5, summary
    assert summary["lost"] == 0 and summary["duplicated"] == 0, summary
    assert summary["stranded_dead_letters"] == 0 and summary["left_waiting_or_pending"] == 0, summary
