"""A wrong option stops every command at load: exit 2, the file, every wrong key with a did-you-mean, and the
state file untouched (nothing staged, nothing planned or posted)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledgerlink.cli import cli
from ledgerlink.store import Store

REPO = Path(__file__).resolve().parents[2]


def bad_pipeline(tmp_path: Path) -> Path:
    """The shipped Amazon → QuickBooks Online pipeline with the issue's two typos, its state in tmp_path."""
    text = (REPO / "core" / "data" / "amazon-to-qbo.yaml").read_text()
    text = text.replace("customer_strategy: per_marketplace", "customer_stratgy: per_marketplace")
    text = text.replace("on_cancel: void", "on_cancel: voyd")
    text = text.replace("${LEDGERLINK_STATE:-.ledgerlink/amazon-to-qbo.duckdb}", str(tmp_path / "state.duckdb"))
    path = tmp_path / "amazon-to-qbo.yaml"
    path.write_text(text)
    return path


def assert_refused(result, path: Path) -> None:
    assert result.exit_code == 2, result.output
    out = result.output
    assert f"error: {path}: 2 problems (destination.options.on_cancel, destination.options.customer_stratgy):" in out
    assert "destination.options.customer_stratgy: unknown key 'customer_stratgy' (did you mean " \
           "'customer_strategy'?)" in out
    assert "destination.options.on_cancel: 'voyd' is not allowed; choose one of: void, reverse (did you mean " \
           "'void'?)" in out
    assert "Traceback" not in out


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return CliRunner()


@pytest.mark.parametrize("command", [
    ["sync", "{path}"], ["sync", "{path}", "--dry-run"], ["serve", "{path}", "--port", "1"],
    ["review", "list", "{path}"], ["runs", "{path}"], ["dlq", "list", "{path}"],
    ["check", "--pipeline", "{path}", "--role", "destination"],
], ids=lambda c: " ".join(a for a in c if a != "{path}"))
def test_a_command_refuses_the_pipeline_and_creates_no_state(runner, tmp_path, command):
    path = bad_pipeline(tmp_path)
    result = runner.invoke(cli, [str(path) if a == "{path}" else a for a in command])
    assert_refused(result, path)
    assert not (tmp_path / "state.duckdb").exists()


def test_a_sync_leaves_an_existing_state_file_byte_for_byte(runner, tmp_path):
    """A pipeline that ran before: the refused sync stages nothing, plans nothing, posts nothing."""
    store = Store(tmp_path / "state.duckdb")
    before_rows = {t: store.db.fetchone(f"SELECT count(*) FROM {t}")[0] for t in ("outbox", "runs", "dead_letters")}
    store.close()
    digest = hashlib.sha256((tmp_path / "state.duckdb").read_bytes()).hexdigest()
    result = runner.invoke(cli, ["sync", str(bad_pipeline(tmp_path))])
    assert result.exit_code == 2, result.output
    assert hashlib.sha256((tmp_path / "state.duckdb").read_bytes()).hexdigest() == digest
    store = Store(tmp_path / "state.duckdb")
    try:
        assert {t: store.db.fetchone(f"SELECT count(*) FROM {t}")[0] for t in before_rows} == before_rows
    finally:
        store.close()


def test_a_connector_config_lists_every_wrong_key_before_anything_is_staged(runner, tmp_path):
    """The configs are checked by the same checker when the sync starts: every problem, with a did-you-mean."""
    text = (REPO / "core" / "data" / "amazon-to-qbo.yaml").read_text()
    text = text.replace("${LEDGERLINK_STATE:-.ledgerlink/amazon-to-qbo.duckdb}", str(tmp_path / "state.duckdb"))
    text = text.replace("    marketplace_ids: [ATVPDKIKX0DER]\n",
                        "    marketplace_ids: [ATVPDKIKX0DER]\n    lookback_minuts: 5\n    region: nx\n"
                        "    page_size: 500\n")
    path = tmp_path / "p.yaml"
    path.write_text(text)
    result = runner.invoke(cli, ["sync", str(path)])
    assert result.exit_code == 2, result.output
    out = result.output
    assert "source.config.lookback_minuts: unknown key 'lookback_minuts' (did you mean 'lookback_minutes'?)" in out
    assert "source.config.region: 'nx' is not allowed; choose one of: na, eu, fe (did you mean 'na'?)" in out \
        or "source.config.region: 'nx' is not allowed; choose one of: na, eu, fe" in out
    assert "source.config.page_size: must be at most 100, not 500" in out
    assert not (tmp_path / "state.duckdb").exists()
