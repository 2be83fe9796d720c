"""The CLI's answers when something is wrong: one clear error with the right exit code, never a misleading line.

Each test here failed before issue 14: a stream the destination cannot write, a held settlement and the
settlement list, dead-letter ids that do not exist, skipped reconcile checks said to tie, a port in use, the
literal word PIPELINE in a hint, a missing-item hint naming an option that does nothing, an unreachable
endpoint without its URL or side."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "runtime"))
sys.path.insert(0, str(Path(__file__).parent / "settlements"))

import fakes  # noqa: E402

from ledgerlink import plugins  # noqa: E402
from ledgerlink.cli import cli  # noqa: E402

PIPELINE = """
name: shop
state: {state}
source:
  connector: fake_source
  config: {{orders: 4, no_sku: [1]}}
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


@pytest.fixture
def synced(runner, pipeline_file):
    """The fake pipeline after one sync: order O-0001 has no SKU, so one dead letter is open."""
    result = runner.invoke(cli, ["sync", pipeline_file])
    assert result.exit_code == 3, result.output
    return pipeline_file


def _record(stream: str, data: dict) -> str:
    return json.dumps({"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 1}})


# ------------------------------------------------------------------------------------------- read | write

def test_write_of_a_stream_the_destination_cannot_write_is_one_error_naming_it(runner, tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text("{}")
    stdin = "\n".join(_record("orders", {"id": f"O-{i}"}) for i in range(300))
    result = runner.invoke(cli, ["write", "fake_dest", "--config", str(cfg)], input=stdin)
    assert result.exit_code != 0
    traces = [json.loads(line) for line in result.stdout.splitlines() if '"TRACE"' in line]
    assert len(traces) == 1 and traces[0]["trace"]["error"]["failure_type"] == "config_error"
    message = traces[0]["trace"]["error"]["message"]
    assert "'orders'" in message and "Customer, Receipt" in message
    assert '"LOG"' not in result.stdout and not fakes.REMOTE.get("orders")
    assert result.stderr.count("error:") == 1 and "cannot write stream 'orders'" in result.stderr


def test_write_checks_the_catalog_before_reading_stdin(runner, tmp_path):
    cfg, catalog = tmp_path / "cfg.json", tmp_path / "catalog.json"
    cfg.write_text("{}")
    catalog.write_text(json.dumps({"streams": [{"stream": {"name": "Invoice", "json_schema": {}},
                                                "sync_mode": "full_refresh", "destination_sync_mode": "append"}]}))
    result = runner.invoke(cli, ["write", "fake_dest", "--config", str(cfg), "--catalog", str(catalog)],
                           input=_record("Customer", {"DisplayName": "A"}))
    assert result.exit_code != 0 and "'Invoice'" in result.stderr and not fakes.REMOTE.get("Customer")


def test_write_names_the_stdin_line_that_is_not_a_message(runner, tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text("{}")
    stdin = _record("Customer", {"DisplayName": "A"}) + "\nthis is not json\n"
    result = runner.invoke(cli, ["write", "fake_dest", "--config", str(cfg)], input=stdin)
    assert result.exit_code == 1 and "stdin line 2" in result.stderr
    assert "Traceback" not in result.output


# ------------------------------------------------------------------------------------------- settlements

@pytest.fixture
def settlement_state(tmp_path):
    """A state file with a posted settlement, a planned one, one held at planning and one held while
    normalising (keyed by the report's own id, as the runtime keys a record that could not be normalised)."""
    from settlement_helpers import PlanCtx, line, order_rows, settlement

    from ledgerlink.settlements import SettlementOnHold
    from ledgerlink.store import Store
    from ledgerlink_qbo.destination import QuickBooksOnlineDestination

    def one(sid, total=None, start="2025-08-25", end="2025-09-08"):
        return settlement([*order_rows(1, "111-1", "20.00", posted=start),
                           line(5, "other-transaction", "other-transaction", "Storage Fee", "-7.00", posted=start)],
                          start=start, end=end, sid=sid, total=total)

    path = tmp_path / "state.duckdb"
    store = Store(path)
    run = store.runs.start("amazon-settlements-to-qbo", False)
    posted = store.outbox.add("qbo", QuickBooksOnlineDestination().plan(one("100", start="2025-07-01",
                                                                            end="2025-07-14"), PlanCtx()), run)
    assert posted.new
    for key, status in store.db.fetchall("SELECT key, status FROM outbox"):
        store.db.execute("UPDATE outbox SET status = 'done' WHERE key = ?", [key])
    store.outbox.add("qbo", QuickBooksOnlineDestination().plan(one("200", start="2025-08-01", end="2025-08-14"),
                                                               PlanCtx()), run)
    held = one("300", total="1.00")
    with pytest.raises(SettlementOnHold) as exc:
        QuickBooksOnlineDestination().plan(held, PlanCtx())
    store.dead_letters.add(stage="plan", stream="settlements", record_key=held.natural_key,
                           record=json.loads(held.model_dump_json()), error=exc.value, run_id=run)
    store.dead_letters.add(stage="normalise", stream="settlements", record_key="400", record={"settlement_id": "400"},
                           error=SettlementOnHold("400", ["the rows add up to 13.00, total-amount is 12.00"]),
                           run_id=run)
    store.close()
    return str(path)


def test_show_of_a_settlement_held_while_normalising_says_why(settlement_state):
    result = CliRunner().invoke(cli, ["settlements", "show", settlement_state, "400"])
    assert result.exit_code == 3, result.output
    assert "on hold" in result.output and "total-amount is 12.00" in result.output
    assert "has not been planned" not in result.output


def test_settlements_list_names_each_id_period_total_and_status(settlement_state):
    result = CliRunner().invoke(cli, ["settlements", "list", settlement_state, "--json"])
    assert result.exit_code == 0, result.output
    found = {s["settlement_id"]: s for s in json.loads(result.output)}
    assert {k: v["status"] for k, v in found.items()} == {"100": "posted", "200": "planned", "300": "held",
                                                          "400": "held"}
    assert found["300"]["start"] == "2025-08-25" and found["300"]["end"] == "2025-09-08"
    assert found["300"]["total"] == "1.00" and found["300"]["dead_letter"] is not None
    table = CliRunner().invoke(cli, ["settlements", "list", settlement_state], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "held (dead letter" in table.output and "posted" in table.output
    assert f"ledgerlink settlements show {settlement_state} ID" in table.output


def test_settlements_list_of_a_state_without_settlements_says_so(runner, synced):
    result = runner.invoke(cli, ["settlements", "list", synced])
    assert result.exit_code == 0 and "no settlements" in result.output


# ------------------------------------------------------------------------------------------- dlq

def test_dlq_retry_without_ids_is_a_usage_error(runner, synced):
    result = runner.invoke(cli, ["dlq", "retry", synced])
    assert result.exit_code == 2 and "--all" in result.output
    assert runner.invoke(cli, ["dlq", "retry", synced, "--all"]).exit_code == 0


@pytest.mark.parametrize("command", [["discard"], ["retry"], ["show"]])
def test_dlq_unknown_id_is_an_error_naming_it(runner, synced, command):
    result = runner.invoke(cli, ["dlq", *command, synced, "987654"])
    assert result.exit_code == 2, result.output
    assert "no dead letter 987654" in result.output


def test_dlq_discard_with_one_unknown_id_changes_nothing(runner, synced):
    [letter] = json.loads(runner.invoke(cli, ["dlq", "list", synced, "--json"]).output)
    result = runner.invoke(cli, ["dlq", "discard", synced, str(letter["id"]), "987654"])
    assert result.exit_code == 2 and "987654" in result.output
    assert [d["status"] for d in json.loads(runner.invoke(cli, ["dlq", "list", synced, "--json"]).output)] == ["open"]


# ------------------------------------------------------------------------------------------- reconcile, sync

def test_reconcile_headline_never_counts_a_skipped_check_as_tying(runner, synced):
    fakes.REMOTE.clear()
    runner.invoke(cli, ["dlq", "discard", synced, "1"])
    result = runner.invoke(cli, ["reconcile", synced, "--offline"])
    report = json.loads(runner.invoke(cli, ["reconcile", synced, "--offline", "--json"]).output)
    assert report["skipped"], "the fake pipeline reads no settlements: some check is skipped"
    headline = next(line for line in result.output.splitlines() if line.startswith("shop:"))
    tying = headline.split("skipped")[0]
    for name in report["skipped"]:
        assert name not in tying
        assert f"skipped {name}: {report['skipped'][name]}" in result.output


def test_sync_summary_names_the_pipeline_file_in_its_hint(runner, pipeline_file):
    result = runner.invoke(cli, ["sync", pipeline_file], env={"COLUMNS": "300"})
    assert result.exit_code == 3
    assert f"ledgerlink dlq list {pipeline_file}" in result.output and " PIPELINE" not in result.output


# ------------------------------------------------------------------------------------------- ports

@pytest.fixture
def busy_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_serve_on_a_port_in_use_is_a_clear_usage_error(runner, pipeline_file, busy_port):
    result = runner.invoke(cli, ["serve", pipeline_file, "--port", str(busy_port)])
    assert result.exit_code == 2, result.output
    assert f"port {busy_port} is in use" in result.output and "Traceback" not in result.output


def test_sandbox_on_a_port_in_use_is_a_clear_usage_error(busy_port):
    result = CliRunner().invoke(cli, ["sandbox", "qbo", "--port", str(busy_port)])
    assert result.exit_code == 2, result.output
    assert f"sandbox qbo: port {busy_port} is in use" in result.output


# ------------------------------------------------------------------------------------------- hints

def test_missing_item_hint_names_create_items_when_that_is_what_is_off():
    from ledgerlink.errors import RecordError
    from ledgerlink.posting import OrderPostingOptions
    from ledgerlink.posting.items import item_for

    off = OrderPostingOptions.model_validate({"create_items": False, "items": {"match": "sku_map"}})
    with pytest.raises(RecordError) as err:
        item_for("CUP-1", off)
    assert "create_items: true" in err.value.hint and "unmatched" not in err.value.hint
    dead = OrderPostingOptions.model_validate({"items": {"match": "sku_map", "unmatched": "dead_letter"}})
    with pytest.raises(RecordError) as err:
        item_for("CUP-1", dead)
    assert "items.unmatched: create" in err.value.hint and "create_items" not in err.value.hint
    assert "destination.options.items.sku_map" in err.value.hint


def test_an_unreachable_endpoint_names_its_url_and_the_reason():
    from ledgerlink.errors import TransientError
    from ledgerlink.http import HttpClient, RetryPolicy

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client = HttpClient("http://127.0.0.1:9/api", transport=httpx.MockTransport(refuse),
                        retry=RetryPolicy(max_attempts=1), sleep=lambda s: None)
    with pytest.raises(TransientError) as err:
        client.get("/v1/orders", operation="getOrders")
    assert "could not reach http://127.0.0.1:9/api/v1/orders: connection refused" in str(err.value)
    assert err.value.hint


def test_a_sync_whose_remotes_are_down_says_which_side_could_not_reach_which_url(tmp_path, monkeypatch):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    repo = Path(__file__).resolve().parents[1]
    pipeline = tmp_path / "amazon-to-qbo.yaml"
    pipeline.write_text((repo / "specs" / "pipelines" / "amazon-to-qbo.yaml").read_text())
    for var in ("AMAZON_SP_ENDPOINT", "QBO_BASE_URL"):
        monkeypatch.setenv(var, f"http://127.0.0.1:{dead}")
    monkeypatch.setenv("AMAZON_LWA_ENDPOINT", f"http://127.0.0.1:{dead}/auth/o2/token")
    monkeypatch.setenv("QBO_TOKEN_URL", f"http://127.0.0.1:{dead}/oauth2/v1/tokens/bearer")
    monkeypatch.setenv("LEDGERLINK_STATE", str(tmp_path / "state.duckdb"))
    runner = CliRunner()
    result = runner.invoke(cli, ["sync", str(pipeline)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (f"destination qbo: token refresh: could not reach http://127.0.0.1:{dead}/oauth2/v1/tokens/bearer: "
            "connection refused") in result.stderr
    [run] = json.loads(runner.invoke(cli, ["runs", str(pipeline), "--json"]).output)
    assert f"source amazon_sp: token refresh: could not reach http://127.0.0.1:{dead}/auth/o2/token" in run["error"]
