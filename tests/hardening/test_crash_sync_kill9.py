"""kill -9 at random points of `ledgerlink sync` (Amazon orders → QuickBooks Online sales receipts, both sandboxes
on free loopback ports), then a run to completion: every order is posted once (nothing lost, no DocNumber
twice in the QBO sandbox), and no run is left "running" in the history — the killed ones are "interrupted"."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import pytest

from ledgerlink.pipeline import load_pipeline
from ledgerlink.plugins import host
from ledgerlink.runtime import sync
from ledgerlink.sandbox import running
from ledgerlink.store import Store

SEED = 14
TRIALS = 5
ORDERS = 80
#: a kill lands this many seconds after the sync starts (its start-up included), drawn per trial
KILL_WINDOW_S = (1.0, 8.0)
#: the whole test gives up (and fails) after this long
BUDGET_S = 240


def _pipeline_file(tmp_path: Path) -> Path:
    file = tmp_path / "amazon-to-qbo.yaml"
    file.write_text(resources.files("ledgerlink").joinpath("data", "amazon-to-qbo.yaml").read_text())
    return file


def _env(amazon: str, qbo: str, state: Path) -> dict[str, str]:
    return {"LEDGERLINK_STATE": str(state), "AMAZON_SP_ENDPOINT": amazon,
            "AMAZON_LWA_ENDPOINT": f"{amazon}/auth/o2/token", "QBO_BASE_URL": qbo,
            "QBO_TOKEN_URL": f"{qbo}/oauth2/v1/tokens/bearer", "QBO_REQUESTS_PER_MINUTE": "500000",
            "QBO_BATCH_REQUESTS_PER_MINUTE": "40000"}


def _doc_numbers(qbo_sandbox) -> list[str]:
    return [r.get("DocNumber") for r in qbo_sandbox.company.entities["SalesReceipt"].values()]


@pytest.mark.slow
def test_kill_9_at_random_points_loses_nothing_and_posts_nothing_twice(tmp_path, capsys):
    rng = random.Random(SEED)
    sandboxes = host().sandboxes()
    amazon_sandbox = sandboxes["amazon_sp"](orders=ORDERS, time_scale=1000)
    qbo_sandbox = sandboxes["qbo"](time_scale=100)  # slower answers: a kill can land between batches
    reference_qbo = sandboxes["qbo"](time_scale=1000)
    file = _pipeline_file(tmp_path)
    state = tmp_path / "state.duckdb"
    started = time.monotonic()
    with running(amazon_sandbox) as amazon, running(qbo_sandbox) as qbo, running(reference_qbo) as reference:
        env = {**os.environ, **_env(amazon, qbo, state)}
        command = [sys.executable, "-m", "ledgerlink", "sync", str(file), "--json"]
        kills, finished_early = 0, 0
        posted_at_kill: list[int] = []  # receipts in QuickBooks when each kill landed (mid-write: 0 < n < all)
        for _ in range(TRIALS):
            delay = rng.uniform(*KILL_WINDOW_S)
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                proc.wait(timeout=delay)
                finished_early += 1
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                kills += 1
                posted_at_kill.append(len(_doc_numbers(qbo_sandbox)))
            proc.stderr.close()
            assert time.monotonic() - started < BUDGET_S
        final = subprocess.run(command, env=env, capture_output=True, timeout=BUDGET_S)
        assert final.returncode in (0, 3), final.stderr.decode()[-2000:]
        # a second complete run finds nothing left to do
        again = subprocess.run(command, env=env, capture_output=True, timeout=BUDGET_S)
        assert again.returncode in (0, 3), again.stderr.decode()[-2000:]

        # what the same orders become without any kill: a fresh state against a fresh QuickBooks
        clean = sync(load_pipeline(file, env=_env(amazon, reference, tmp_path / "reference.duckdb")))
        assert clean.status == "succeeded", clean.errors

        posted = _doc_numbers(qbo_sandbox)
        expected = set(_doc_numbers(reference_qbo))
        duplicated = len(posted) - len(set(posted))
        lost = len(expected - set(posted))
        extra = len(set(posted) - expected)

    store = Store(state)
    try:
        history = store.runs.list(limit=100)
        pending = store.db.fetchone("SELECT count(*) FROM outbox WHERE status <> 'done' AND stream = 'SalesReceipt'")[0]
    finally:
        store.close()
    statuses = [r["status"] for r in history]
    with capsys.disabled():
        print(f"\nkill -9 trials: {TRIALS} ({kills} killed mid-run, {finished_early} finished first); "
              f"orders posted {len(set(posted))} of {len(expected)}; lost {lost}, duplicated {duplicated}, "
              f"unexpected {extra}; runs: {statuses.count('interrupted')} interrupted, "
              f"{statuses.count('running')} left running; receipts in QuickBooks at each kill: {posted_at_kill}")
    assert expected and duplicated == 0 and lost == 0 and extra == 0
    assert pending == 0
    assert "running" not in statuses
    assert statuses.count("interrupted") <= kills
    assert all(r["seconds"] is not None and r["seconds"] >= 0 for r in history)
