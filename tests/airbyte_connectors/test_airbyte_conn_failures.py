"""A connector process that could not do all it was asked fails the sync visibly, as Airbyte counts on: a record
the destination dead-letters is a TRACE error naming the record and the field, the process exits non-zero, no
STATE is confirmed past it, what was written stays written and a retry after the fix writes the rest once; a
read that fails names its stream and says what kind of failure it is. Every line is checked against Airbyte's
protocol schema (run_entry does)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from airbyte_conn_helpers import ProtocolSchema, amazon_config, configured_catalog, qbo_config, run_entry, write_json
from sandbox_helpers import sandbox_running

from ledgerlink import ConfigError, RecordError
from ledgerlink.connector_failures import failure_type, internal_message
from ledgerlink.errors import PermanentError, ThrottledError, TransientError


def record(stream: str, data: dict) -> str:
    return json.dumps({"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 1}})


def state(stream: str, position: int) -> str:
    return json.dumps({"type": "STATE", "state": {"type": "STREAM", "stream": {
        "stream_descriptor": {"name": stream}, "stream_state": {"position": position}}}})


def customers_catalog(folder: Path) -> str:
    catalog = configured_catalog([{"name": "Customer", "json_schema": {"type": "object"},
                                   "supported_sync_modes": ["full_refresh", "incremental"]}],
                                 "incremental", "append_dedup")
    catalog["streams"][0]["primary_key"] = [["DisplayName"]]
    return write_json(folder / "catalog.json", catalog)


def stream_of(bad_name: str) -> str:
    """Two good customers, a STATE, one bad customer, a good one, a STATE: as a source would send them."""
    return "\n".join([record("Customer", {"DisplayName": "Failing Buyer 1"}),
                      record("Customer", {"DisplayName": "Failing Buyer 2"}),
                      state("Customer", 2),
                      record("Customer", {"DisplayName": bad_name}),
                      record("Customer", {"DisplayName": "Failing Buyer 4"}),
                      state("Customer", 4)]) + "\n"


def test_a_dead_lettered_record_fails_the_write_and_a_fixed_retry_writes_the_rest_once(
        protocol_schema: ProtocolSchema, tmp_path: Path):
    catalog = customers_catalog(tmp_path)
    with sandbox_running("qbo") as (url, sb):
        raw = qbo_config(url, sb)
        config = write_json(tmp_path / "config.json", raw)
        failed = run_entry(protocol_schema, "destination-ledgerlink-qbo", "write", "--config", config,
                           "--catalog", catalog, stdin=stream_of("Failing: Buyer 3"))
        after_failure = sorted(c["DisplayName"] for c in sb.company.entities["Customer"].values()
                               if c["DisplayName"].startswith("Failing"))
        # the fix: the record's name without the colon QuickBooks reserves; Airbyte sends everything again from the
        # last STATE the destination confirmed (here: the first), we send all of it to be sure nothing doubles
        fixed = run_entry(protocol_schema, "destination-ledgerlink-qbo", "write", "--config", config,
                          "--catalog", catalog, stdin=stream_of("Failing - Buyer 3"))
        names = [c["DisplayName"] for c in sb.company.entities["Customer"].values()
                 if c["DisplayName"].startswith("Failing")]
    assert failed.code == 3, (failed.code, failed.messages, failed.stderr)
    [error] = failed.errors
    assert error["failure_type"] == "config_error"
    assert error["stream_descriptor"] == {"name": "Customer"}
    assert "the Customer record DisplayName='Failing: Buyer 3' was not written" in error["message"]
    assert "field 'DisplayName'" in error["message"] and "colon" in error["message"]
    assert "replace the colon" in error["message"] and "run the sync again" in error["message"]
    assert "RecordError" in error["internal_message"] and "field=DisplayName" in error["internal_message"]
    said = [m for m in failed.messages if m["type"] != "CONTROL"]  # a CONTROL carries the config to store, by design
    for secret in (raw["client_secret"], raw["refresh_token"]):
        assert secret not in json.dumps(said) and secret not in failed.stderr
    assert error["message"] in failed.stderr and "Traceback" not in failed.stderr
    # the STATE before the bad record is confirmed; the one after it is held back, so Airbyte sends it again
    assert [m["state"]["stream"]["stream_state"] for m in failed.of("STATE")] == [{"position": 2}]
    # the records around the bad one were written
    assert after_failure == ["Failing Buyer 1", "Failing Buyer 2", "Failing Buyer 4"]
    assert fixed.code == 0 and not fixed.errors, (fixed.messages, fixed.stderr)
    assert [m["state"]["stream"]["stream_state"] for m in fixed.of("STATE")] == [{"position": 2}, {"position": 4}]
    assert sorted(names) == ["Failing - Buyer 3", "Failing Buyer 1", "Failing Buyer 2", "Failing Buyer 4"], \
        "each customer exactly once"


def test_a_read_that_fails_names_the_stream_and_keeps_what_was_confirmed(protocol_schema: ProtocolSchema,
                                                                         tmp_path: Path):
    catalog = write_json(tmp_path / "catalog.json", configured_catalog([
        {"name": "orders", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}]))
    with sandbox_running("amazon_sp", orders=3) as (url, _):
        raw = amazon_config(url)
        config = write_json(tmp_path / "config.json", raw)
        httpx.post(f"{url}/_sandbox/faults", json={"operation": "getOrders", "status": 403, "count": 1000})
        run = run_entry(protocol_schema, "source-ledgerlink-amazon-sp", "read", "--config", config,
                        "--catalog", catalog)
    assert run.code == 1, (run.messages, run.stderr)
    [error] = run.errors
    assert error["failure_type"] == "config_error", error  # a refused credential is the user's to fix
    assert error["stream_descriptor"] == {"name": "orders"}
    assert "reading stream 'orders' stopped" in error["message"] and "403" in error["message"]
    assert "hint: check that the refresh token" in error["message"]
    assert "status=403" in error["internal_message"] and "operation=getOrders" in error["internal_message"]
    for secret in (raw["client_secret"], raw["refresh_token"]):
        assert secret not in json.dumps(run.messages)
    assert error["message"].splitlines()[0] in run.stderr
    assert not run.of("RECORD") and "nothing was confirmed" in error["message"]


@pytest.mark.parametrize("error, expected", [
    (ConfigError("bad", where="config.region"), "config_error"),
    (RecordError("bad", stream="Customer", field="DisplayName"), "config_error"),
    (PermanentError("refused", status=400, code="6000"), "config_error"),
    (PermanentError("no such realm", status=401), "config_error"),
    (PermanentError("broke", status=500), "system_error"),
    (TransientError("down", status=503), "transient_error"),
    (ThrottledError("slow down", status=429), "transient_error"),
    (RuntimeError("a bug"), "system_error"),
])
def test_each_kind_of_error_has_the_failure_type_airbyte_acts_on(error, expected):
    assert failure_type(error) == expected
    assert internal_message(error).startswith(type(error).__name__)
