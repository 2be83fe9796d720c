"""The container contract, without a container runtime: `ledgerlink` run as the image runs it (read-only root,
another user, configuration by environment only, JSON logs on stdout) syncs the shipped Amazon → QuickBooks
Online pipeline against the sandboxes; SIGTERM in the middle of a write finishes that batch and exits 143, and
the next sync posts the rest, each order exactly once."""

from __future__ import annotations

import collections
import signal
import sys
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from container_contract import ISOLATION, NOBODY, Box, Running, json_lines, run_contract  # noqa: E402
from sandbox_helpers import amazon_env, qbo_env, sandbox_running, shipped, wait_for  # noqa: E402

from ledgerlink.store import Store  # noqa: E402
from ledgerlink_qbo.destination import NOTE_PREFIX  # noqa: E402

pytestmark = pytest.mark.slow

PIPELINE = "amazon-to-qbo.yaml"
#: what the shipped pipeline and the sandboxes use as credentials: none may reach a log line
SECRETS = ("sandbox-lwa-client-secret", "Atzr|sandbox-refresh-token", "sandbox-qbo-client-secret",
           "sandbox-qbo-refresh-token")


@pytest.fixture
def box() -> Iterator[Box]:
    made = Box.make()
    (made.config / PIPELINE).write_text(shipped(PIPELINE))
    made.seal()
    try:
        yield made
    finally:
        made.remove()


@pytest.fixture
def sandboxes() -> Iterator[tuple[dict[str, str], Any]]:
    """Amazon and QuickBooks Online sandboxes on loopback, and the environment pointing the pipeline at them.
    Enough orders for more receipt batches than QuickBooks Online keeps in flight (4 of 30), so a SIGTERM while
    one is held always leaves batches for the next sync."""
    with sandbox_running("amazon_sp", orders=400) as (amazon, _), sandbox_running("qbo") as (qbo, qbo_sandbox):
        yield {**amazon_env(amazon), **qbo_env(qbo)}, qbo_sandbox


def _sync(box: Box) -> list[str]:
    return ["sync", str(box.config / PIPELINE)]


def _state(box: Box) -> Path:
    [state] = list((box.data / "state").rglob("*.duckdb"))
    return state


def _receipts_by_key(qbo: Any) -> collections.Counter[str]:
    """QuickBooks sales receipts by the ledgerlink key in their PrivateNote (a duplicate shows as a count of 2)."""
    notes = [str(r.get("PrivateNote") or "") for r in qbo.company.entities["SalesReceipt"].values()]
    return collections.Counter(note.split("\n", 1)[0].removeprefix(NOTE_PREFIX) for note in notes)


def _posted_keys(box: Box) -> set[str]:
    store = Store(_state(box))
    try:
        return {k for (k,) in store.db.fetchall(
            "SELECT key FROM outbox WHERE stream = 'SalesReceipt' AND status = 'done'")}
    finally:
        store.close()


def _runs(box: Box) -> list[dict[str, Any]]:
    store = Store(_state(box))
    try:
        return store.runs.list()
    finally:
        store.close()


def _hold_next_batch(qbo_url: str) -> None:
    """The QBO sandbox keeps the next batch request in flight until released (a slow write, made certain)."""
    httpx.post(f"{qbo_url}/_sandbox/faults", json={"path_contains": "/batch", "hold": True, "count": 1}).raise_for_status()


def _release(qbo_url: str) -> None:
    httpx.post(f"{qbo_url}/_sandbox/release").raise_for_status()


