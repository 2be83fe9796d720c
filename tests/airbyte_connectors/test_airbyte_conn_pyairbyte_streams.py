"""PyAirbyte reads the wider set of streams now that every stream declares its fields: all of BigCommerce's, the
QuickBooks Online source's lists and documents, and Amazon's inventory, finances and settlements, each through
its console script as a local executable. What its cache holds is what the connector sends (read directly, from
the same sandbox), record by record and declared field by declared field. The PyAirbyte environment is the
one test_airbyte_conn_pyairbyte.py uses (skipped on a laptop without it, failed in CI)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from airbyte_conn_helpers import (
    ProtocolSchema, amazon_config, bigcommerce_config, configured_catalog, qbo_config, run_entry, write_json,
)
from sandbox_helpers import sandbox_running
from stream_fields import _post_recorded_documents
from test_airbyte_conn_pyairbyte import pyairbyte_python, pyairbyte_read, same  # noqa: F401 - the fixture

from ledgerlink.plugins import host

pytestmark = pytest.mark.slow


def direct_read(schema: ProtocolSchema, command: str, source: str, config: dict[str, Any], streams: list[str],
                folder: Path) -> dict[str, list[dict[str, Any]]]:
    """The records the console script prints for `streams`, by stream."""
    discovered = [s.model_dump(mode="json", exclude_none=True) for s in
                  host().connector(source, "source")().discover({}).streams if s.name in streams]
    run = run_entry(schema, command, "read", "--config", write_json(folder / "direct.json", config),
                    "--catalog", write_json(folder / "direct-catalog.json", configured_catalog(discovered)))
    assert run.code == 0 and not run.errors, (run.errors, run.stderr[-2000:])
    return {stream: run.records(stream) for stream in streams}


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", value):
        return None
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def equal(cached: Any, sent: Any) -> bool:
    """A cached value is the sent one: numbers as `same` says, a `date-time` field as the same instant (the
    cache keeps a timestamp, printed `2026-12-07 10:06:39`), nested JSON as the same JSON."""
    if same(cached, sent):
        return True
    if _instant(sent) is not None and _instant(str(cached)) is not None:
        return _instant(sent) == _instant(str(cached))
    return json.loads(json.dumps(cached, default=str)) == json.loads(json.dumps(sent, default=str))


def key_of(row: dict[str, Any], key: list[list[str]], lower: bool) -> str:
    return "/".join(str(row[(path[0].lower() if lower else path[0])]) for path in key)


def assert_cache_holds_what_was_sent(cache: dict, sent: dict[str, list[dict[str, Any]]], source: str) -> int:
    """Each stream's cached rows are its sent records, one each, declared field by declared field; returns how
    many values were compared."""
    streams = {s.name: s for s in host().connector(source, "source")().discover({}).streams}
    compared = 0
    for name, records in sent.items():
        stream = streams[name]
        key = stream.source_defined_primary_key
        declared = list(stream.json_schema["properties"])
        rows = {key_of(row, key, lower=True): row for row in cache["streams"][name]}
        served = {key_of(record, key, lower=False): record for record in records}
        assert set(rows) == set(served), (name, sorted(set(rows) ^ set(served))[:5])
        for k, record in served.items():
            for field in declared:
                if field not in record or record[field] is None:
                    continue
                cached = rows[k][field.lower()]
                if isinstance(record[field], (dict, list)) and isinstance(cached, str):
                    cached = json.loads(cached)
                assert equal(cached, record[field]), (name, k, field, cached, record[field])
                compared += 1
    return compared


@pytest.mark.parametrize("source, command, options, streams", [
    ("bigcommerce", "source-ledgerlink-bigcommerce", {"orders": 40},
     ["order_products", "order_shipping_addresses", "order_transactions", "order_shipments", "order_coupons",
      "customers", "variants", "locations", "inventory_items", "store"]),
    ("qbo", "source-ledgerlink-qbo", {},
     ["customers", "items", "accounts", "payment_methods", "sales_receipts", "invoices", "payments", "deposits",
      "journal_entries"]),
    ("amazon_sp", "source-ledgerlink-amazon-sp", {"orders": 8}, ["fba_inventory", "finances", "settlements"]),
])
def test_pyairbyte_reads_every_declared_stream(source: str, command: str, options: dict, streams: list[str],
                                               pyairbyte_python: str, protocol_schema: ProtocolSchema,  # noqa: F811
                                               tmp_path: Path):
    with sandbox_running(source, **options) as (url, sb):
        if source == "qbo":
            _post_recorded_documents(url, sb, tmp_path)
            config = qbo_config(url, sb)
        else:
            config = amazon_config(url) if source == "amazon_sp" else bigcommerce_config(url)
        sent = direct_read(protocol_schema, command, source, config, streams, tmp_path)
        cache = pyairbyte_read(pyairbyte_python, command, config, streams, tmp_path)
    assert all(sent[s] for s in streams), {s: len(r) for s, r in sent.items()}
    compared = assert_cache_holds_what_was_sent(cache, sent, source)
    assert compared >= sum(len(r) for r in sent.values()) * 2, compared
