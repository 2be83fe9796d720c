"""The command line with the console: `users` and `tokens` manage the workspace's console.db, and while a real
`ledgerlink serve` (a subprocess on a free loopback port) holds a pipeline against the sandboxes, `sync`, `runs`,
`dlq`, `trace`, `revisions` and `reconcile` answer through its API instead of "pipeline is busy"."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from ledgerlink.cli import cli
from sandbox_helpers import bigcommerce_env, qbo_env, sandbox_running, wait_for, write_shipped


def test_users_and_tokens_commands(tmp_path):
    runner = CliRunner()
    ws = str(tmp_path)
    added = runner.invoke(cli, ["users", "add", "ann", "--role", "admin", "--workspace", ws], input="long enough pw\n")
    assert added.exit_code == 0 and "added ann (admin)" in added.output
    again = runner.invoke(cli, ["users", "add", "ann", "--role", "viewer", "--workspace", ws], input="long enough pw\n")
    assert again.exit_code == 2 and "user 'ann' already exists" in again.output
    short = runner.invoke(cli, ["users", "add", "bob", "--role", "viewer", "--workspace", ws], input="short\n")
    assert short.exit_code == 2 and "shorter than 10 characters" in short.output
    listed = json.loads(runner.invoke(cli, ["users", "list", "--json", "--workspace", ws]).output)
    assert [(u["name"], u["role"]) for u in listed] == [("ann", "admin")]
    db = tmp_path / ".ledgerlink" / "console.db"
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    created = runner.invoke(cli, ["tokens", "create", "nightly", "--role", "viewer", "--workspace", ws])
    secret = created.stdout.strip().splitlines()[-1]
    assert created.exit_code == 0 and secret.startswith("llt_")
    assert secret.encode() not in db.read_bytes()  # stored hashed only
    tokens = json.loads(runner.invoke(cli, ["tokens", "list", "--json", "--workspace", ws]).output)
    assert [t["name"] for t in tokens] == ["nightly"]
    assert runner.invoke(cli, ["tokens", "revoke", tokens[0]["id"], "--workspace", ws]).exit_code == 0
    assert runner.invoke(cli, ["tokens", "revoke", tokens[0]["id"], "--workspace", ws]).exit_code == 2
    assert runner.invoke(cli, ["users", "remove", "ann", "--workspace", ws]).exit_code == 0
    assert runner.invoke(cli, ["users", "remove", "ann", "--workspace", ws]).exit_code == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "ledgerlink"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_the_cli_works_through_a_running_serve(tmp_path):
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
            assert stat.S_IMODE(os.stat(note).st_mode) == 0o600
            assert wait_for(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), 60)
            # the first release's JSON routes need a sign-in; the Runs page sends a browser to sign in
            runs_json = httpx.get(f"http://127.0.0.1:{port}/runs", headers={"Accept": "application/json"})
            assert runs_json.status_code == 401
            assert httpx.get(f"http://127.0.0.1:{port}/runs").headers["location"] == "/signin?next=/runs"

            synced = _cli(ws, env, "sync", "bigcommerce-to-qbo.yaml", "--json")
            assert synced.returncode in (0, 3), synced.stderr
            run = json.loads(synced.stdout)
            assert run["status"] != "failed" and run["counts"]["read_total"] > 0
            runs = _cli(ws, env, "runs", "bigcommerce-to-qbo.yaml", "--json")
            assert runs.returncode == 0, runs.stderr
            assert json.loads(runs.stdout)[0]["id"] == run["id"]
            letters = _cli(ws, env, "dlq", "list", "bigcommerce-to-qbo.yaml", "--json")
            assert letters.returncode == 0 and isinstance(json.loads(letters.stdout), list), letters.stderr
            missing = _cli(ws, env, "dlq", "show", "bigcommerce-to-qbo.yaml", "999")
            assert missing.returncode == 2 and "no dead letter 999" in missing.stderr
            held = _cli(ws, env, "revisions", "list", "bigcommerce-to-qbo.yaml", "--json")
            assert held.returncode == 0 and json.loads(held.stdout) == [], held.stderr
            traced = _cli(ws, env, "trace", "bigcommerce-to-qbo.yaml", "orders", "nope", "--json")
            assert traced.returncode == 0 and json.loads(traced.stdout) == []
            checked = _cli(ws, env, "reconcile", "bigcommerce-to-qbo.yaml", "--offline", "--json")
            assert checked.returncode in (0, 5) and json.loads(checked.stdout)["pipeline"] == "bigcommerce-to-qbo"
            unplanned = _cli(ws, env, "settlements", "show", "bigcommerce-to-qbo.yaml", "123")
            assert unplanned.returncode == 2 and "settlement 123 has not been planned" in unplanned.stderr
            retried = _cli(ws, env, "dlq", "retry", "bigcommerce-to-qbo.yaml", "--all")
            assert retried.returncode == 0, retried.stderr
            unknown = _cli(ws, env, "dlq", "discard", "bigcommerce-to-qbo.yaml", "999")
            assert unknown.returncode == 2 and "error: no dead letter 999" in unknown.stderr
            dry = _cli(ws, env, "sync", "bigcommerce-to-qbo.yaml", "--dry-run")
            assert dry.returncode == 2 and "cannot run while `ledgerlink serve` holds" in dry.stderr
        finally:
            serve.send_signal(signal.SIGINT)
            try:
                out, err = serve.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                serve.kill()
                out, err = serve.communicate(timeout=10)
        assert "console API at http://127.0.0.1:" in err and "no users yet" in err
        assert "run finished: bigcommerce-to-qbo " in err
        assert not note.exists()  # gone with serve: the CLI opens the state file itself again
        after = _cli(ws, env, "runs", "bigcommerce-to-qbo.yaml", "--json")
        assert after.returncode == 0 and len(json.loads(after.stdout)) >= 1


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        time.sleep(0.1)
        return False
