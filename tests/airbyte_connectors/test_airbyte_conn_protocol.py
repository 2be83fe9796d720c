"""Every entry point speaks the Airbyte protocol: the console scripts are installed and print their SPEC, and
check, discover, read (sources) answer against the sandboxes; every line on stdout is one message that
validates against Airbyte's own protocol schema (../shared/reference/airbyte-protocol)."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import jsonschema
import pytest

from airbyte_conn_helpers import (
    TIMEOUT_S, ProtocolSchema, amazon_config, bigcommerce_config, configured_catalog, qbo_config, run_entry,
    script_path, write_json,
)
from ledgerlink.cli.airbyte_processes import ENTRY_POINTS
from sandbox_helpers import sandbox_running


@pytest.mark.slow
def test_every_entry_point_is_an_installed_console_script_that_prints_its_spec(protocol_schema: ProtocolSchema):
    # all at once (each process pays ledgerlink's import), each bounded in time
    procs = {e.command: subprocess.Popen([script_path(e.command), "spec"], stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True) for e in ENTRY_POINTS}
    for command, proc in procs.items():
        out, err = proc.communicate(timeout=TIMEOUT_S)
        assert proc.returncode == 0, (command, err)
        lines = out.splitlines()
        assert len(lines) == 1, (command, lines)
        message = json.loads(lines[0])
        protocol_schema.check(message)
        assert message["type"] == "SPEC", command
        # the connection form Airbyte renders is itself a valid JSON Schema
        jsonschema.Draft7Validator.check_schema(message["spec"]["connectionSpecification"])


def test_the_spec_is_the_connector_commands_own(protocol_schema: ProtocolSchema):
    from ledgerlink.plugins import host

    for entry in ENTRY_POINTS:
        run = run_entry(protocol_schema, entry.command, "spec")
        assert run.code == 0, run.stderr
        own = host().connector(entry.connector, entry.role)().spec()
        assert run.of("SPEC")[0]["spec"]["connectionSpecification"] == json.loads(
            own.model_dump_json(by_alias=True, exclude_none=True))["connectionSpecification"]


SANDBOX_SOURCES = {
    # entry point: (sandbox, config builder, sandbox options, streams to read)
    "source-ledgerlink-amazon-sp": ("amazon_sp", amazon_config, {"orders": 6}, ["orders", "order_items"]),
    "source-ledgerlink-bigcommerce": ("bigcommerce", bigcommerce_config, {"orders": 6}, ["orders", "products"]),
    "source-ledgerlink-qbo": ("qbo", None, {}, ["customers", "items"]),
}


@pytest.mark.parametrize("command", sorted(SANDBOX_SOURCES))
def test_a_source_checks_discovers_and_reads_its_sandbox(command: str, protocol_schema: ProtocolSchema,
                                                       tmp_path: Path):
    sandbox, make, options, streams = SANDBOX_SOURCES[command]
    with sandbox_running(sandbox, **options) as (url, sb):
        config = write_json(tmp_path / "config.json", make(url) if make else qbo_config(url, sb))
        check = run_entry(protocol_schema, command, "check", "--config", config)
        assert check.code == 0 and check.of("CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "SUCCEEDED", \
            check.messages
        discover = run_entry(protocol_schema, command, "discover", "--config", config)
        assert discover.code == 0, discover.stderr
        catalog = discover.of("CATALOG")[0]["catalog"]
        chosen = [s for s in catalog["streams"] if s["name"] in streams]
        assert {s["name"] for s in chosen} == set(streams)
        catalog_path = write_json(tmp_path / "catalog.json", configured_catalog(chosen, "incremental"))
        read = run_entry(protocol_schema, command, "read", "--config", config, "--catalog", catalog_path)
        assert read.code == 0, (read.stderr, read.errors)
        # the STATE printed is what the next read takes back (`--state`)
        state_path = write_json(tmp_path / "state.json", [m["state"] for m in read.of("STATE")])
        again = run_entry(protocol_schema, command, "read", "--config", config, "--catalog", catalog_path,
                          "--state", state_path)
    for stream in streams:
        assert read.records(stream), f"{command} read no {stream}"
    assert {m["record"]["stream"] for m in read.of("RECORD")} <= set(streams)
    assert read.of("STATE"), "a read ends with the STATE that resumes it"
    assert again.code == 0, (again.stderr, again.errors)
    # a read from the STATE starts where the last one ended (QBO re-reads its few settling minutes, by design)
    assert len(again.records()) <= len(read.records())
    if sandbox == "amazon_sp":
        assert not again.records()


DESTINATIONS = {
    "destination-ledgerlink-qbo": ("qbo", None, "SalesReceipt"),
    "destination-ledgerlink-amazon-sp": ("amazon_sp", lambda url: amazon_config(url, seller_id="A1SANDBOXSELLER"),
                                         None),
    "destination-ledgerlink-bigcommerce": ("bigcommerce", bigcommerce_config, None),
}


@pytest.mark.parametrize("command", sorted(DESTINATIONS))
def test_a_destination_checks_and_discovers_against_its_sandbox(command: str, protocol_schema: ProtocolSchema,
                                                              tmp_path: Path):
    sandbox, make, writes = DESTINATIONS[command]
    with sandbox_running(sandbox) as (url, sb):
        config = write_json(tmp_path / "config.json", make(url) if make else qbo_config(url, sb))
        check = run_entry(protocol_schema, command, "check", "--config", config)
        discover = run_entry(protocol_schema, command, "discover", "--config", config)
    assert check.code == 0 and check.of("CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "SUCCEEDED", \
        check.messages
    assert discover.code == 0, discover.stderr
    operations = discover.of("DESTINATION_CATALOG")[0]["destination_catalog"]["operations"]
    assert operations and all(op["matching_keys"] for op in operations)
    if writes:
        assert writes in {op["object_name"] for op in operations}


def test_the_files_source_reads_a_csv(protocol_schema: ProtocolSchema, tmp_path: Path):
    (tmp_path / "stock.csv").write_text("sku,qty\nMUG-1,4\nCUP-2,0\n")
    config = write_json(tmp_path / "config.json", {"streams": [
        {"name": "stock", "path": str(tmp_path / "stock.csv"), "primary_key": ["sku"]}]})
    discover = run_entry(protocol_schema, "source-ledgerlink-files", "discover", "--config", config)
    assert discover.code == 0, discover.stderr
    catalog = write_json(tmp_path / "catalog.json", configured_catalog(discover.of("CATALOG")[0]["catalog"]["streams"]))
    read = run_entry(protocol_schema, "source-ledgerlink-files", "read", "--config", config, "--catalog", catalog)
    assert read.code == 0, read.stderr
    assert sorted((r["sku"], r["qty"]) for r in read.records("stock")) == [("CUP-2", "0"), ("MUG-1", "4")]


def test_the_desktop_source_discovers_and_says_when_no_snapshot_was_taken(protocol_schema: ProtocolSchema,
                                                                         tmp_path: Path):
    config = write_json(tmp_path / "config.json", {"stock_snapshot": str(tmp_path / "stock.json")})
    discover = run_entry(protocol_schema, "source-ledgerlink-qbd", "discover", "--config", config)
    assert discover.code == 0 and [s["name"] for s in discover.of("CATALOG")[0]["catalog"]["streams"]] == ["items"]
    catalog = write_json(tmp_path / "catalog.json", configured_catalog(discover.of("CATALOG")[0]["catalog"]["streams"]))
    read = run_entry(protocol_schema, "source-ledgerlink-qbd", "read", "--config", config, "--catalog", catalog)
    assert read.code != 0 and read.errors, read.messages
    assert "stock.json" in read.errors[0]["message"]


def test_logs_are_log_messages_on_stdout_with_secrets_masked(protocol_schema: ProtocolSchema, capsys):
    from ledgerlink.cli.airbyte_processes.logs import log_as_messages
    from ledgerlink.secrets import register_secret

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    register_secret("s3cret-token-value")
    try:
        log_as_messages()
        logging.getLogger("ledgerlink.test").warning("token s3cret-token-value refused")
        logging.getLogger("ledgerlink.test").debug("not at INFO")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    out = capsys.readouterr()
    lines = [json.loads(line) for line in out.out.splitlines()]
    for line in lines:
        protocol_schema.check(line)
    assert [(m["type"], m["log"]["level"]) for m in lines] == [("LOG", "WARN")]
    assert "s3cret-token-value" not in out.out and "refused" in lines[0]["log"]["message"]
