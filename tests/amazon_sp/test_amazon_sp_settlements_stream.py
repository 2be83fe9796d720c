"""The `settlements` stream: files on disk and Amazon's settlement reports (the sandbox, over loopback), duplicates,
bad files as records, and the whole path through `ledgerlink read` / `ledgerlink sync` / `ledgerlink dlq list`."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from click.testing import CliRunner

from ledgerlink import EncodedRecord, RecordError, json_dumps, protocol
from ledgerlink.cli import cli
from ledgerlink_amazon_sp.config import AmazonSPConfig
from ledgerlink_amazon_sp.settlements.normalise import normalise_settlement
from ledgerlink_amazon_sp.settlements.streams import SettlementsStream
from sandbox_helpers import sandbox_running

FILES = Path(__file__).parent / "settlement_files"
GOOD = {"19837462011": "58.04", "20998877601": "23.33", "23874396999": "-399.94", "17766554433": "100.42"}


def _config(**overrides: Any) -> AmazonSPConfig:
    base = {"client_id": "c", "client_secret": "s", "refresh_token": "Atzr|r", "marketplace_ids": ["ATVPDKIKX0DER"],
            "start_date": "2026-01-01T00:00:00Z", "settlement_reports": False}
    return AmazonSPConfig.model_validate({**base, **overrides})


def _read(stream: SettlementsStream, state: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The stream's records, each the object its staged text stands for (the stream hands over a settlement
    as its JSON text, an `EncodedRecord`, written exactly as the general JSON writer writes the object)."""
    out = []
    for item in stream.read_records(state or {}):
        if isinstance(item, EncodedRecord):
            assert item.text == json_dumps(item.decode())
            out.append(item.decode())
        elif isinstance(item, dict):
            out.append(item)
    return out


def _letters(records: list[dict[str, Any]]) -> dict[str, RecordError]:
    out = {}
    for record in records:
        try:
            normalise_settlement(record, {})
        except RecordError as exc:
            out[record["settlement_id"]] = exc
    return out


def test_files_on_disk_duplicates_and_bad_files_all_become_records(tmp_path):
    missing = tmp_path / "nowhere.txt"
    config = _config(settlement_files=[str(FILES / "*.txt"), str(FILES / "bad" / "*.txt"),
                                       str(FILES / "duplicates" / "*.txt"), str(missing)])
    stream = SettlementsStream(config)
    records = _read(stream)
    keys = [r["settlement_id"] for r in records]
    assert len(keys) == len(set(keys))
    # the good files, once each (the CRLF copy of 19837462011 is the same settlement: skipped)
    settlements = {r["settlement_id"]: normalise_settlement(r, {})[0] for r in records if r["settlement_id"] in GOOD}
    assert {k: str(s.total.amount) for k, s in settlements.items()} == GOOD
    assert settlements["19837462011"].origin == str(FILES / "v2_month_crossing_USD_19837462011.txt")
    letters = _letters(records)
    different = str(FILES / "duplicates" / "different_content_23874396999.txt")
    assert set(letters) == {"19837462012", "19837462013", "19837462014", str(FILES / "bad" / "wrong_format_all_orders.txt"),
                            f"23874396999@{different}", str(missing)}
    assert "truncated" in letters["19837462012"].message and "line 20" in letters["19837462012"].message
    assert "differs from the sum" in letters["19837462013"].message
    assert "'4.O5' is not an amount" in letters["19837462014"].message
    assert "not a settlement flat file" in letters[str(FILES / "bad" / "wrong_format_all_orders.txt")].message
    conflict = letters[f"23874396999@{different}"]
    assert "already read from" in conflict.message and "v2_negative_CAD_23874396999.txt" in conflict.message
    assert "-399.94" in conflict.message and "-409.94" in conflict.message and different in conflict.message
    assert "cannot read the file" in letters[str(missing)].message
    # state remembers only what was read cleanly
    assert set(stream.state["seen"]) == set(GOOD)


def test_a_second_run_skips_what_it_has_read_and_keeps_reporting_what_is_broken(tmp_path):
    config = _config(settlement_files=[str(FILES / "*.txt"), str(FILES / "bad" / "truncated_19837462012.txt")])
    first = SettlementsStream(config)
    assert len(_read(first)) == 5
    again = SettlementsStream(config)
    assert [r["settlement_id"] for r in _read(again, json.loads(json.dumps(first.state)))] == ["19837462012"]
    # the complete download replaces the broken one: the same id, now clean
    fixed = tmp_path / "19837462012.txt"
    fixed.write_text((FILES / "v2_month_crossing_USD_19837462011.txt").read_text().replace("19837462011", "19837462012"))
    later = SettlementsStream(_config(settlement_files=[str(fixed)]))
    [record] = _read(later, json.loads(json.dumps(first.state)))
    assert record["settlement_id"] == "19837462012" and normalise_settlement(record, {})[0].total.amount == Decimal("58.04")


