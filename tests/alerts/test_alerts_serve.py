"""Alerts inside a served workspace: a run that ends with dead letters (or fails) is queued by the run's own
thread and sent by the alerts thread to a real webhook receiver, once, with the console link; a malformed
alerts.yaml stops `serve` with the key path (exit 2); the `ledgerlink alerts` commands test, list and send."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))

from alerts_helpers import WebhookReceiver, free_port, webhook_rules  # noqa: E402
from console_helpers import fakes, write_pipeline  # noqa: E402

from ledgerlink.cli import cli  # noqa: E402
from ledgerlink.console import Workspace  # noqa: E402
from ledgerlink.errors import ConfigError  # noqa: E402


def _workspace(tmp_path: Path, rules: dict[str, Any], clock: Any) -> Workspace:
    folder = tmp_path / "ws"
    folder.mkdir(exist_ok=True)
    write_pipeline(folder, "shop", no_sku=[1])
    (folder / "outlet.yaml").write_text(
        f"name: outlet\nstate: {folder / 'outlet.duckdb'}\n"
        "source: {connector: fake_source, config: {orders: 4, fail_after: 2}}\n"
        "destination: {connector: fake_dest, config: {}}\n")
    (folder / "alerts.yaml").write_text(yaml.safe_dump(rules))
    return Workspace.open(folder, fakes.fresh_host(tmp_path), every=None, debounce=0, announce=lambda line: None,
                          clock=clock)


def _wait(condition: Any, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_run_with_dead_letters_alerts_once_with_the_link(tmp_path, receiver, clock):
    ws = _workspace(tmp_path, webhook_rules(receiver.url), clock)
    try:
        ws.services["shop"]._run("test")  # synchronously: the run's end queues the event
        assert ws.alerts.outbox.counts()["waiting"] == 1
        assert ws.alerts.send_pending().sent == 1
        ws.services["shop"]._run("test again")  # the same backlog: no second alert
        assert ws.alerts.send_pending().sent == 0
    finally:
        ws.stop()
    assert len(receiver.delivered) == 1
    body = receiver.delivered[0].json()
    assert body["subject"] == "[ledgerlink] shop: 1 dead letter(s) open"
    assert body["url"] == "https://books.example.com/dead-letters?pipeline=shop"


def test_serve_s_threads_send_a_failed_run_by_themselves(tmp_path, receiver, clock):
    ws = _workspace(tmp_path, webhook_rules(receiver.url), clock)
    try:
        ws.start()
        ws.services["outlet"].trigger("test")
        assert _wait(lambda: any("outlet" in r.json()["subject"] for r in receiver.delivered))
    finally:
        ws.stop()
    outlet = [r.json() for r in receiver.delivered if "outlet" in r.json()["subject"]]
    assert len(outlet) == 1 and "failed" in outlet[0]["subject"]
    assert outlet[0]["events"][0]["url"] == "https://books.example.com/runs?pipeline=outlet"


def test_a_malformed_rules_file_stops_serve_with_the_key_path(tmp_path, clock):
    rules = webhook_rules("http://127.0.0.1:9/x")
    rules["rules"][0]["channels"] = ["opps"]
    try:
        _workspace(tmp_path, rules, clock)
        raise AssertionError("a malformed alerts.yaml must be refused")
    except ConfigError as exc:
        assert exc.where == "rules.0.channels.0" and "no channel named 'opps'" in str(exc)
    result = CliRunner().invoke(cli, ["serve", "--workspace", str(tmp_path / "ws"), "--port", str(free_port())])
    assert result.exit_code == 2, result.output
    assert "alerts.yaml: rules.0.channels.0: no channel named 'opps'" in result.output
    assert "Traceback" not in result.output


def test_cli_test_list_and_send_pending(tmp_path, clock):
    from ledgerlink.alerts import WorkspaceAlerts

    runner = CliRunner()
    with WebhookReceiver(clock=lambda: time.time()) as receiver:  # the CLI signs with the real clock
        folder = tmp_path / "ws"
        folder.mkdir()
        (folder / "alerts.yaml").write_text(yaml.safe_dump(webhook_rules(receiver.url)))
        sent = runner.invoke(cli, ["alerts", "test", "--workspace", str(folder)])
        assert sent.exit_code == 0, sent.output
        assert f"ops: test message sent ({receiver.url})" in sent.output
        assert len(receiver.delivered) == 1
        assert receiver.delivered[0].json()["url"] == "https://books.example.com/alerts"
        unknown = runner.invoke(cli, ["alerts", "test", "nope", "--workspace", str(folder)])
        assert unknown.exit_code == 2 and "no channel named 'nope'" in unknown.output

        # an event queued by serve (here: directly), then sent by the CLI; a second send-pending sends nothing
        from fake_services import FakeService

        engine = WorkspaceAlerts(folder)
        shop = FakeService()
        shop.fail_run(9, "boom")
        engine.evaluate([shop])
        engine.stop()
        listed = json.loads(runner.invoke(cli, ["alerts", "list", "--json", "--workspace", str(folder)]).output)
        assert listed["counts"]["waiting"] == 1 and listed["waiting"][0]["title"] == "shop: run 9 failed"
        first = runner.invoke(cli, ["alerts", "send-pending", "--workspace", str(folder)])
        assert first.exit_code == 0 and "sent 1," in first.output
        again = runner.invoke(cli, ["alerts", "send-pending", "--workspace", str(folder)])
        assert again.exit_code == 0 and "sent 0," in again.output
        assert len(receiver.delivered) == 2
        table = runner.invoke(cli, ["alerts", "list", "--workspace", str(folder)])
        assert table.exit_code == 0 and "0 message(s) pending, 1 sent, 0 failed" in table.output

        receiver.statuses.append(500)
        shop.fail_run(10, "bang")
        engine = WorkspaceAlerts(folder)
        engine.evaluate([shop])
        engine.stop()
        refused = runner.invoke(cli, ["alerts", "send-pending", "--workspace", str(folder)])
        assert refused.exit_code == 1 and "answered HTTP 500" in refused.output


def test_cli_malformed_rules_exit_2(tmp_path):
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "alerts.yaml").write_text("console_url: https://books.example.com\nchannels:\n  mail:\n"
                                        "    type: email\n    host: smtp.example.com\n    prot: 25\n")
    runner = CliRunner()
    for command in (["test"], ["send-pending"], ["list"]):
        result = runner.invoke(cli, ["alerts", *command, "--workspace", str(folder)])
        assert result.exit_code == 2, (command, result.output)
        assert "alerts.yaml: channels.mail.prot: unknown key 'prot'" in result.output
        assert "did you mean 'port'?" in result.output
    (folder / "alerts.yaml").write_text("console_url: [unclosed\n")
    result = runner.invoke(cli, ["alerts", "test", "--workspace", str(folder)])
    assert result.exit_code == 2 and "not valid YAML" in result.output
    missing = runner.invoke(cli, ["alerts", "send-pending", "--workspace", str(tmp_path)])
    assert missing.exit_code == 2 and "there are no alert rules" in missing.output


def test_documents_awaiting_review_alert_once_with_the_review_link(tmp_path, receiver, clock):
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "shop.yaml").write_text(
        f"name: shop\nstate: {folder / 'shop.duckdb'}\nreview: always\n"
        "source: {connector: fake_source, config: {orders: 4}}\ndestination: {connector: fake_dest, config: {}}\n")
    rules = webhook_rules(receiver.url)
    rules["rules"] = [{"events": ["review_waiting"], "channels": ["ops"], "review_waiting_above": 2}]
    (folder / "alerts.yaml").write_text(yaml.safe_dump(rules))
    ws = Workspace.open(folder, fakes.fresh_host(tmp_path), every=None, debounce=0, announce=lambda line: None,
                        clock=clock)
    try:
        ws.services["shop"]._run("test")
        ws.services["shop"]._run("again")
        assert ws.alerts.send_pending().sent == 1
    finally:
        ws.stop()
    body = receiver.delivered[0].json()
    assert body["subject"] == "[ledgerlink] shop: 4 document(s) await approval"
    assert body["url"] == "https://books.example.com/review?pipeline=shop"


def test_a_silent_web_connector_alerts_after_the_configured_minutes(tmp_path, receiver, clock):
    import datetime as dt
    from types import SimpleNamespace

    from ledgerlink.alerts import WorkspaceAlerts
    from ledgerlink.store import Store

    folder = tmp_path / "ws"
    folder.mkdir()
    rules = webhook_rules(receiver.url)
    rules["rules"] = [{"events": ["web_connector_silent"], "channels": ["ops"], "web_connector_silent_minutes": 60}]
    (folder / "alerts.yaml").write_text(yaml.safe_dump(rules))
    store = Store(tmp_path / "qbd.duckdb")
    try:
        # what the QuickBooks Desktop bridge records on each Web Connector call
        last_call = dt.datetime.fromtimestamp(clock.now, dt.timezone.utc).isoformat()
        store.references("qb_desktop").put("qbd:contact", "company-file-1", last_call)
        service = SimpleNamespace(pipeline=SimpleNamespace(name="qbd-sales"), store=store)
        alerts = WorkspaceAlerts(folder, clock=clock)
        clock.advance(59 * 60)
        assert alerts.evaluate([service]) == 0
        clock.advance(2 * 60)
        assert alerts.evaluate([service]) == 1
        clock.advance(3600)
        assert alerts.evaluate([service]) == 0  # still silent: the same episode
        alerts.send_pending()
        alerts.stop()
    finally:
        store.close()
    assert receiver.delivered[0].json()["subject"] == \
        "[ledgerlink] qbd-sales: the Web Connector has not called for 1.0 hours"
