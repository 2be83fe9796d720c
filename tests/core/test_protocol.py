"""ledgerlink.protocol: every message kind is Airbyte protocol v0 on the wire and round-trips."""

from __future__ import annotations

import json
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerlink import protocol as p


def _nulls_outside_data(node, path=()):
    """Paths of nulls in a serialised message, ignoring a record's free-form `data`."""
    if path[-2:] == ("record", "data"):
        return []
    if node is None:
        return [path]
    if isinstance(node, dict):
        return [x for k, v in node.items() for x in _nulls_outside_data(v, path + (k,))]
    if isinstance(node, list):
        return [x for i, v in enumerate(node) for x in _nulls_outside_data(v, path + (str(i),))]
    return []


def _spec() -> p.Message:
    spec = p.Spec(documentationUrl="https://example.com/docs", protocol_version="0.5.2",
                  connectionSpecification={"type": "object", "required": ["token"],
                                           "properties": {"token": {"type": "string", "airbyte_secret": True}}})
    return p.Message(type=p.MessageType.SPEC, spec=spec)


def _stream(name: str = "orders") -> p.Stream:
    return p.Stream(name=name, json_schema={"type": "object"},
                    supported_sync_modes=[p.SyncMode.full_refresh, p.SyncMode.incremental],
                    source_defined_cursor=True, default_cursor_field=["updated_at"],
                    source_defined_primary_key=[["id"]])


def _catalog() -> p.Message:
    return p.Message(type=p.MessageType.CATALOG, catalog=p.Catalog(streams=[_stream(), _stream("refunds")]))


def _destination_catalog() -> p.Message:
    op = p.DestinationOperation(object_name="SalesReceipt", sync_mode=p.DestinationSyncMode.append_dedup,
                                json_schema={"type": "object"}, matching_keys=[["DocNumber"]])
    return p.Message(type=p.MessageType.DESTINATION_CATALOG, destination_catalog=p.DestinationCatalog(operations=[op]))


MESSAGES = {
    "record": lambda: p.record("orders", {"id": 1, "total": "12.30", "note": None, "lines": [{"sku": "A"}]},
                               emitted_at=1_700_000_000_000),
    "record_default_time": lambda: p.record("orders", {"id": 2}),
    "state_for_stream": lambda: p.state_for_stream("orders", {"updated_at": "2024-01-01T00:00:00Z"}, record_count=3),
    "state_for_stream_namespace": lambda: p.state_for_stream("orders", {"cursor": 5}, namespace="eu"),
    "global_state": lambda: p.global_state({"cdc_lsn": 42}, {"orders": {"c": 1}, "refunds": {"c": 2}}),
    "global_state_no_shared": lambda: p.global_state(None, {"orders": {"c": 1}}),
    "legacy_state": lambda: p.legacy_state({"orders": {"c": 1}}),
    "log": lambda: p.log("warn", "slow down"),
    "error_trace": lambda: p.error_trace("boom", internal_message="KeyError 'x'", failure_type="config_error",
                                         stream="orders", stack_trace="Traceback ..."),
    "error_trace_minimal": lambda: p.error_trace("boom"),
    "stream_status": lambda: p.stream_status("orders", "running"),
    "estimate": lambda: p.estimate("orders", row_estimate=10, byte_estimate=2048),
    "control_config": lambda: p.control_config({"refresh_token": "new-token", "realm_id": "123"}),
    "connection_status_ok": lambda: p.connection_status(True),
    "connection_status_failed": lambda: p.connection_status(False, "401 from remote"),
    "spec": _spec,
    "catalog": _catalog,
    "destination_catalog": _destination_catalog,
}


@pytest.mark.parametrize("kind", sorted(MESSAGES))
def test_message_validates_against_airbyte_schema_and_round_trips(kind, airbyte_validator):
    message = MESSAGES[kind]()
    line = p.dumps(message)
    assert "\n" not in line
    wire = json.loads(line)
    airbyte_validator(wire)
    assert _nulls_outside_data(wire) == []
    assert p.loads(line) == message
    assert p.dumps(p.loads(line)) == line


def test_configured_catalog_validates_and_round_trips(airbyte_validator):
    catalog = p.ConfiguredCatalog(streams=[
        p.ConfiguredStream(stream=_stream(), sync_mode=p.SyncMode.incremental, cursor_field=["updated_at"],
                           destination_sync_mode=p.DestinationSyncMode.append_dedup, primary_key=[["id"]]),
        p.ConfiguredStream(stream=_stream("refunds"), sync_mode=p.SyncMode.full_refresh,
                           destination_sync_mode=p.DestinationSyncMode.overwrite),
    ])
    text = catalog.model_dump_json(exclude_none=True, by_alias=True)
    airbyte_validator(json.loads(text), "ConfiguredAirbyteCatalog")
    assert p.ConfiguredCatalog.model_validate_json(text) == catalog