def test_the_same_file_changed_after_import_is_a_conflict(tmp_path):
    path = tmp_path / "s.txt"
    shutil.copy(FILES / "v2_negative_CAD_23874396999.txt", path)
    stream = SettlementsStream(_config(settlement_files=[str(path)]))
    assert [r["settlement_id"] for r in _read(stream)] == ["23874396999"]
    shutil.copy(FILES / "duplicates" / "different_content_23874396999.txt", path)
    [record] = _read(SettlementsStream(_config(settlement_files=[str(path)])), stream.state)
    assert record["settlement_id"] == f"23874396999@{path}" and record["duplicate_of"] == "23874396999"
    with pytest.raises(RecordError, match="already read"):
        normalise_settlement(record, {})


# ------------------------------------------------------------------------------------------ Amazon's reports


def test_settlement_reports_are_listed_downloaded_parsed_and_read_incrementally(sandbox, make_config, make_source):
    with sandbox(orders=60) as (url, sb):
        source = make_source()
        config = make_config(url, settlement_reports=True)
        catalog = protocol.ConfiguredCatalog.model_validate({"streams": [{
            "stream": SettlementsStream.airbyte_stream().model_dump(mode="json"), "sync_mode": "incremental",
            "destination_sync_mode": "append"}]})
        messages = list(source.read(config, catalog))
        records = [m.record.data for m in messages if m.type == protocol.MessageType.RECORD]
        assert {r["origin"].split()[0] for r in records} == {"report"} and len(records) == 8
        settlements = [normalise_settlement(r, {})[0] for r in records]
        assert all(s.total.amount == sum(x.amount.amount for x in s.lines) for s in settlements)
        assert {s.currency for s in settlements} == {"USD", "CAD"}
        assert all(r["report_id"] and r["created_time"] for r in records)
        states = [m.state.stream.stream_state.model_dump() for m in messages if m.type == protocol.MessageType.STATE]
        last = states[-1]
        assert last["created_time"] == max(r["created_time"] for r in records)
        # the next run lists from the saved createdTime and finds nothing new
        again = list(source.read(config, catalog, {"settlements": last}))
        assert [m for m in again if m.type == protocol.MessageType.RECORD] == []


def test_a_report_already_imported_from_disk_is_not_read_twice(sandbox, make_config, make_source, tmp_path):
    from ledgerlink_amazon_sp.sandbox.seed_settlements import settlement_documents

    with sandbox(orders=60) as (url, sb):
        first = settlement_documents(sb.api.book)[0]
        (tmp_path / "downloaded.txt").write_text(first.text)
        config = make_config(url, settlement_reports=True, settlement_files=[str(tmp_path / "*.txt")])
        catalog = protocol.ConfiguredCatalog.model_validate({"streams": [{
            "stream": SettlementsStream.airbyte_stream().model_dump(mode="json"), "sync_mode": "incremental",
            "destination_sync_mode": "append"}]})
        records = [m.record.data for m in make_source().read(config, catalog) if m.type == protocol.MessageType.RECORD]
        ids = [r["settlement_id"] for r in records]
        assert len(ids) == 8 == len(set(ids)) and first.settlement_id in ids
        assert next(r for r in records if r["settlement_id"] == first.settlement_id)["origin"].endswith("downloaded.txt")


def test_a_report_that_cannot_be_downloaded_is_a_record_and_holds_the_cursor(sandbox, make_config, make_source):
    with sandbox(orders=30) as (url, sb):
        httpx.post(f"{url}/_sandbox/reports/next", json={"outcome": "EXPIRED_URL", "count": 2})
        config = make_config(url, settlement_reports=True)
        catalog = protocol.ConfiguredCatalog.model_validate({"streams": [{
            "stream": SettlementsStream.airbyte_stream().model_dump(mode="json"), "sync_mode": "incremental",
            "destination_sync_mode": "append"}]})
        messages = list(make_source().read(config, catalog))
        records = [m.record.data for m in messages if m.type == protocol.MessageType.RECORD]
        assert len(records) == 8
        letters = _letters(records)
        [(key, error)] = letters.items()
        assert key.startswith("report ") and "cannot download" in error.message and "expired" in error.message
        broken = next(r for r in records if r["settlement_id"] == key)
        last = [m.state.stream.stream_state.model_dump() for m in messages if m.type == protocol.MessageType.STATE][-1]
        assert last.get("created_time") is None or last["created_time"] < broken["created_time"]
        # the next run gets it (the others are skipped as already read)
        again = [m.record.data for m in make_source().read(config, catalog, {"settlements": last})
                 if m.type == protocol.MessageType.RECORD]
        assert len(again) == 1 and again[0]["errors"] == [] and again[0]["report_id"] == broken["report_id"]


# ------------------------------------------------------------------------------------------ CLI, end to end


