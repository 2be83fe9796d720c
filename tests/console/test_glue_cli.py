"""While `serve` holds a pipeline, `ledgerlink review …` and the plugin command `ledgerlink qbd status` answer
through its API (the endpoint note, this machine's token) instead of "pipeline is busy", with the same wording
and exit codes; `ledgerlink.served_client` is the public way a plugin finds that API. The API is called in
process (Starlette's TestClient stands in for the socket)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import fakes
import pytest
from click.testing import CliRunner
from console_helpers import Clock
from sandbox_helpers import wait_for
from starlette.testclient import TestClient

import ledgerlink
from ledgerlink.cli import cli
from ledgerlink.console import Workspace
from ledgerlink.console.app import build_console_app


def _serve(monkeypatch: Any, workspace: Workspace) -> None:
    """Leave the endpoint notes as serve does, and route the CLI's HTTP client into the app in process."""
    app = build_console_app(workspace)
    workspace.write_notes("http://testserver")
    monkeypatch.setattr("ledgerlink.console.client.httpx.Client",
                        lambda base_url, headers, timeout: TestClient(app, base_url=base_url, headers=headers))


@pytest.fixture
def served_review(tmp_path: Path, monkeypatch: Any) -> Any:
    host = fakes.fresh_host(tmp_path)
    ws = tmp_path / "ws"
    ws.mkdir()
    pipeline = ws / "shop.yaml"
    pipeline.write_text(
        f"name: shop\nstate: {ws / 'shop.duckdb'}\nreview: always\n"
        "source: {connector: fake_source, config: {orders: 3}}\ndestination: {connector: fake_dest, config: {}}\n")
    workspace = Workspace.open(ws, host, every=None, debounce=0, announce=lambda line: None, clock=Clock())
    workspace.services["shop"]._run("test set-up")
    workspace.start()
    _serve(monkeypatch, workspace)
    yield workspace, str(pipeline)
    workspace.stop()


def test_review_commands_go_through_serve(served_review):
    workspace, pipeline = served_review
    runner = CliRunner()
    listed = runner.invoke(cli, ["review", "list", pipeline, "--json"])
    assert listed.exit_code == 0, listed.output
    assert [i["key"] for i in json.loads(listed.output)] == [f"Receipt:fake/order/O-{i:04d}" for i in range(3)]
    assert "Fake Store USD" in runner.invoke(cli, ["review", "list", pipeline]).output
    shown = runner.invoke(cli, ["review", "show", pipeline, "O-0001"])
    assert shown.exit_code == 0 and "source rows" in shown.output, shown.output
    missing = runner.invoke(cli, ["review", "show", pipeline, "O-0042"])
    assert missing.exit_code == 2 and "no document 'O-0042'" in missing.output
    bad = runner.invoke(cli, ["review", "list", pipeline, "--min", "5", "--max", "1"])
    assert bad.exit_code == 2 and "amount range is empty" in bad.output
    shop = workspace.services["shop"]
    before = shop.syncs
    rejected = runner.invoke(cli, ["review", "reject", pipeline, "O-0000", "--reason", "test order", "--by", "ann"])
    assert rejected.exit_code == 0 and "rejected by ann" in rejected.output, rejected.output
    approved = runner.invoke(cli, ["review", "approve", pipeline, "--all", "--by", "ann"])
    assert approved.exit_code == 0 and "posts them with the sync it has queued" in approved.output, approved.output
    assert wait_for(lambda: shop.syncs > before and shop.idle)
    assert set(fakes.REMOTE["Receipt"]) == {"O-0001", "O-0002"}
    audit = workspace.audit.list()
    assert [e["action"] for e in audit] == ["documents approved", "documents rejected"]
    assert all(e["actor"].startswith("cli:") for e in audit)  # this machine's CLI, by its local token
    assert workspace.audit.list()[0]["detail"]["keys"] == ["Receipt:fake/order/O-0001", "Receipt:fake/order/O-0002"]


def test_served_client_is_public_and_none_without_serve(tmp_path):
    assert "served_client" in ledgerlink.__all__
    path = tmp_path / "p.yaml"
    path.write_text(f"name: p\nstate: {tmp_path / 'p.duckdb'}\n"
                    "source: {connector: fake_source, config: {}}\ndestination: {connector: fake_dest, config: {}}\n")
    assert ledgerlink.served_client(path) is None
    assert ledgerlink.served_client(tmp_path / "missing.yaml") is None


def test_qbd_status_goes_through_serve(tmp_path, monkeypatch):
    from ledgerlink.plugins import host

    monkeypatch.setenv("LEDGERLINK_STATE", str(tmp_path / "qbd.duckdb"))
    ws = tmp_path / "ws"
    ws.mkdir()
    pipeline = ws / "amazon-to-qbd.yaml"
    pipeline.write_text(resources.files("ledgerlink").joinpath("data", "amazon-to-qbd.yaml").read_text())
    if "qbd" not in cli.commands:
        host().add_commands(cli)  # as `ledgerlink` (cli.main) does
    workspace = Workspace.open(ws, host(), every=None, debounce=0, announce=lambda line: None, clock=Clock())
    try:
        _serve(monkeypatch, workspace)
        client = ledgerlink.served_client(pipeline)
        assert client is not None and client.get("/status")["pipeline"] == next(iter(workspace.services))
        result = CliRunner().invoke(cli, ["qbd", "status", str(pipeline), "--json"])
        assert result.stdout.startswith("{"), result.output
        out = json.loads(result.stdout)
        assert out["served_by"] == "http://testserver"
        assert any("Web Connector last contact never" in line for line in out["lines"])
        assert result.exit_code == 0 and out["warnings"] == []  # nothing waits: no warning, as the local command
        text = CliRunner().invoke(cli, ["qbd", "status", str(pipeline)])
        assert text.exit_code == 0 and "0 write(s) waiting" in text.output
    finally:
        workspace.stop()
