"""Amazon → QuickBooks Online orders through fault proxies: nothing lost, nothing posted twice, nothing stranded.

Both remotes sit behind a `FaultProxy` that, seeded, resets connections, answers 429s and 5xx pages before
the remote sees a request, replaces the answer of a request the remote committed (5xx or reset), and holds
answers back past the QuickBooks client's timeout. Each trial syncs a few times through the faults, then the
faults stop, `ledgerlink dlq retry --all` requeues whatever became a dead letter, and one clean sync runs.
Then every order the fault-free run posts is in QuickBooks exactly once, and no dead letter is left open.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from ledgerlink.cli import cli
from ledgerlink.runtime import sync
from ledgerlink.store import Store
from fault_proxy import FAULT_KINDS, FaultProxy, running_proxy
from sandbox_helpers import amazon_env, load_shipped, qbo_env, sandbox_running

TRIALS = (11, 23, 37)
ORDERS = 12
FAULTY_SYNCS = 4
#: the QuickBooks client's timeout in these runs; a late answer comes after it
QBO_TIMEOUT_S = 0.3
QBO_RATES = {"refused": 0.05, "throttled": 0.05, "error_before": 0.06, "error_after": 0.08, "late": 0.03}
#: Amazon's client keeps its 30 s timeout: its side gets every fault but late answers
AMAZON_RATES = {"refused": 0.04, "throttled": 0.03, "error_before": 0.04, "error_after": 0.04}


@contextlib.contextmanager
def _amazon_to_qbo(tmp_path: Path, seed: int | None) -> Iterator[dict[str, Any]]:
    """The shipped amazon-to-qbo pipeline against both sandboxes, each behind a `FaultProxy` (seed None: no
    proxies); the QuickBooks client's timeout is QBO_TIMEOUT_S. `sync()` runs it once."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        amazon, _ = stack.enter_context(sandbox_running("amazon_sp", orders=ORDERS))
        qbo, books = stack.enter_context(sandbox_running("qbo"))
        proxies: dict[str, FaultProxy] = {}
        if seed is not None:
            proxies = {"amazon": FaultProxy(amazon, seed=seed, rates=AMAZON_RATES),
                       "qbo": FaultProxy(qbo, seed=seed + 1, rates=QBO_RATES, late_s=QBO_TIMEOUT_S + 0.3,
                                         applies=lambda method, path: path.startswith("/v3/"))}
            amazon = stack.enter_context(running_proxy(proxies["amazon"]))
            front = stack.enter_context(running_proxy(proxies["qbo"]))
        else:
            front = qbo
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon),
               **qbo_env(qbo, batch_per_minute="40000"), "QBO_BASE_URL": front}  # tokens straight from the sandbox

        def edit(text: str) -> str:
            return text.replace("    batch_requests_per_minute:",
                                f"    timeout_s: {QBO_TIMEOUT_S}\n    batch_requests_per_minute:", 1)
        yield {"books": books, "proxies": proxies, "state": tmp_path / "state.duckdb",
               "sync": lambda: sync(load_shipped(tmp_path, "amazon-to-qbo.yaml", env, edit))}


def _receipts(books: Any) -> list[str]:
    """The DocNumbers of every SalesReceipt in the sandbox company (duplicates kept)."""
    return sorted(str(o.get("DocNumber")) for o in books.company.entities["SalesReceipt"].values())


def _outbox_and_letters(state: Path) -> tuple[dict[str, dict[str, int]], int]:
    store = Store(state)
    try:
        return store.outbox.counts(), store.dead_letters.count_open()
    finally:
        store.close()


def _posted_without_faults(tmp_path: Path) -> list[str]:
    """The DocNumbers a fault-free sync posts from the same seeded Amazon sandbox: what every trial must end with."""
    with _amazon_to_qbo(tmp_path, None) as w:
        report = w["sync"]()
        assert report.status == "succeeded", report.errors
        return _receipts(w["books"])


def _trial(tmp_path: Path, seed: int) -> dict[str, Any]:
    with _amazon_to_qbo(tmp_path, seed) as w:
        statuses = [w["sync"]().status for _ in range(FAULTY_SYNCS)]
        faulty_letters = _outbox_and_letters(w["state"])[1]
        for proxy in w["proxies"].values():
            proxy.enabled = False
        if faulty_letters:
            retried = CliRunner().invoke(cli, ["dlq", "retry", str(w["state"]), "--all"])
            assert retried.exit_code == 0, retried.output
        clean = w["sync"]()
        outbox, letters = _outbox_and_letters(w["state"])
        return {"seed": seed, "statuses": statuses, "clean": clean.status, "clean_errors": clean.errors,
                "dead_letters_before_retry": faulty_letters, "dead_letters_after": letters, "outbox": outbox,
                "posted": _receipts(w["books"]),
                "faults": {side: dict(p.injected) for side, p in w["proxies"].items()},
                "forwarded": {side: p.forwarded for side, p in w["proxies"].items()}}


@pytest.mark.slow
def test_orders_reach_quickbooks_online_exactly_once_through_injected_network_faults(tmp_path):
    expected = _posted_without_faults(tmp_path / "baseline")
    assert expected and len(expected) == len(set(expected))
    trials = [_trial(tmp_path / f"trial-{seed}", seed) for seed in TRIALS]

    summary: dict[str, Any] = {"trials": len(trials), "orders_per_trial": len(expected),
                               "faults": {side: {k: 0 for k in FAULT_KINDS} for side in ("amazon", "qbo")},
                               "lost": 0, "duplicated": 0, "stranded_dead_letters": 0, "pending_left": 0}
    for t in trials:
        for side, counts in t["faults"].items():
            for kind, n in counts.items():
                summary["faults"][side][kind] += n
        posted = t["posted"]
        summary["lost"] += len(set(expected) - set(posted))
        summary["duplicated"] += len(posted) - len(set(posted))
        summary["stranded_dead_letters"] += t["dead_letters_after"]
        summary["pending_left"] += sum(by.get("pending", 0) for by in t["outbox"].values())
    summary["faults_total"] = sum(sum(by.values()) for by in summary["faults"].values())
    summary["dead_letters_before_dlq_retry"] = sum(t["dead_letters_before_retry"] for t in trials)
    _report(summary, tmp_path)

    for t in trials:
        assert t["clean"] == "succeeded", (t["seed"], t["clean_errors"])
        assert sorted(set(t["posted"]) - set(expected)) == [], t["seed"]  # nothing posted that should not be
    assert summary["faults_total"] >= 20 and all(summary["faults"]["qbo"][k] for k in FAULT_KINDS), summary
    assert summary["lost"] == 0 and summary["duplicated"] == 0, summary
    assert summary["stranded_dead_letters"] == 0 and summary["pending_left"] == 0, summary


def _report(summary: dict[str, Any], tmp_path: Path) -> None:
    """Print the figures and keep them as JSON (in the folder $LEDGERLINK_FAULT_SUMMARY when set, else beside
    the test's files), so a run's report can quote them."""
    text = json.dumps(summary, indent=2, sort_keys=True)
    print("\nfault summary (amazon → qbo):\n" + text)
    target = Path(os.environ.get("LEDGERLINK_FAULT_SUMMARY") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    (target / "fault-summary-amazon-qbo.json").write_text(text)
