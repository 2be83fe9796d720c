"""`ledgerlink anomalies PIPELINE` over the shipped settlements pipeline synced against the sandboxes: the table,
`--json`, `--check`, exit 1 while a finding is open and 0 once it is acknowledged, exit 2 on bad input; and the
same command through a running `ledgerlink serve` that holds the pipeline."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledgerlink.cli import cli


def _run(*args: str):
    return CliRunner().invoke(cli, ["anomalies", *args], env={"COLUMNS": "400"})  # a table row on one line


def test_a_synced_settlements_pipeline(settlements_synced):
    file = str(settlements_synced)
    report = _run(file, "--json")
    assert report.exit_code == 0, report.output
    data = json.loads(report.output)
    assert data["pipeline"] == "amazon-settlements-to-qbo" and len(data["checks"]) == 18 and data["open"] == 0
    assert {"missing_settlement", "overlapping_settlement", "payout_counted_twice", "deposit_mismatch",
            "referral_fee_drift"} <= set(data["passed"])
    assert "no orders staged" in data["not_applicable"]["unposted_orders"] and not data["failed"]
    table = _run(file)
    assert table.exit_code == 0 and "0 open finding(s)" in table.output
    assert "unposted_orders: not applicable: this pipeline has no orders staged" in table.output


def test_open_findings_exit_1_until_acknowledged(settlements_synced):
    file = str(settlements_synced)
    strict = ("--check", "missing_settlement", "--threshold", "missing_settlement.overdue_days=0.0001")
    found = _run(file, *strict, "--json")
    assert found.exit_code == 1, found.output
    data = json.loads(found.output)
    assert data["checks"] == ["missing_settlement"] and data["open"] >= 1
    fps = [f["fingerprint"] for f in data["findings"] if f["status"] == "open"]
    first = data["findings"][0]
    assert first["rows"][0]["settlement_id"] and "Amazon settles every 14 days" in first["explanation"]
    assert _run(file, *strict).exit_code == 1
    table = _run(file, *strict)
    assert "1 open finding(s)" in table.output or "2 open finding(s)" in table.output
    assert fps[0] in table.output
    acked = _run(file, "--acknowledge", fps[0], "--by", "ann", "--note", "bank holiday")
    assert acked.exit_code == 0 and f"{fps[0]}: acknowledged" in acked.output
    rest = fps[1:]
    if rest:
        snoozed = _run(file, *[a for fp in rest for a in ("--snooze", fp)], "--until", "2099-01-01")
        assert snoozed.exit_code == 0 and "snoozed until 2099-01-01" in snoozed.output
    again = _run(file, *strict, "--json")
    assert again.exit_code == 0 and json.loads(again.output)["open"] == 0
    assert {f["status"] for f in json.loads(again.output)["findings"]} <= {"acknowledged", "snoozed"}


BAD_INPUT = [
    (("--check", "nope"), "no anomaly check named nope"),
    (("--threshold", "referral_fee_drift.threshold=-1"), "referral_fee_drift.threshold"),
    (("--threshold", "referral_fee_drift.treshold=4"), "referral_fee_drift.treshold"),
    (("--threshold", "nothing"), "is not CHECK.FIELD=VALUE"),
    (("--snooze", "abc"), "--snooze needs --until"),
    (("--snooze", "abc", "--until", "soon"), "is not a date"),
    (("--acknowledge", "abc"), "no finding with fingerprint abc"),
    (("--until", "2099-01-01"), "--until goes with --snooze"),
]


def test_bad_input_exits_2(settlements_synced):
    for args, says in BAD_INPUT:
        result = _run(str(settlements_synced), *args)
        assert result.exit_code == 2, (args, result.output)
        assert says in result.output and "Traceback" not in result.output, (args, result.output)


def test_a_pipeline_that_never_ran_is_a_clear_error(tmp_path):
    file = tmp_path / "new.yaml"
    file.write_text(f"name: new\nstate: {tmp_path / 'new.duckdb'}\n"
                    "source: {connector: fake_source, config: {}}\ndestination: {connector: fake_dest, config: {}}\n")
    result = _run(str(file))
    assert result.exit_code == 2 and "new has not run yet" in result.output
    assert _run(str(tmp_path)).exit_code == 2  # a folder is not a pipeline file


@pytest.mark.slow
def test_through_a_running_serve(tmp_path):
    """While `serve` holds the pipeline, the command asks its API (run, acknowledge) instead of 'busy'."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))
    from test_console_cli import _answers, _cli, _free_port

    from sandbox_helpers import bigcommerce_env, qbo_env, sandbox_running, wait_for, write_shipped

    ws = tmp_path / "ws"
    ws.mkdir()
    with sandbox_running("bigcommerce", orders=6) as (bc_url, _), sandbox_running("qbo") as (qbo_url, _):
        write_shipped(ws, "bigcommerce-to-qbo.yaml")
        env = {**os.environ, **bigcommerce_env(bc_url), **qbo_env(qbo_url)}
        port = _free_port()
        serve = subprocess.Popen([str(Path(sys.executable).parent / "ledgerlink"), "serve", "--workspace", ".",
                                  "--port", str(port), "--every", "0"], cwd=ws, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        note = ws / ".ledgerlink" / "bigcommerce-to-qbo.serve.json"
        try:
            assert wait_for(note.exists, 60), serve.stderr.read() if serve.poll() is not None else "no note"
            assert wait_for(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), 60)
            synced = _cli(ws, env, "sync", "bigcommerce-to-qbo.yaml", "--json")
            assert synced.returncode in (0, 3), synced.stderr
            found = _cli(ws, env, "anomalies", "bigcommerce-to-qbo.yaml", "--json", "--check", "unposted_orders",
                         "--threshold", "unposted_orders.max_age_hours=0")
            assert found.returncode in (0, 1), found.stderr
            data = json.loads(found.stdout)
            assert data["pipeline"] == "bigcommerce-to-qbo" and data["checks"] == ["unposted_orders"]
            bad = _cli(ws, env, "anomalies", "bigcommerce-to-qbo.yaml", "--threshold",
                       "unposted_orders.max_age_hours=-5")
            assert bad.returncode == 2 and "max_age_hours" in bad.stderr
            unknown = _cli(ws, env, "anomalies", "bigcommerce-to-qbo.yaml", "--acknowledge", "feedface")
            assert unknown.returncode == 2 and "no finding with fingerprint feedface" in unknown.stderr
            backlog = _cli(ws, env, "anomalies", "bigcommerce-to-qbo.yaml", "--check", "dead_letter_backlog",
                           "--threshold", "dead_letter_backlog.min_growth=1", "--json")
            assert backlog.returncode in (0, 1), backlog.stderr
            opened = [f for f in json.loads(backlog.stdout)["findings"] if f["status"] == "open"]
            if opened:  # the sandbox's refused orders grew the queue: acknowledge through serve
                acked = _cli(ws, env, "anomalies", "bigcommerce-to-qbo.yaml", "--acknowledge",
                             opened[0]["fingerprint"], "--by", "ann")
                assert acked.returncode == 0 and "acknowledged" in acked.stdout, acked.stderr
        finally:
            serve.send_signal(signal.SIGINT)
            try:
                serve.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                serve.kill()
                serve.communicate(timeout=10)
