"""A real Airbyte source from PyPI (`airbyte-source-faker` 7.2.1, offline: it generates its data) feeding orders
into the QuickBooks Online sandbox through the `airbyte` source and the shipped example mapping
(`examples/faker_orders.py`), with `ledgerlink sync` killed -9 twice — once while the connector reads, once
while receipts are being posted — then run to the end, then once more: every purchased purchase is one sales
receipt, none twice, none lost, and the last sync reads nothing (it resumed from the state the connector sent).

The connector lives in a virtual environment of its own (`.venv-airbyte`, made by `.ci/run`; its airbyte-cdk
pins would downgrade ledgerlink's own dependencies), found as `$LEDGERLINK_AIRBYTE_FAKER`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import pytest

from ledgerlink.plugins import host
from ledgerlink.sandbox import running
from ledgerlink.store import Store

from airbyte_fakes import staged_ids

#: users (and purchases) faker generates; its 100 products are all emitted from 100 users on
COUNT = 100
#: how long the connector reads before the first kill (whatever it sent by then is staged or not: both are fine)
READING_S = 6
#: the whole test gives up (and fails) after this long
BUDGET_S = 600


def _pipeline(tmp_path: Path) -> Path:
    text = resources.files("ledgerlink_airbyte_source").joinpath("examples", "faker-to-qbo.yaml").read_text()
    assert f"count: {COUNT} " in text  # the example as shipped
    path = tmp_path / "faker-to-qbo.yaml"
    path.write_text(text)
    return path


def _children_running(parent: int, needle: str) -> list[int]:
    """Processes whose parent is `parent` and whose command line holds `needle` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and needle in cmdline:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _receipts(qbo_sandbox) -> list[str]:
    return [r.get("DocNumber") for r in qbo_sandbox.company.entities["SalesReceipt"].values()]


def _wait(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.mark.slow
def test_faker_orders_post_to_qbo_exactly_once_across_kills_and_resume(tmp_path, source_faker, capsys):
    if not sys.platform.startswith("linux"):
        pytest.skip("finds the connector process through /proc")
    started = time.monotonic()
    qbo_sandbox = host().sandboxes()["qbo"](time_scale=100)  # slower answers: the second kill lands mid-posting
    file = _pipeline(tmp_path)
    state = tmp_path / "state.duckdb"
    with running(qbo_sandbox) as qbo:
        env = {**os.environ, "LEDGERLINK_AIRBYTE_FAKER": str(source_faker), "LEDGERLINK_STATE": str(state),
               "QBO_BASE_URL": qbo, "QBO_TOKEN_URL": f"{qbo}/oauth2/v1/tokens/bearer",
               "QBO_REQUESTS_PER_MINUTE": "500000", "QBO_BATCH_REQUESTS_PER_MINUTE": "40000"}
        command = [sys.executable, "-m", "ledgerlink", "sync", str(file), "--json"]

        # 1. killed while the connector reads: the connector dies with it (no orphan keeps reading)
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        reading: list[int] = []

        def connector_reads() -> bool:
            reading[:] = _children_running(proc.pid, " read ")
            return bool(reading) or proc.poll() is not None

        assert _wait(connector_reads, BUDGET_S / 3) and reading, "the connector's read never started"
        _wait(lambda: proc.poll() is not None, READING_S)  # let it send (and ledgerlink stage) a part
        killed_reading = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert _wait(lambda: not any(_alive(pid) for pid in reading), 20), "the connector outlived ledgerlink"
        posted_at_first_kill = len(_receipts(qbo_sandbox))

        # 2. killed while receipts are posted
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert _wait(lambda: len(_receipts(qbo_sandbox)) > posted_at_first_kill or proc.poll() is not None,
                     BUDGET_S / 3)
        killed_posting = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        posted_at_second_kill = len(_receipts(qbo_sandbox))

        # 3. to the end, then 4. once more: nothing new to read, nothing to post
        final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=BUDGET_S)
        assert final.returncode == 0, final.stderr[-3000:] + final.stdout[-3000:]
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=BUDGET_S)
        assert again.returncode == 0, again.stderr[-3000:]
        last = json.loads(again.stdout)
        receipts = _receipts(qbo_sandbox)
    assert time.monotonic() - started < BUDGET_S

    store = Store(state)
    try:
        purchased = {str(pk) for (pk,) in store.db.fetchall(
            "SELECT pk FROM raw_purchases WHERE json_extract_string(data, '$.purchased_at') IS NOT NULL")}
        saved = store.source_state()
        open_letters = store.dead_letters.count_open()
        statuses = [r["status"] for r in store.runs.list(limit=10)]
        users, products = staged_ids(store, "users"), staged_ids(store, "products")
    finally:
        store.close()
    with capsys.disabled():
        print(f"\nfaker → QBO: {len(purchased)} purchased of {COUNT} purchases; kill -9 while reading: "
              f"{killed_reading}, while posting: {killed_posting} (receipts at the kills: {posted_at_first_kill}, "
              f"{posted_at_second_kill}); receipts {len(receipts)}, distinct {len(set(receipts))}; runs {statuses}")
    assert users == list(range(1, COUNT + 1)) and products == list(range(1, 101))
    assert purchased and open_letters == 0
    assert len(receipts) == len(set(receipts)), "a purchase was posted twice"
    assert set(receipts) == purchased, "receipts and purchased purchases differ"
    assert {"purchases", "products", "users"} <= set(saved)  # the connector's states, committed
    assert saved["purchases"]["loop_offset"] == COUNT
    assert last["counts"]["read_total"] == 0 and not last["counts"]["created"], last["counts"]
    assert "running" not in statuses