def test_the_entry_point_syncs_read_only_as_another_user_from_the_environment_alone(box, sandboxes):
    env, qbo = sandboxes
    code, run = run_contract(box, _sync(box), env)
    assert code == 0, (ISOLATION, run.stderr, run.lines[-5:])
    entries = json_lines(run.lines)
    # every line is one JSON object with the fields a log shipper groups by
    assert entries and all({"time", "level", "logger", "message", "pipeline", "run_id"} <= set(e) for e in entries)
    [summary] = [e for e in entries if e.get("report")]
    assert summary["pipeline"] == "amazon-to-qbo" and summary["report"]["status"] == "succeeded"
    assert summary["report"]["run_id"] == 1 and summary["message"] == "run 1: succeeded"
    assert sum(summary["report"]["counts"]["created"].values()) > 0
    # secrets never reach stdout or stderr
    for secret in SECRETS:
        assert secret not in "\n".join(run.lines) and secret not in run.stderr
    # everything written is in the data folder: state, the secret key (owner-only), nothing beside the config
    state = _state(box)
    assert state.is_relative_to(box.data / "state") and state.stat().st_mode & 0o077 == 0
    key = box.data / "secret.key"
    assert key.exists() and key.stat().st_mode & 0o777 == 0o600
    assert box.files_outside_data() == [box.config / PIPELINE]
    if ISOLATION.startswith("read-only"):  # and it ran as the unprivileged user, not as root
        assert {p.stat().st_uid for p in box.data.rglob("*")} == {NOBODY}
    receipts = _receipts_by_key(qbo)
    assert receipts and max(receipts.values()) == 1
    # the HEALTHCHECK's command passes in the same box
    code, health = run_contract(box, ["health", "--json"], env, seconds=60)
    assert code == 0, health.lines
    assert json_lines(health.lines)[-1]["ok"] is True


def test_sigterm_mid_write_finishes_the_batch_and_the_next_sync_posts_each_order_once(box, sandboxes):
    env, qbo = sandboxes
    _hold_next_batch(env["QBO_BASE_URL"])
    run = Running(box, _sync(box), env)
    try:
        assert wait_for(lambda: qbo.stats["injected"] >= 1 or run.proc.poll() is not None, 120), run.lines[-5:]
        assert run.proc.poll() is None, (run.finish(), run.stderr)
        run.proc.send_signal(signal.SIGTERM)  # while a batch is in flight
        run.wait_for_line("SIGTERM received: stopping after the current batch")
    finally:
        _release(env["QBO_BASE_URL"])
    code = run.finish()
    assert code == 143, (run.stderr, run.lines[-5:])
    entries = json_lines(run.lines)
    [summary] = [e for e in entries if e.get("report")]
    assert summary["report"]["status"] == "stopped" and summary["report"]["counts"]["stopped"] == "SIGTERM"
    [stopped] = _runs(box)
    assert stopped["status"] == "stopped"
    # the batch in flight was recorded: what QuickBooks holds is exactly what the state says was posted
    after_stop = _receipts_by_key(qbo)
    assert set(after_stop) == _posted_keys(box) and max(after_stop.values(), default=1) == 1
    # the next sync resumes and posts the rest, each order once
    code, again = run_contract(box, _sync(box), env)
    assert code == 0, (again.stderr, again.lines[-5:])
    [summary] = [e for e in json_lines(again.lines) if e.get("report")]
    assert summary["report"]["status"] == "succeeded"
    receipts = _receipts_by_key(qbo)
    assert len(receipts) > len(after_stop) and max(receipts.values()) == 1
    assert set(receipts) == _posted_keys(box)


def test_a_second_sigterm_still_records_the_batch_in_flight_then_exits(box, sandboxes):
    env, qbo = sandboxes
    _hold_next_batch(env["QBO_BASE_URL"])
    run = Running(box, _sync(box), env)
    try:
        assert wait_for(lambda: qbo.stats["injected"] >= 1 or run.proc.poll() is not None, 120), run.lines[-5:]
        assert run.proc.poll() is None, (run.finish(), run.stderr)
        run.proc.send_signal(signal.SIGTERM)
        run.wait_for_line("SIGTERM received: stopping after the current batch")
        run.proc.send_signal(signal.SIGTERM)
        run.wait_for_line("received again: stopping as soon as the batch being written is recorded")
    finally:
        _release(env["QBO_BASE_URL"])
    assert run.finish() == 143, (run.stderr, run.lines[-5:])
    json_lines(run.lines)
    assert [r["status"] for r in _runs(box)] == ["stopped"]
    after_stop = _receipts_by_key(qbo)
    assert set(after_stop) == _posted_keys(box)
    code, again = run_contract(box, _sync(box), env)
    assert code == 0, (again.stderr, again.lines[-5:])
    receipts = _receipts_by_key(qbo)
    assert max(receipts.values()) == 1 and set(receipts) == _posted_keys(box)