def test_ledgerlink_read_amazon_sp_reads_settlement_files(tmp_path):
    config = {"client_id": "c", "client_secret": "s", "refresh_token": "Atzr|r", "marketplace_ids": ["A2EUQ1WTGCTBG2"],
              "start_date": "2026-01-01T00:00:00Z", "settlement_reports": False,
              "settlement_files": [str(FILES / "v2_*.txt"), str(FILES / "bad" / "wrong_format_all_orders.txt")]}
    (tmp_path / "config.json").write_text(json.dumps(config))
    catalog = {"streams": [{"stream": SettlementsStream.airbyte_stream().model_dump(mode="json"),
                            "sync_mode": "incremental", "destination_sync_mode": "append"}]}
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    result = CliRunner().invoke(cli, ["read", "amazon_sp", "--config", str(tmp_path / "config.json"),
                                      "--catalog", str(tmp_path / "catalog.json")])
    assert result.exit_code == 0, result.output
    messages = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    records = [m["record"]["data"] for m in messages if m["type"] == "RECORD"]
    assert sorted(r["settlement_id"] for r in records) == sorted([*GOOD, str(FILES / "bad" / "wrong_format_all_orders.txt")])
    month = next(r for r in records if r["settlement_id"] == "19837462011")
    assert month["format"] == "flat_file_v2" and month["summary"]["total-amount"] == "58.04"
    assert month["rows"][0] == {"line": 3, "values": {
        "settlement-id": "19837462011", "transaction-type": "Order", "order-id": "112-4019283-5520147",
        "shipment-id": "DgK1bzHqN", "marketplace-name": "Amazon.com", "amount-type": "ItemPrice",
        "amount-description": "Principal", "amount": "39.00", "fulfillment-id": "AFN", "posted-date": "01/27/26",
        "posted-date-time": "2026-01-27 18:42:10 UTC", "order-item-code": "52810394716021", "sku": "LL-KTL-GOOSE",
        "quantity-purchased": "1"}}
    state = [m for m in messages if m["type"] == "STATE"][-1]["state"]["stream"]["stream_state"]
    assert set(state["seen"]) == set(GOOD)
    for record in records:  # what discover declares is what read emits
        jsonschema.validate(record, SettlementsStream.json_schema)


PIPELINE = """
version: 1
name: settlements
state: {state}
source:
  connector: amazon_sp
  config:
    endpoint: {amazon}
    lwa_endpoint: {amazon}/auth/o2/token
    client_id: amzn1.application-oa2-client.sandbox
    client_secret: sandbox-lwa-client-secret
    refresh_token: Atzr|sandbox-refresh-token
    marketplace_ids: [ATVPDKIKX0DER, A2EUQ1WTGCTBG2]
    start_date: "2026-01-01T00:00:00Z"
    settlement_files: {files}
  streams: [settlements]
destination:
  connector: qbo
  config:
    base_url: {qbo}
    token_url: {qbo}/oauth2/v1/tokens/bearer
    realm_id: "9341455000000000"
    client_id: sandbox-qbo-client
    client_secret: sandbox-qbo-client-secret
    refresh_token: sandbox-qbo-refresh-token
    requests_per_minute: 500000
    batch_requests_per_minute: 40000
"""


def test_sync_normalises_every_settlement_and_dead_letters_the_bad_ones(tmp_path):
    files = [str(FILES / "*.txt"), str(FILES / "bad" / "*.txt"), str(FILES / "duplicates" / "*.txt")]
    with sandbox_running("amazon_sp", orders=40) as (amazon, _), sandbox_running("qbo") as (qbo, _):
        pipeline = tmp_path / "settlements.yaml"
        pipeline.write_text(PIPELINE.format(state=tmp_path / "state.duckdb", amazon=amazon, qbo=qbo,
                                            files=json.dumps(files)))
        runner = CliRunner()
        result = runner.invoke(cli, ["sync", str(pipeline), "--json"])
        summary = json.loads(result.output[result.output.index("{"):])
        counts = summary.get("counts", summary)
        # 4 good files + 8 seeded reports; the identical copy is skipped; 5 dead letters
        assert counts["objects"] == {"settlement": 12}, summary
        assert counts["normalise_dead_letters"] == 5
        # (posting settlements is the destination's business: only the source's letters are checked here)
        listed = [letter for letter in json.loads(runner.invoke(cli, ["dlq", "list", str(pipeline), "--json"]).output)
                  if letter["stage"] == "normalise"]
        by_key = {letter["record_key"]: letter for letter in listed}
        different = str(FILES / "duplicates" / "different_content_23874396999.txt")
        assert set(by_key) == {"19837462012", "19837462013", "19837462014", f"23874396999@{different}",
                               str(FILES / "bad" / "wrong_format_all_orders.txt")}
        assert all(letter["stream"] == "settlements" and letter["stage"] == "normalise" for letter in listed)
        assert "line 20" in by_key["19837462012"]["message"] and "truncated_19837462012.txt" in by_key["19837462012"]["message"]
        # a second sync reads nothing new and files no new letter
        again = runner.invoke(cli, ["sync", str(pipeline), "--json"])
        counts2 = json.loads(again.output[again.output.index("{"):])
        counts2 = counts2.get("counts", counts2)
        assert counts2.get("objects", {}).get("settlement", 0) == 0
        letters = json.loads(runner.invoke(cli, ["dlq", "list", str(pipeline), "--json"]).output)
        assert sorted(x["record_key"] for x in letters if x["stage"] == "normalise") == sorted(by_key)
