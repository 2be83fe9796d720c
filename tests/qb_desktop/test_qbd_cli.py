"""`ledgerlink qbd qwc|hash-password|status`, and the shipped pipeline file."""

from __future__ import annotations

from importlib import resources

import pytest
from click.testing import CliRunner

from ledgerlink.cli import cli
from ledgerlink_qb_desktop.passwords import verify_password


@pytest.fixture(autouse=True)
def _plugin_commands():
    from ledgerlink.plugins import host

    if "qbd" not in cli.commands:
        host().add_commands(cli)  # as `ledgerlink` (cli.main) does


@pytest.fixture
def pipeline_file(tmp_path):
    path = tmp_path / "amazon-to-qbd.yaml"
    path.write_text(resources.files("ledgerlink").joinpath("data", "amazon-to-qbd.yaml").read_text())
    return path


def test_hash_password_prints_a_hash_never_the_password():
    result = CliRunner().invoke(cli, ["qbd", "hash-password", "--password", "hunter2-long"])
    assert result.exit_code == 0, result.output
    assert "hunter2-long" not in result.output and verify_password("hunter2-long", result.output.strip())


def test_qwc_file_has_the_web_connectors_fields(pipeline_file, reference_dir, tmp_path):
    from defusedxml import ElementTree as ET

    out = tmp_path / "ledgerlink.qwc"
    result = CliRunner().invoke(cli, ["qbd", "qwc", "--pipeline", str(pipeline_file), "--url",
                                      "https://books.example.com/qbwc", "--out", str(out)])
    assert result.exit_code == 0, result.output
    ours = ET.fromstring(out.read_text())
    assert ours.findtext("AppURL") == "https://books.example.com/qbwc/"
    assert ours.findtext("UserName") == "ledgerlink" and ours.findtext("OwnerID").startswith("{")
    assert ours.findtext("Scheduler/RunEveryNMinutes") == "15"
    intuit = ET.fromstring((reference_dir / "qbxml" / "qbwc" / "consolibyte-example.qwc").read_text())
    assert [e.tag for e in ours] == [e.tag for e in intuit]


def test_qwc_refuses_plain_http_except_for_localhost(pipeline_file):
    bad = CliRunner().invoke(cli, ["qbd", "qwc", "--pipeline", str(pipeline_file), "--url", "http://books.example.com/q"])
    assert bad.exit_code != 0 and "https" in bad.output
    ok = CliRunner().invoke(cli, ["qbd", "qwc", "--pipeline", str(pipeline_file), "--url", "http://127.0.0.1:8700/qbwc"])
    assert ok.exit_code == 0 and "<AppURL>http://127.0.0.1:8700/qbwc/</AppURL>" in ok.output


def test_status_warns_when_the_web_connector_never_called(pipeline_file, tmp_path, monkeypatch):
    from ledgerlink.pipeline import load_pipeline
    from ledgerlink.store import Store

    monkeypatch.setenv("LEDGERLINK_STATE", str(tmp_path / "s.duckdb"))
    state = load_pipeline(pipeline_file).state_path
    Store(state).close()
    result = CliRunner().invoke(cli, ["qbd", "status", str(pipeline_file), "--json"])
    assert result.exit_code == 0 and '"last_contact": null' in result.output


def test_quiet_web_connector_is_a_warning():
    from datetime import datetime, timedelta, timezone

    from ledgerlink_qb_desktop.status import describe_contact

    now = datetime.now(timezone.utc)
    old = (now - timedelta(days=2)).isoformat()
    assert "has not called for 48.0 hours" in describe_contact(old, 3, 86400, now)["warning"]
    assert describe_contact(now.isoformat(), 3, 86400, now)["warning"] is None
    assert "never called" in describe_contact(None, 1, 86400, now)["warning"]


def test_a_field_over_quickbooks_limit_is_a_record_error_before_queueing():
    from ledgerlink import OutboundRecord
    from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination

    dest = QuickBooksDesktopDestination()
    [too_long, fine, junk] = dest.write_batch("Customer", [
        OutboundRecord("Customer:a", "Customer", {"CustomerAdd": {"Name": "n" * 42}}),
        OutboundRecord("Customer:b", "Customer", {"CustomerAdd": {"Name": "Shop"}}),
        OutboundRecord("Customer:c", "Customer", {"VendorAdd": {"Name": "x"}})])
    assert not too_long.ok and "QuickBooks allows 41" in str(too_long.error) and too_long.error.field == "Name"
    assert fine.ok and fine.awaiting
    assert not junk.ok and "CustomerAdd" in str(junk.error)
