"""Web Connector sign-in throttling: a failure budget per user and per client address with growing delays, a
lockout after repeated failures, no session for a refused login, and `ledgerlink qbd status` saying so (and
answering "pipeline is busy", exit 4, while another process holds the state file)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import resources

import httpx
import pytest
from click.testing import CliRunner

from ledgerlink import OutboundRecord
from ledgerlink.sandbox import running_app
from ledgerlink_qb_desktop import bridge as bridge_module
from ledgerlink_qb_desktop.bridge import LOGINS, Company, WebConnectorBridge
from ledgerlink_qb_desktop.logins import ThrottlePolicy
from ledgerlink_qb_desktop.passwords import hash_password
from ledgerlink_qb_desktop.soap import envelope, qbwc_app

HASH = hash_password("right-pw", iterations=1000)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Refs(dict):
    def get(self, kind, name):
        return super().get((kind, name))

    def put(self, kind, name, ref_id, version=None):
        self[(kind, name)] = ref_id


class Queue:
    def list(self, stream=None, limit=100):
        return [OutboundRecord(key="Customer:A", stream="Customer", data={"CustomerAdd": {"Name": "A"}})][:limit]

    def count(self):
        return 1


@pytest.fixture
def checks(monkeypatch):
    """How many passwords the bridge actually checked (each one costs a PBKDF2 computation)."""
    counted = []
    real = bridge_module.verify_password
    monkeypatch.setattr(bridge_module, "verify_password", lambda pw, stored: counted.append(1) or real(pw, stored))
    return counted


def make_bridge(clock, refs=None, policy=None):
    company = Company(username="qb", password_hash=HASH, owner_id="{0}", file_id="{F}", awaiting=Queue(),
                      references=refs if refs is not None else Refs())
    return WebConnectorBridge([company], clock=clock, login_policy=policy)


def test_wrong_passwords_cost_a_check_each_until_the_budget_then_none(checks):
    clock = Clock()
    bridge = make_bridge(clock)
    for _ in range(3):  # the free budget: each is checked
        assert bridge.authenticate("qb", "wrong", "10.0.0.1")[1] == "nvu"
    assert len(checks) == 3
    ticket, answer = bridge.authenticate("qb", "wrong", "10.0.0.1")  # 4th: checked, and starts the delay
    assert answer == "nvu" and len(checks) == 4
    ticket, answer = bridge.authenticate("qb", "right-pw", "10.0.0.1")  # at once: refused unchecked
    assert answer == "nvu" and len(checks) == 4
    assert "too many failed logins" in bridge.last_error(ticket)
    clock.now += 1.5  # the delay has passed: the right password works and clears the failures
    assert bridge.authenticate("qb", "right-pw", "10.0.0.1")[1] != "nvu"
    assert bridge.logins.user_report("qb")["recent_failures"] == 0


def test_the_delay_doubles_with_each_failure():
    clock = Clock()
    bridge = make_bridge(clock)
    waits = []
    for _ in range(8):
        bridge.authenticate("qb", "wrong", None)
        step = 0
        while bridge.logins.refusal("qb", None) and step < 1000:
            clock.now += 0.25
            step += 1
        waits.append(step * 0.25)
    assert waits[:3] == [0, 0, 0] and waits[3:7] == [1.0, 2.0, 4.0, 8.0]


def test_ten_failures_in_the_window_lock_the_user_out_even_with_the_right_password(checks):
    clock = Clock()
    refs = Refs()
    bridge = make_bridge(clock, refs)
    for _ in range(10):
        clock.now += 61  # slow enough to pass every delay (at most 60 s), fast enough to stay in the window
        assert bridge.authenticate("qb", "wrong", f"10.0.0.{_}")[1] == "nvu"
    ticket, answer = bridge.authenticate("qb", "right-pw", "10.9.9.9")
    assert answer == "nvu" and "locked out after 10 failed logins" in bridge.last_error(ticket)
    assert len(checks) == 10
    recorded = json.loads(refs.get(LOGINS, "qb"))
    assert recorded["locked_until"] and recorded["last_failure_from"] == "10.0.0.9"
    assert bridge.status()[0]["logins"]["locked_until"]
    # a restart keeps the lockout (restarting serve does not reset an attack)
    restarted = make_bridge(Clock(), refs)
    assert restarted.authenticate("qb", "right-pw", "10.9.9.9")[1] == "nvu"
    clock.now += 901  # the lockout ends by itself
    assert bridge.authenticate("qb", "right-pw", "10.9.9.9")[1] != "nvu"


def test_one_address_guessing_many_user_names_is_throttled_by_address(checks):
    clock = Clock()
    bridge = make_bridge(clock)
    for n in range(4):
        bridge.authenticate(f"user{n}", "guess", "203.0.113.5")
    assert len(checks) == 4
    ticket, answer = bridge.authenticate("someone-else", "guess", "203.0.113.5")
    assert answer == "nvu" and "address 203.0.113.5" in bridge.last_error(ticket) and len(checks) == 4
    assert bridge.authenticate("qb", "right-pw", "198.51.100.7")[1] != "nvu"  # another address is not affected


def test_failed_logins_open_no_session_and_memory_stays_bounded():
    bridge = make_bridge(Clock(), policy=ThrottlePolicy(free_failures=10**6, lockout_failures=10**6))
    for n in range(1_500):
        bridge.authenticate(f"u{n}", "x", f"10.1.{n // 250}.{n % 250}")
    assert not bridge._sessions and len(bridge._refused_logins) <= 1_000
    ticket, _ = bridge.authenticate("nobody", "x", None)
    assert bridge.send_request(ticket, "", "", 16, 0) == "" and "not signed in" in bridge.close(ticket)


def test_an_unknown_user_costs_the_same_password_check(checks):
    bridge = make_bridge(Clock())
    bridge.authenticate("nobody", "x", None)
    assert len(checks) == 1


def test_over_soap_repeated_failures_lock_out_and_the_service_keeps_serving():
    company = Company(username="qb", password_hash=HASH, owner_id="{0}", file_id="{F}", awaiting=Queue(),
                      references=Refs())
    bridge = WebConnectorBridge([company], login_policy=ThrottlePolicy(base_delay_s=0.0, max_delay_s=0.0))
    with running_app(qbwc_app(bridge)) as url, httpx.Client(base_url=url, timeout=30) as http:
        def sign_in(password):
            answer = http.post("/", content=envelope("authenticate", {"strUserName": "qb", "strPassword": password}))
            assert answer.status_code == 200
            return re.findall(r"<string>(.*?)</string>", answer.text)

        for _ in range(10):
            assert sign_in("wrong")[1] == "nvu"
        ticket, answer = sign_in("right-pw")
        assert answer == "nvu"
        error = http.post("/", content=envelope("getLastError", {"ticket": ticket})).text
        assert "locked out" in error
        assert "ledgerlink" in http.post("/", content=envelope("serverVersion", {})).text
        status = http.get("/status").json()
        assert status[0]["logins"]["locked_until"] and "last_failure_from" not in status[0]["logins"]


# ------------------------------------------------------------------------------------------ qbd status

@pytest.fixture(autouse=True)
def _plugin_commands():
    from ledgerlink.cli import cli
    from ledgerlink.plugins import host

    if "qbd" not in cli.commands:
        host().add_commands(cli)


@pytest.fixture
def qbd_pipeline(tmp_path, monkeypatch):
    from ledgerlink.pipeline import load_pipeline

    path = tmp_path / "amazon-to-qbd.yaml"
    path.write_text(resources.files("ledgerlink").joinpath("data", "amazon-to-qbd.yaml").read_text())
    monkeypatch.setenv("LEDGERLINK_STATE", str(tmp_path / "s.duckdb"))
    pipeline = load_pipeline(path)
    return path, pipeline


def test_qbd_status_shows_recent_failures_and_a_lockout(qbd_pipeline):
    from datetime import datetime, timedelta, timezone

    from ledgerlink.cli import cli
    from ledgerlink.store import Store

    path, pipeline = qbd_pipeline
    store = Store(pipeline.state_path)
    store.close()
    clean = CliRunner().invoke(cli, ["qbd", "status", str(path)])
    assert "logins: no failed logins recorded" in clean.output
    until = (datetime.now(timezone.utc) + timedelta(minutes=10)).isoformat(timespec="seconds")
    store = Store(pipeline.state_path)
    store.references("qb_desktop").put(LOGINS, pipeline.destination.config["username"], json.dumps(
        {"recent_failures": 0, "window_minutes": 15, "last_failure_at": "2026-12-07T00:00:00+00:00",
         "last_failure_from": "203.0.113.5", "locked_until": until}))
    store.close()
    result = CliRunner().invoke(cli, ["qbd", "status", str(path)])
    assert result.exit_code == 3, result.output
    assert "from 203.0.113.5" in result.output and f"locked out until {until}" in result.output
    as_json = CliRunner().invoke(cli, ["qbd", "status", str(path), "--json"])
    assert json.loads(as_json.stdout)["logins"]["locked_until"] == until
    from ledgerlink import PipelineState
    from ledgerlink_qb_desktop.status import status_lines

    with PipelineState(pipeline.state_path) as state:  # what `ledgerlink runs` prints for the pipeline
        lines = status_lines(state, pipeline.destination.config)
    assert any(line.startswith("Web Connector logins:") and "locked out" in line for line in lines)


def test_qbd_status_says_the_pipeline_is_busy_when_another_process_holds_it(qbd_pipeline):
    from ledgerlink.cli import cli
    from ledgerlink.store import Store

    path, pipeline = qbd_pipeline
    Store(pipeline.state_path).close()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time\n"
                               "c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)",
                               str(pipeline.state_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = CliRunner().invoke(cli, ["qbd", "status", str(path)])
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert result.exit_code == 4, result.output
    assert "pipeline is busy" in result.output and "Traceback" not in result.output
    assert "/qbwc/status" in result.output


def test_qbd_status_with_a_broken_pipeline_file_is_bad_usage(tmp_path):
    from ledgerlink.cli import cli

    broken = tmp_path / "p.yaml"
    broken.write_text("name: x\nsource: [\n")
    result = CliRunner().invoke(cli, ["qbd", "status", str(broken)])
    assert result.exit_code in (1, 2) and "Traceback" not in result.output and "error" in result.output.lower()
