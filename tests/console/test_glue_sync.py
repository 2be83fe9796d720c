"""`ledgerlink sync` under review: the summary says how many documents await approval and where to look, and a
dry run lists held documents as awaiting approval, never as "would write"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fakes
import pytest
from click.testing import CliRunner

from ledgerlink import plugins
from ledgerlink.cli import cli


@pytest.fixture
def reviewed(tmp_path: Path, monkeypatch: Any) -> str:
    monkeypatch.setattr(plugins, "_host", fakes.fresh_host(tmp_path))
    path = tmp_path / "shop.yaml"
    path.write_text(f"name: shop\nstate: {tmp_path / 'shop.duckdb'}\nreview: always\n"
                    "source: {connector: fake_source, config: {orders: 3}}\n"
                    "destination: {connector: fake_dest, config: {}}\n")
    return str(path)


def test_the_summary_says_what_awaits_approval(reviewed):
    result = CliRunner().invoke(cli, ["sync", reviewed])
    assert result.exit_code == 0, result.output
    assert "awaiting approval" in result.output and "3 document(s) await approval" in result.output
    assert "ledgerlink review list" in result.output and fakes.REMOTE == {}


def test_a_dry_run_does_not_list_held_documents_as_would_write(reviewed):
    dry = CliRunner().invoke(cli, ["sync", reviewed, "--dry-run", "--json"])
    report = json.loads(dry.output)
    assert report["would_write"] == {}  # the receipts wait, and so does the customer only they need
    assert report["counts"]["awaiting_approval"] == 3
    text = CliRunner().invoke(cli, ["sync", reviewed, "--dry-run"])
    assert "awaiting approval (not written)" in text.output and "would write" not in text.output
    # nothing was kept: the real run still holds all three for review
    assert json.loads(CliRunner().invoke(cli, ["sync", reviewed, "--json"]).output)["counts"]["awaiting_approval"] == 3


def test_a_dry_run_writes_what_was_approved(reviewed):
    runner = CliRunner()
    runner.invoke(cli, ["sync", reviewed])
    assert runner.invoke(cli, ["review", "approve", reviewed, "O-0001", "--by", "ann"]).exit_code == 0
    report = json.loads(runner.invoke(cli, ["sync", reviewed, "--dry-run", "--json"]).output)
    assert report["would_write"]["Receipt"]["count"] == 1
    assert report["would_write"]["Receipt"]["examples"][0]["DocNumber"] == "O-0001"
    assert report["counts"]["awaiting_approval"] == 2
