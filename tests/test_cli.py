"""The CLI over in-memory connectors: Airbyte-style commands, sync, dlq, runs, exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "runtime"))

import fakes  # noqa: E402

from ledgerlink import plugins  # noqa: E402
from ledgerlink.cli import cli  # noqa: E402

PIPELINE = """
name: shop
state: {state}
source:
  connector: fake_source
  config: {{orders: 4, no_sku: [1], api_key: "${{SHOP_KEY:-super-secret-key}}"}}
destination:
  connector: fake_dest
  config: {{}}
"""


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setattr(plugins, "_host", fakes.fresh_host(tmp_path))
    monkeypatch.chdir(tmp_path)
    return CliRunner()


@pytest.fixture
def pipeline_file(tmp_path):
    p = tmp_path / "shop.yaml"
    p.write_text(PIPELINE.format(state=tmp_path / "shop.duckdb"))
    return str(p)


def lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_spec_is_an_airbyte_spec_message(runner):
    result = runner.invoke(cli, ["spec", "fake_source"])
    assert result.exit_code == 0, result.output
    [msg] = lines(result.output)
    assert msg["type"] == "SPEC"
    assert msg["spec"]["connectionSpecification"]["properties"]["api_key"]["airbyte_secret"] is True


def test_read_emits_records_and_state(runner, tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"orders": 3}))
    result = runner.invoke(cli, ["read", "fake_source", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    msgs = lines(result.output)
    assert sum(m["type"] == "RECORD" for m in msgs) == 6
    states = [m for m in msgs if m["type"] == "STATE" and m["state"]["stream"]["stream_descriptor"]["name"] == "orders"]
    assert states[-1]["state"]["stream"]["stream_state"] == {"updated": "2026-01-03T00:00:00Z"}


def test_read_with_bad_config_is_a_trace_error(runner, tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"orders": "many"}))
    result = runner.invoke(cli, ["read", "fake_source", "--config", str(cfg)])
    assert result.exit_code == 1
    [msg] = lines(result.output)
    assert msg["type"] == "TRACE" and msg["trace"]["error"]["failure_type"] == "config_error"
    assert "config.orders" in msg["trace"]["error"]["message"]


def test_discover_destination_is_a_destination_catalog(runner, tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text("{}")
    result = runner.invoke(cli, ["discover", "fake_dest", "--config", str(cfg)])
    [msg] = lines(result.output)
    assert msg["type"] == "DESTINATION_CATALOG"
    assert {o["object_name"] for o in msg["destination_catalog"]["operations"]} == {"Customer", "Receipt"}


def test_write_reads_stdin_and_echoes_state(runner, tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text("{}")
    stdin = "\n".join([
        json.dumps({"type": "RECORD", "record": {"stream": "Customer", "data": {"DisplayName": "A"}, "emitted_at": 1}}),
        json.dumps({"type": "STATE", "state": {"type": "LEGACY", "data": {"n": 1}}}),
    ])
    result = runner.invoke(cli, ["write", "fake_dest", "--config", str(cfg)], input=stdin)
    assert result.exit_code == 0, result.output
    assert [m["type"] for m in lines(result.output)] == ["STATE"]
    assert "A" in fakes.REMOTE["Customer"]


def test_write_exits_3_naming_each_record_it_could_not_write(runner, tmp_path):
    """A record the destination refuses fails `ledgerlink write` (exit 3) as it fails a connector process: a TRACE
    error naming the record (by the destination's matching key), the field and what to do, the same on stderr,
    no STATE after it; the records around it are written."""
    cfg = tmp_path / "cfg.json"
    cfg.write_text("{}")

    def customer(name: str, key: str) -> str:
        return json.dumps({"type": "RECORD", "record": {"stream": "Customer", "emitted_at": 1,
                                                         "data": {"DisplayName": name, "_ledgerlink_key": key}}})

    def state(n: int) -> str:
        return json.dumps({"type": "STATE", "state": {"type": "LEGACY", "data": {"n": n}}})

    fakes.FAILURES["k-long"] = "field"
    stdin = "\n".join([customer("Ann", "k-ann"), state(1), customer("Too Long Name", "k-long"),
                       customer("Bob", "k-bob"), state(2)])
    result = runner.invoke(cli, ["write", "fake_dest", "--config", str(cfg)], input=stdin)
    assert result.exit_code == 3, result.output
    messages = lines(result.stdout)
    assert [m["state"]["data"] for m in messages if m["type"] == "STATE"] == [{"n": 1}]  # none past the failure
    [error] = [m["trace"]["error"] for m in messages if m["type"] == "TRACE"]
    assert error["failure_type"] == "config_error" and error["stream_descriptor"] == {"name": "Customer"}
    words = error["message"]
    assert words.startswith("ledgerlink write fake_dest: the Customer record DisplayName='Too Long Name' was not written")
    assert "field 'DisplayName'" in words and "shorten DisplayName to 100 characters" in words
    assert "1 record(s) were not written" in result.stderr and words in result.stderr
    assert "Traceback" not in result.stderr
    assert set(fakes.REMOTE["Customer"]) == {"Ann", "Bob"}


def test_sync_json_and_exit_code_with_dead_letters(runner, pipeline_file):
    result = runner.invoke(cli, ["sync", pipeline_file, "--json"])
    assert result.exit_code == 3, result.output  # finished, with a dead letter to look at
    report = json.loads(result.output)
    assert report["counts"]["created"] == {"Customer": 1, "Receipt": 3}
    assert "super-secret-key" not in result.output


def test_sync_reports_config_errors_with_exit_2(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: shop\nsource: {connector: fake_source, config: {orders: -x}}\ndestination: {connector: nope}\n")
    result = runner.invoke(cli, ["sync", str(bad)])
    assert result.exit_code == 2
    assert "no connector named 'nope'" in result.output or "source.config.orders" in result.output


def test_dlq_list_show_retry_discard(runner, pipeline_file):
    runner.invoke(cli, ["sync", pipeline_file])
    listed = json.loads(runner.invoke(cli, ["dlq", "list", pipeline_file, "--json"]).output)
    assert [(d["stage"], d["record_key"]) for d in listed] == [("normalise", "O-0001")]
    letter_id = str(listed[0]["id"])
    shown = runner.invoke(cli, ["dlq", "show", pipeline_file, letter_id])
    assert "order line has no SKU" in shown.output and "give the product a SKU" in shown.output
    retried = runner.invoke(cli, ["dlq", "retry", pipeline_file, letter_id])
    assert "normalised again" in retried.output
    again = json.loads(runner.invoke(cli, ["sync", pipeline_file, "--json"]).output)
    assert again["counts"]["normalise_dead_letters"] == 1  # still broken at the source: filed again
    listed = json.loads(runner.invoke(cli, ["dlq", "list", pipeline_file, "--json"]).output)
    discarded = runner.invoke(cli, ["dlq", "discard", pipeline_file, str(listed[0]["id"])])
    assert "discarded" in discarded.output
    assert json.loads(runner.invoke(cli, ["dlq", "list", pipeline_file, "--json"]).output) == []


def test_runs_history(runner, pipeline_file):
    runner.invoke(cli, ["sync", pipeline_file])
    runner.invoke(cli, ["sync", pipeline_file])
    history = json.loads(runner.invoke(cli, ["runs", pipeline_file, "--json"]).output)
    assert [r["id"] for r in history] == [2, 1]
    assert history[1]["counts"]["read_total"] == 8 and history[0]["counts"]["read_total"] == 0
    assert set(history[0]["timings"]) >= {"read_s", "normalise_plan_s", "write_s"}


def test_trace_command(runner, pipeline_file):
    runner.invoke(cli, ["sync", pipeline_file])
    out = json.loads(runner.invoke(cli, ["trace", pipeline_file, "orders", "O-0002", "--json"]).output)
    assert out[0]["key"] == "Receipt:fake/order/O-0002" and out[0]["status"] == "done"


def test_dry_run_prints_what_would_be_written(runner, pipeline_file):
    result = runner.invoke(cli, ["sync", pipeline_file, "--dry-run", "--json"])
    report = json.loads(result.output)
    assert report["would_write"]["Receipt"]["count"] == 3 and fakes.REMOTE == {}


def test_role_picks_the_source_or_the_destination_of_one_name(tmp_path, monkeypatch):
    """bigcommerce is both: spec/check/discover need --role; read and write imply it."""
    monkeypatch.setattr(plugins, "_host", None)  # the real, installed plugins
    cli_runner = CliRunner()
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"store_hash": "abc123", "access_token": "t"}))
    ambiguous = cli_runner.invoke(cli, ["discover", "bigcommerce", "--config", str(cfg)])
    [msg] = lines(ambiguous.output)
    assert ambiguous.exit_code == 1 and "both a source and a destination" in msg["trace"]["error"]["message"]
    as_dest = cli_runner.invoke(cli, ["discover", "bigcommerce", "--role", "destination", "--config", str(cfg)])
    [msg] = lines(as_dest.output)
    assert msg["type"] == "DESTINATION_CATALOG", as_dest.output
    as_source = cli_runner.invoke(cli, ["discover", "bigcommerce", "--role", "source", "--config", str(cfg)])
    [msg] = lines(as_source.output)
    assert msg["type"] == "CATALOG" and any(s["name"] == "orders" for s in msg["catalog"]["streams"])


def test_demo_runs_only_the_steps_asked_for_and_names_the_known_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    unknown = CliRunner().invoke(cli, ["demo", "--steps", "nope"])
    assert unknown.exit_code != 0 and "no demo step nope" in unknown.output and "order_to_cash" in unknown.output
    some = CliRunner().invoke(cli, ["demo", "--steps", "inventory, reconcile", "--json"])
    assert some.exit_code == 0, some.output
    out = json.loads(some.stdout)
    assert [s["name"] for s in out["steps"]] == ["inventory", "reconcile"]
    assert out["steps"][1]["figures"] == {"bigcommerce-inventory-to-qbo": "everything ties"}


def test_demo_with_few_orders_says_the_sandbox_has_no_refunds_rather_than_failing(tmp_path, monkeypatch):
    """Five orders seed no refund and no customer return: the returns step posts nothing and says why."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["demo", "--orders", "5", "--steps", "returns", "--json"])
    assert result.exit_code == 0, result.output
    [step] = json.loads(result.stdout)["steps"]
    assert step["figures"]["credit_memos"] == 0 and step["figures"]["second_sync_created"] == 0
    assert any("no refund among 5 orders: try more --orders" in n for n in step["notes"]), step["notes"]


def test_check_a_pipeline_side_with_its_stored_credentials(runner, pipeline_file):
    source = runner.invoke(cli, ["check", "--pipeline", pipeline_file])
    assert source.exit_code == 0, source.output
    assert lines(source.output)[0]["connectionStatus"]["status"] == "SUCCEEDED"
    dest = runner.invoke(cli, ["check", "--pipeline", pipeline_file, "--role", "destination"])
    assert lines(dest.output)[0]["type"] == "CONNECTION_STATUS"
    wrong = runner.invoke(cli, ["check", "fake_dest", "--pipeline", pipeline_file])
    assert wrong.exit_code == 2 and "the pipeline's source is 'fake_source'" in wrong.output


def test_check_needs_exactly_one_of_config_and_pipeline(runner, pipeline_file, tmp_path):
    neither = runner.invoke(cli, ["check", "fake_source"])
    assert neither.exit_code == 2 and "--config FILE" in neither.output
    cfg = tmp_path / "c.json"
    cfg.write_text("{}")
    both = runner.invoke(cli, ["check", "fake_source", "--config", str(cfg), "--pipeline", pipeline_file])
    assert both.exit_code == 2
    no_connector = runner.invoke(cli, ["check", "--config", str(cfg)])
    assert no_connector.exit_code == 2 and "CONNECTOR is required" in no_connector.output
