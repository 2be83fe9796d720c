"""destination-ledgerlink-qbo takes what another Airbyte source wrote: a recorded stream (recorded/
qbo_objects.jsonl, as an Airbyte source prints it: LOG, STREAM_STATUS traces, RECORDs, per-stream STATE) is
piped into the console script, and posts into the QBO sandbox exactly once, run twice. Piping a source whose
records are not QuickBooks objects (the Amazon source's orders) is refused with a clear error, before anything
is written: those go through a ledgerlink pipeline, which normalises them first."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from airbyte_conn_helpers import (
    TIMEOUT_S, ProtocolSchema, amazon_config, configured_catalog, qbo_config, run_script, script_path, write_json,
)
from sandbox_helpers import sandbox_running

RECORDED = Path(__file__).with_name("recorded") / "qbo_objects.jsonl"

pytestmark = pytest.mark.slow


def test_the_recorded_stream_is_valid_airbyte_protocol(protocol_schema: ProtocolSchema):
    lines = RECORDED.read_text().splitlines()
    for line in lines:
        protocol_schema.check(json.loads(line))
    assert {json.loads(line)["type"] for line in lines} == {"LOG", "TRACE", "RECORD", "STATE"}


def qbo_catalog(folder: Path) -> str:
    """The configured catalog Airbyte hands the destination: each stream with its matching key as primary key."""
    keys = {"Customer": "DisplayName", "Item": "Name", "SalesReceipt": "DocNumber"}
    catalog = configured_catalog([{"name": name, "json_schema": {"type": "object"},
                                   "supported_sync_modes": ["full_refresh", "incremental"]} for name in keys],
                                 "incremental", "append_dedup")
    for configured in catalog["streams"]:
        configured["primary_key"] = [[keys[configured["stream"]["name"]]]]
    return write_json(folder / "catalog.json", catalog)


def test_a_recorded_source_stream_posts_into_qbo_exactly_once(protocol_schema: ProtocolSchema, tmp_path: Path):
    stream = RECORDED.read_text()
    inputs = [json.loads(line) for line in stream.splitlines()]
    catalog = qbo_catalog(tmp_path)
    with sandbox_running("qbo") as (url, sb):
        config = write_json(tmp_path / "config.json", qbo_config(url, sb))
        company = sb.company.entities
        before = {kind: len(company[kind]) for kind in ("Customer", "Item", "SalesReceipt")}
        first = run_script(protocol_schema, "destination-ledgerlink-qbo", "write", "--config", config,
                           "--catalog", catalog, stdin=stream)
        after_first = {kind: len(company[kind]) for kind in before}
        receipts = {r["DocNumber"]: r for r in company["SalesReceipt"].values() if r["DocNumber"].startswith("AB-")}
        second = run_script(protocol_schema, "destination-ledgerlink-qbo", "write", "--config", config,
                            "--catalog", catalog, stdin=stream)
        after_second = {kind: len(company[kind]) for kind in before}
        again = {r["DocNumber"]: r for r in company["SalesReceipt"].values() if r["DocNumber"].startswith("AB-")}
    for run in (first, second):
        assert run.code == 0 and not run.errors, (run.errors, run.stderr[-2000:])
        assert not [m for m in run.of("LOG") if m["log"]["level"] in ("ERROR", "FATAL")], run.of("LOG")
        # every STATE comes back once what came before it is in QuickBooks, in order, as Airbyte expects
        assert [m["state"] for m in run.of("STATE")] == [m["state"] for m in inputs if m["type"] == "STATE"]
    assert after_first == {"Customer": before["Customer"] + 2, "Item": before["Item"] + 2,
                           "SalesReceipt": before["SalesReceipt"] + 3}
    assert after_second == after_first, "the second run created nothing"
    assert sorted(receipts) == ["AB-1001", "AB-1002", "AB-1003"]
    assert {d: r["Id"] for d, r in again.items()} == {d: r["Id"] for d, r in receipts.items()}
    sent = {m["record"]["data"]["DocNumber"]: m["record"]["data"] for m in inputs
            if m["type"] == "RECORD" and m["record"]["stream"] == "SalesReceipt"}
    for doc, receipt in receipts.items():
        assert Decimal(str(receipt["TotalAmt"])) == sum(Decimal(str(line["Amount"])) for line in sent[doc]["Line"])


def test_piping_the_amazon_source_into_qbo_says_to_use_a_pipeline(protocol_schema: ProtocolSchema, tmp_path: Path):
    with sandbox_running("amazon_sp", orders=3) as (amazon_url, _), sandbox_running("qbo") as (qbo_url, qbo):
        source_config = write_json(tmp_path / "amazon.json", amazon_config(amazon_url))
        orders = configured_catalog([{"name": "orders", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}])
        source_catalog = write_json(tmp_path / "source-catalog.json", orders)
        dest_config = write_json(tmp_path / "qbo.json", qbo_config(qbo_url, qbo))
        dest_catalog = qbo_catalog(tmp_path)
        before = {kind: len(objs) for kind, objs in qbo.company.entities.items()}
        source = subprocess.Popen([script_path("source-ledgerlink-amazon-sp"), "read", "--config", source_config,
                                   "--catalog", source_catalog], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            dest = subprocess.run([script_path("destination-ledgerlink-qbo"), "write", "--config", dest_config,
                                   "--catalog", dest_catalog], stdin=source.stdout, capture_output=True, text=True,
                                  timeout=TIMEOUT_S)
        finally:
            source.stdout.close()
            source.wait(timeout=TIMEOUT_S)
        after = {kind: len(objs) for kind, objs in qbo.company.entities.items()}
    assert dest.returncode == 1
    messages = [json.loads(line) for line in dest.stdout.splitlines()]
    for message in messages:
        protocol_schema.check(message)
    error = [m["trace"]["error"] for m in messages if m["type"] == "TRACE"][0]
    assert "cannot write stream 'orders'" in error["message"] and "ledgerlink sync" in error["message"]
    assert after == before, "nothing was written"
