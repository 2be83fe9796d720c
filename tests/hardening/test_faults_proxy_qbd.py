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

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from fault_proxy import FAULT_KINDS, FaultProxy, running_proxy
from sandbox_helpers import WebConnector, amazon_env, load_shipped, sandbox_running, wait_for, web_connector

TRIALS = (4, 9)
ORDERS = 10
FAULTY_SESSIONS = 20
WEB_CONNECTOR_TIMEOUT_S = 1.5
RATES = {"refused": 0.04, "throttled": 0.03, "error_before": 0.04, "error_after": 0.06, "late": 0.02}


def _poll(wc: WebConnector) -> str:
    """One Web Connector session after the pipeline is idle: its result, or "fault: …" if a SOAP call failed."""
    try:
        return str(wc.poll()["result"])
    except (httpx.HTTPError, RuntimeError, ValueError) as exc:  # a reset, a 5xx, a timeout, a garbled answer
        return f"fault: {type(exc).__name__}"


def _drain(wc: WebConnector, max_sessions: int = 40) -> None:
    quiet = 0
    for _ in range(max_sessions):
        if _poll(wc) == "none":
            quiet += 1
            if quiet >= 2 and wc.service.idle:
                return
        else:
            quiet = 0
    raise AssertionError("the Web Connector queue did not drain")


def _trial(tmp_path: Path, xsd: Path, seed: int) -> dict[str, Any]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    with sandbox_running("amazon_sp", orders=ORDERS) as (amazon, _):
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon)}
        with web_connector(load_shipped(tmp_path, "amazon-to-qbd.yaml", env), xsd) as served:
            served.simulator.client.http = httpx.Client(timeout=WEB_CONNECTOR_TIMEOUT_S)
            proxy = FaultProxy(served.url, seed=seed, rates=RATES, late_s=WEB_CONNECTOR_TIMEOUT_S + 0.3,
                               applies=lambda method, path: path.startswith("/qbwc"))
            try:
                with running_proxy(proxy) as front:
                    wc = WebConnector(served.service, served.simulator, front)  # polls through the proxy
                    wc.service.trigger("test")
                    outcomes = [_poll(wc) for _ in range(FAULTY_SESSIONS)]
                    proxy.enabled = False
                    _drain(wc)
                    store = wc.service.store
                    letters = store.dead_letters.list("open")
                    for letter in letters:
                        store.requeue(letter)
                    if letters:
                        wc.service.trigger("dlq retry")
                        _drain(wc)
                    assert wait_for(lambda: wc.service.idle)
                    planned = {k for (k,) in store.db.fetchall("SELECT key FROM outbox WHERE stream = 'SalesReceipt'")}
                    done = {k for (k,) in store.db.fetchall(
                        "SELECT key FROM outbox WHERE stream = 'SalesReceipt' AND status = 'done'")}
                    in_books = [str(r.get("Memo") or "").split("\n", 1)[0].removeprefix("ledgerlink ")
                                for r in wc.company.txns.get("SalesReceipt", [])]
                    return {"seed": seed, "faults": dict(proxy.injected), "outcomes": outcomes,
                            "planned": planned, "done": done, "in_books": in_books,
                            "dead_letters_before_retry": len(letters),
                            "dead_letters_after": store.dead_letters.count_open(),
                            "waiting": store.awaiting("qb_desktop").count(),
                            "pending": store.db.fetchone("SELECT count(*) FROM outbox WHERE status = 'pending'")[0]}
            finally:
                served.simulator.client.http.close()


@pytest.mark.slow
def test_orders_reach_quickbooks_desktop_exactly_once_through_web_connector_faults(tmp_path, qbxml_xsd):
    trials = [_trial(tmp_path / f"trial-{seed}", qbxml_xsd, seed) for seed in TRIALS]
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
