"""`ledgerlink fleet`: registering tenants, schedules, triggers and status against a real Postgres."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ledgerlink.cli import cli

from fleet_helpers import write_workspace


def _run(*args: str, url: str | None = None):  # type: ignore[no-untyped-def]
    extra = ["--database-url", url] if url else []
    return CliRunner().invoke(cli, ["fleet", *args, *extra], catch_exceptions=False)


def test_tenants_are_registered_scheduled_triggered_and_reported(tmp_path, fleet_url, fleet_db):
    good = write_workspace(tmp_path, "acme", bc="http://127.0.0.1:9", store="s1", qbo="http://127.0.0.1:9",
                           realm="1")
    (good / "fleet.yaml").write_text("every: {default: 10m, bigcommerce-two-stores-a-to-qbo: 90s}\n")
    broken = write_workspace(tmp_path, "globex", bc="http://127.0.0.1:9", store="s2", qbo="http://127.0.0.1:9",
                             realm="2", broken_file=True)
    assert _run("init", url=fleet_url).exit_code == 0
    added = _run("add-tenant", "acme", "--workspace", str(good), url=fleet_url)
    assert added.exit_code == 0, added.output
    assert "acme: bigcommerce-two-stores-a-to-qbo every 90 s" in added.output
    added = _run("add-tenant", "globex", "--workspace", str(broken), url=fleet_url)
    assert added.exit_code == 0 and "cannot run" in added.output and "optionz" in added.output

    # one DBOS schedule per pipeline that can run; --every overrides (rounded to what cron can say)
    from ledgerlink.fleet.engine import fleet_client

    from ledgerlink.fleet import FleetDatabase

    client = fleet_client(FleetDatabase(fleet_url))
    try:
        schedules = {s["schedule_name"]: s["schedule"] for s in client.list_schedules()}
    finally:
        client.destroy()
    assert schedules == {"ledgerlink/acme/bigcommerce-two-stores-a-to-qbo": "0 */1 * * * *"}
    again = _run("schedule", "acme", "--every", "45s", url=fleet_url)
    assert again.exit_code == 0 and "every 30 s (*/30 * * * * *)" in again.output

    queued = _run("trigger", "acme", "bigcommerce-two-stores-a-to-qbo", url=fleet_url)
    assert queued.exit_code == 0 and queued.output.strip()
    rows = fleet_db.execute("SELECT queue_name, queue_partition_key, status FROM dbos.workflow_status "
                            "WHERE workflow_uuid = %s", (queued.output.strip(),))
    assert rows == [("ledgerlink-syncs", "acme", "ENQUEUED")]
    unknown = _run("trigger", "acme", "no-such-pipeline", url=fleet_url)
    assert unknown.exit_code == 1 and "has no pipeline 'no-such-pipeline'" in unknown.output

    shown = _run("status", "--json", url=fleet_url)
    assert shown.exit_code == 1  # globex has a problem
    report = {t["tenant"]: t for t in json.loads(shown.output)["tenants"]}
    assert report["acme"]["ok"] and report["acme"]["pipelines"][0]["next_run_at"]
    assert not report["globex"]["ok"] and "optionz" in report["globex"]["pipelines"][0]["problem"]
    table = _run("status", url=fleet_url)
    assert "globex" in table.output and "acme" in table.output

    assert _run("remove-tenant", "globex", url=fleet_url).exit_code == 0
    assert _run("status", url=fleet_url).exit_code == 0
    gone = _run("remove-tenant", "globex", url=fleet_url)
    assert gone.exit_code == 1 and "not registered" in gone.output


def test_commands_without_a_reachable_database_say_so(tmp_path, monkeypatch):
    monkeypatch.delenv("LEDGERLINK_FLEET_DATABASE_URL", raising=False)
    missing = _run("status")
    assert missing.exit_code == 1 and "no fleet database" in missing.output
    down = "postgresql://ledgerlink:secret-password@127.0.0.1:1/fleet"
    for args in (("status",), ("worker", "--max-seconds", "5"), ("trigger", "a", "b")):
        result = _run(*args, url=down)
        assert result.exit_code == 1, (args, result.output)
        assert "cannot reach the fleet database at postgresql://ledgerlink@127.0.0.1:1/fleet" in result.output
        assert "secret-password" not in result.output
    wrong = _run("status", url="mysql://x@y/z")
    assert wrong.exit_code == 1 and "must start with postgresql://" in wrong.output


def test_intervals_are_read_in_the_users_words():
    import pytest

    from ledgerlink.errors import ConfigError
    from ledgerlink.fleet import parse_every
    from ledgerlink.fleet.engine import sync_cron

    assert [parse_every(v) for v in ("30", "30s", "5m", "1.5h", "1d")] == [30, 30, 300, 5400, 86400]
    for bad in ("soon", "0", "-5m", True, "5 weeks"):
        with pytest.raises(ConfigError):
            parse_every(bad)
    assert sync_cron(45) == ("*/30 * * * * *", 30.0)
    assert sync_cron(900) == ("0 */15 * * * *", 900.0)
    assert sync_cron(7 * 3600) == ("0 0 */6 * * *", 6 * 3600.0)
    assert sync_cron(3 * 86400) == ("0 0 0 * * *", 86400.0)
