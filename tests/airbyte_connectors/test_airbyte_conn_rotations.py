"""A refresh token the remote rotates while a connector process runs (QuickBooks Online rotates on every exchange;
the Amazon sandbox can be told to) comes back to Airbyte as a CONTROL message with the whole updated config, so
the platform stores it; the next run with that config works. Each message is checked against Airbyte's schema."""

from __future__ import annotations

import json
from pathlib import Path

from airbyte_conn_helpers import ProtocolSchema, amazon_config, configured_catalog, qbo_config, run_entry, write_json
from sandbox_helpers import sandbox_running


def rotated_configs(run, before: dict) -> list[dict]:
    """The configs of the run's CONTROL messages, each checked to change nothing but the refresh token."""
    assert all(m["control"]["type"] == "CONNECTOR_CONFIG" for m in run.of("CONTROL"))
    configs = [m["control"]["connectorConfig"]["config"] for m in run.of("CONTROL")]
    for config in configs:
        assert {k: v for k, v in config.items() if k != "refresh_token"} == \
            {k: v for k, v in before.items() if k != "refresh_token"}
        assert config["refresh_token"] != before["refresh_token"]
    return configs


def customers(folder: Path) -> str:
    catalog = configured_catalog([{"name": "Customer", "json_schema": {"type": "object"},
                                   "supported_sync_modes": ["full_refresh"]}], destination_sync_mode="append_dedup")
    catalog["streams"][0]["primary_key"] = [["DisplayName"]]
    return write_json(folder / "catalog.json", catalog)


def test_qbo_destination_write_and_check_send_the_rotated_token_back(protocol_schema: ProtocolSchema,
                                                                    tmp_path: Path):
    record = json.dumps({"type": "RECORD", "record": {"stream": "Customer", "emitted_at": 1,
                                                      "data": {"DisplayName": "Rotation Buyer"}}})
    catalog = customers(tmp_path)
    with sandbox_running("qbo") as (url, sb):
        raw = qbo_config(url, sb)
        write = run_entry(protocol_schema, "destination-ledgerlink-qbo", "write", "--config",
                          write_json(tmp_path / "config.json", raw), "--catalog", catalog, stdin=record + "\n")
        [latest] = rotated_configs(write, raw)[-1:]
        # Airbyte stores the CONTROL's config: the next run (a check here) starts from it, and rotates again
        check = run_entry(protocol_schema, "destination-ledgerlink-qbo", "check", "--config",
                          write_json(tmp_path / "rotated.json", latest))
        status = check.of("CONNECTION_STATUS")[0]["connectionStatus"]
        again = rotated_configs(check, latest)
    assert write.code == 0 and not write.errors, write.messages
    assert latest["refresh_token"].startswith("RT1-")
    assert status["status"] == "SUCCEEDED" and check.code == 0
    assert len(again) == 1 and again[0]["refresh_token"] != latest["refresh_token"]
    # the CONTROL comes before the CONNECTION_STATUS (the platform stores it even if it stops reading there)
    assert [m["type"] for m in check.messages if m["type"] in ("CONTROL", "CONNECTION_STATUS")] == \
        ["CONTROL", "CONNECTION_STATUS"]


def test_qbo_source_read_sends_the_rotated_token_back(protocol_schema: ProtocolSchema, tmp_path: Path):
    catalog = write_json(tmp_path / "catalog.json", configured_catalog([
        {"name": "customers", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}]))
    with sandbox_running("qbo") as (url, sb):
        raw = qbo_config(url, sb)
        run = run_entry(protocol_schema, "source-ledgerlink-qbo", "read", "--config",
                        write_json(tmp_path / "config.json", raw), "--catalog", catalog)
    assert run.code == 0 and not run.errors, run.messages
    assert rotated_configs(run, raw) and run.records("customers")


def test_amazon_source_read_sends_a_rotated_token_back(protocol_schema: ProtocolSchema, tmp_path: Path):
    catalog = write_json(tmp_path / "catalog.json", configured_catalog([
        {"name": "orders", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}]))
    with sandbox_running("amazon_sp", orders=3, rotate_refresh_token=True) as (url, _):
        raw = amazon_config(url)
        run = run_entry(protocol_schema, "source-ledgerlink-amazon-sp", "read", "--config",
                        write_json(tmp_path / "config.json", raw), "--catalog", catalog)
        configs = rotated_configs(run, raw)
        # the platform's next run, with the stored config, is accepted
        rerun = run_entry(protocol_schema, "source-ledgerlink-amazon-sp", "read", "--config",
                          write_json(tmp_path / "rotated.json", configs[-1]), "--catalog", catalog)
    assert run.code == 0 and not run.errors, run.messages
    assert configs and run.records("orders")
    assert rerun.code == 0 and not rerun.errors and rerun.records("orders") == run.records("orders")
