"""`ledgerlink demo` ends by saying how to open the console on its folder, and that folder really is a
workspace: its pipeline files name the state the demo wrote, so `serve --workspace` shows the demo's runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from console_helpers import Clock

from ledgerlink.cli import cli
from ledgerlink.console import Workspace
from ledgerlink.demo import console_commands
from ledgerlink.plugins import host


@pytest.mark.slow
def test_the_demo_folder_opens_as_a_workspace_with_the_demos_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "my demo"
    result = CliRunner().invoke(cli, ["demo", "--orders", "5", "--steps", "orders", "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    users_add, serve = console_commands(folder.resolve())
    assert users_add in result.output and serve in result.output
    assert serve == f"ledgerlink serve --workspace '{folder.resolve()}' --every 0"  # quoted: the path has a space
    monkeypatch.chdir(tmp_path.parent)  # serve runs from anywhere: the files name their state absolutely
    added = CliRunner().invoke(cli, ["users", "add", "admin", "--role", "admin", "--workspace", str(folder)],
                               input="long enough pw\n")
    assert added.exit_code == 0, added.output
    workspace = Workspace.open(folder, host(), every=None, debounce=0, announce=lambda line: None, clock=Clock())
    try:
        assert list(workspace.services) == ["amazon-to-qbo"]
        runs = workspace.services["amazon-to-qbo"].store.runs.list(5)
        assert runs and runs[-1]["counts"]["read_total"] > 0  # the demo's own first run
        assert [u.name for u in workspace.accounts.list()] == ["admin"]
    finally:
        workspace.stop()
    assert not any(Path(tmp_path.parent).glob("amazon-to-qbo.duckdb"))