def test_global_state_uses_the_global_alias_on_the_wire():
    wire = json.loads(p.dumps(MESSAGES["global_state"]()))
    assert wire["state"]["type"] == "GLOBAL"
    assert "global_" not in wire["state"]
    assert wire["state"]["global"]["shared_state"] == {"cdc_lsn": 42}
    assert [s["stream_descriptor"]["name"] for s in wire["state"]["global"]["stream_states"]] == ["orders", "refunds"]


def test_global_state_read_from_airbyte_json_is_reachable_by_attribute():
    line = ('{"type":"STATE","state":{"type":"GLOBAL","global":{"stream_states":'
            '[{"stream_descriptor":{"name":"orders"},"stream_state":{"c":1}}]}}}')
    state = p.loads(line).state
    assert state.global_.stream_states[0].stream_descriptor.name == "orders"


def test_nulls_are_omitted_but_a_records_own_nulls_are_kept():
    wire = json.loads(p.dumps(p.record("orders", {"id": 1, "note": None}, emitted_at=1)))
    assert wire == {"type": "RECORD", "record": {"stream": "orders", "data": {"id": 1, "note": None}, "emitted_at": 1}}
    status = json.loads(p.dumps(p.connection_status(True)))
    assert status == {"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED"}}


def test_state_blobs_keep_their_null_values_on_the_wire():
    stream = json.loads(p.dumps(p.state_for_stream("orders", {"next_page": None, "cursor": "x"})))
    assert stream["state"]["stream"]["stream_state"] == {"next_page": None, "cursor": "x"}
    glob = json.loads(p.dumps(p.global_state({"lsn": None}, {"orders": {"next_page": None}})))["state"]["global"]
    assert glob["shared_state"] == {"lsn": None}
    assert glob["stream_states"][0]["stream_state"] == {"next_page": None}


def test_state_for_stream_carries_the_record_count_as_source_stats():
    wire = json.loads(p.dumps(p.state_for_stream("orders", {"c": 1}, record_count=7)))
    assert wire["state"]["sourceStats"] == {"recordCount": 7.0}
    assert wire["state"]["stream"] == {"stream_descriptor": {"name": "orders"}, "stream_state": {"c": 1}}


def test_record_keeps_an_explicit_emitted_at_of_zero():
    assert json.loads(p.dumps(p.record("s", {}, emitted_at=0)))["record"]["emitted_at"] == 0


def test_record_without_emitted_at_is_stamped_now(monkeypatch):
    monkeypatch.setattr(p, "time", SimpleNamespace(time=lambda: 1_700_000_000.123))
    assert p.record("s", {}).record.emitted_at == 1_700_000_000_123


def test_decimal_amount_in_a_record_stays_a_json_number_with_every_digit():
    line = p.dumps(p.record("settlements", {"total": Decimal("12345678901234567.10")}, emitted_at=1))
    assert '"total":12345678901234567.10' in line
    assert p.loads(line).record.data["total"] == Decimal("12345678901234567.10")


def test_loads_reads_fractional_numbers_as_decimal_never_float():
    line = '{"type":"RECORD","record":{"stream":"s","data":{"amount":0.1,"qty":3},"emitted_at":1}}'
    data = p.loads(line).record.data
    assert data["amount"] == Decimal("0.1") and isinstance(data["amount"], Decimal)
    assert data["qty"] == 3 and isinstance(data["qty"], int)


def test_log_levels_are_upper_cased_and_unknown_levels_refused():
    assert json.loads(p.dumps(p.log("debug", "x")))["log"] == {"level": "DEBUG", "message": "x"}
    with pytest.raises(ValueError):
        p.log("loud", "x")


def test_iter_lines_skips_blank_lines():
    lines = [p.dumps(p.log("info", "a")), "", "   ", p.dumps(p.connection_status(True))]
    assert [m.type for m in p.iter_lines(lines)] == [p.MessageType.LOG, p.MessageType.CONNECTION_STATUS]


# ------------------------------------------------------------------------------------------ properties

json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63),
    st.text(max_size=20),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**12, max_value=10**12),
)
def _containers(children):
    return st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4))


json_value = st.recursive(json_leaf, _containers, max_leaves=15)
json_object = st.dictionaries(st.text(max_size=8), json_value, max_size=6)
stream_names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)


@settings(max_examples=75, deadline=None, database=None)
@given(stream=stream_names, data=json_object, emitted_at=st.integers(min_value=0, max_value=2**53))
def test_record_round_trips_through_the_wire(stream, data, emitted_at):
    message = p.record(stream, data, emitted_at=emitted_at)
    back = p.loads(p.dumps(message))
    assert back.record.stream == stream
    assert back.record.emitted_at == emitted_at
    # Decimals compare by value (1.0 == 1), so the payload must be equal number for number.
    assert back.record.data == data


@settings(max_examples=75, deadline=None, database=None)
@given(stream=stream_names, value=json_object, count=st.none() | st.integers(min_value=0, max_value=10**6))
def test_stream_state_round_trips_through_the_wire(stream, value, count):
    message = p.state_for_stream(stream, value, record_count=count)
    line = p.dumps(message)
    back = p.loads(line)
    assert back.state.stream.stream_descriptor.name == stream
    assert back.state.stream.stream_state.model_dump() == value
    assert p.dumps(back) == line
