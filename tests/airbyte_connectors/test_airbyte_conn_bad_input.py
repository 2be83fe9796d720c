"""Bad input to a connector process: a clear TRACE error message on stdout (what Airbyte shows the user), the
same words on stderr, a non-zero exit (2 for a wrong command line, 1 for a failed command), never a traceback
and never a half-done write. `check` with a bad config answers CONNECTION_STATUS FAILED, as Airbyte expects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airbyte_conn_helpers import ProtocolSchema, amazon_config, configured_catalog, qbo_config, run_entry, write_json
from sandbox_helpers import sandbox_running


def only_error(run, code: int) -> dict:
    """The run exited `code` after exactly one TRACE error (and nothing else a platform would act on)."""
    assert run.code == code, (run.code, run.messages, run.stderr)
    assert len(run.errors) == 1, run.messages
    assert not run.of("RECORD") and "Traceback" not in run.stderr
    assert run.errors[0]["message"] in run.stderr
    return run.errors[0]


@pytest.mark.parametrize("args, words", [
    (["bogus"], "No such command 'bogus'"),
    ([], "no command given; use one of spec, check, discover, read"),
    (["write", "--config", "c.json", "--catalog", "k.json"], "No such command 'write'"),
    (["check"], "Missing option '--config'"),
    (["read", "--config", "c.json"], "Missing option '--catalog'"),
    (["spec", "--bogus"], "No such option '--bogus'"),
])
def test_a_wrong_command_line_is_a_trace_error_and_exit_2(args, words, protocol_schema: ProtocolSchema):
    error = only_error(run_entry(protocol_schema, "source-ledgerlink-amazon-sp", *args), 2)
    assert words in error["message"] and error["failure_type"] == "config_error"
    assert error["message"].startswith("source-ledgerlink-amazon-sp: ")


def test_a_destination_has_no_read(protocol_schema: ProtocolSchema):
    error = only_error(run_entry(protocol_schema, "destination-ledgerlink-qbo", "read", "--config", "c.json",
                                 "--catalog", "k.json"), 2)
    assert "No such command 'read'" in error["message"]


def test_a_bad_config_names_the_field(protocol_schema: ProtocolSchema, tmp_path: Path):
    config = amazon_config("http://127.0.0.1:9")
    del config["refresh_token"]
    config["marketplace_ids"] = "ATVPDKIKX0DER"  # a list is expected
    path = write_json(tmp_path / "config.json", config)
    catalog = write_json(tmp_path / "catalog.json", configured_catalog([{
        "name": "orders", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}]))
    error = only_error(run_entry(protocol_schema, "source-ledgerlink-amazon-sp", "read", "--config", path,
                                 "--catalog", catalog), 1)
    assert error["failure_type"] == "config_error"
    assert "config.refresh_token" in error["message"] and "config.marketplace_ids" in error["message"]
    assert config["client_secret"] not in json.dumps(error)
    # check answers as Airbyte's own connectors do: a FAILED status naming the field, exit 0
    check = run_entry(protocol_schema, "source-ledgerlink-amazon-sp", "check", "--config", path)
    assert check.code == 0 and not check.errors
    status = check.of("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED" and "config.refresh_token" in status["message"]


def test_a_config_that_is_not_json_names_the_file(protocol_schema: ProtocolSchema, tmp_path: Path):
    (tmp_path / "config.json").write_text("{not json")
    error = only_error(run_entry(protocol_schema, "source-ledgerlink-files", "discover", "--config",
                                 str(tmp_path / "config.json")), 1)
    assert "config.json is not valid JSON" in error["message"] and error["failure_type"] == "config_error"


def test_a_config_missing_a_required_field_fails_discover(protocol_schema: ProtocolSchema, tmp_path: Path):
    path = write_json(tmp_path / "config.json", {"stream": []})
    error = only_error(run_entry(protocol_schema, "source-ledgerlink-files", "discover", "--config", path), 1)
    assert "config.stream: unknown key 'stream' (did you mean 'streams'?)" in error["message"]


def test_a_catalog_naming_an_unknown_stream_reads_nothing(protocol_schema: ProtocolSchema, tmp_path: Path):
    with sandbox_running("amazon_sp", orders=3) as (url, sb):
        config = write_json(tmp_path / "config.json", amazon_config(url))
        catalog = write_json(tmp_path / "catalog.json", configured_catalog([
            {"name": "orders", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
            {"name": "shipmnets", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}]))
        run = run_entry(protocol_schema, "source-ledgerlink-amazon-sp", "read", "--config", config,
                        "--catalog", catalog)
        calls = len(sb.api.calls)
    error = only_error(run, 1)
    assert "'shipmnets'" in error["message"] and "orders" in error["message"]
    assert error["failure_type"] == "config_error" and not run.of("STATE")
    assert calls == 0, "nothing is read before the catalog is known to be good"


def record(stream: str, data: dict) -> str:
    return json.dumps({"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 1}})


CUSTOMERS = [record("Customer", {"DisplayName": f"Airbyte Buyer {n}"}) for n in (1, 2)]


@pytest.mark.parametrize("bad, words", [
    ("{not json", "stdin line 3 is not an Airbyte protocol message"),
    ('{"type": "RECORD"}', "stdin line 3 is not an Airbyte protocol message: a RECORD message without its `record`"),
    ('["RECORD"]', "stdin line 3 is not an Airbyte protocol message"),
    (record("Invoicez", {"DocNumber": "1"}), "cannot write stream 'Invoicez'"),
])
def test_a_malformed_stdin_line_stops_write_and_a_fixed_rerun_posts_once(bad, words,
                                                                          protocol_schema: ProtocolSchema,
                                                                          tmp_path: Path):
    catalog = write_json(tmp_path / "catalog.json", configured_catalog(
        [{"name": "Customer", "json_schema": {"type": "object"}, "supported_sync_modes": ["full_refresh"]}],
        destination_sync_mode="append_dedup"))
    with sandbox_running("qbo") as (url, sb):
        config = write_json(tmp_path / "config.json", qbo_config(url, sb))
        run = run_entry(protocol_schema, "destination-ledgerlink-qbo", "write", "--config", config,
                        "--catalog", catalog, stdin="\n".join([*CUSTOMERS, bad, *CUSTOMERS]) + "\n")
        error = only_error(run, 1)
        assert words in error["message"], error
        fixed = run_entry(protocol_schema, "destination-ledgerlink-qbo", "write", "--config", config,
                          "--catalog", catalog, stdin="\n".join(CUSTOMERS) + "\n")
        assert fixed.code == 0 and not fixed.errors, fixed.messages
        names = [c["DisplayName"] for c in sb.company.entities["Customer"].values()]
    assert sorted(n for n in names if n.startswith("Airbyte Buyer")) == ["Airbyte Buyer 1", "Airbyte Buyer 2"]
