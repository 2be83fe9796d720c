"""The fields of every built-in source's streams, as the sandboxes send them: the records each stream reads from its
sandbox (several configurations, so that every stream sends some), each top-level field with the JSON types its
values take. `python tests/airbyte_connectors/stream_fields.py` writes them into each plugin's
`stream_schemas.py` (QuickBooks Online's entity fields come from Intuit's XSD too, a test oracle read in place,
so a field the sandbox company happens not to fill is declared as well); the tests read the same records and
check every one of them validates against its stream's declared schema."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterator

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
for folder in (HERE, REPO / "tests", REPO / "tests" / "qbo"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from airbyte_conn_helpers import amazon_config, bigcommerce_config, qbo_config  # noqa: E402
from sandbox_helpers import sandbox_running  # noqa: E402

__all__ = ["READS", "sandbox_records", "field_types", "json_type", "qbo_entity_fields", "write_modules"]

RECORDED_QBO = HERE / "recorded" / "qbo_objects.jsonl"

#: per source: (sandbox options, config changes) of each read; together they make every stream send records
READS: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {
    "amazon_sp": [({"orders": 40}, {}),
                  ({"orders": 150}, {"orders_api": "2026-01-01", "finances_api": "v0", "backfill": "reports"})],
    "bigcommerce": [({"orders": 150}, {})],
    "qbo": [({}, {})],
}


def json_type(value: Any) -> str:
    """The JSON Schema type of one JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _config(source: str, url: str, sandbox: Any, changes: dict[str, Any]) -> dict[str, Any]:
    if source == "amazon_sp":
        return amazon_config(url, **changes)
    if source == "bigcommerce":
        return bigcommerce_config(url, **changes)
    return qbo_config(url, sandbox, **changes)


def _line(item: str, amount: float) -> dict[str, Any]:
    return {"Amount": amount, "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"name": item}, "Qty": 1, "UnitPrice": amount}}


#: one document of each kind the recorded stream has none of, as another Airbyte source would send it
DOCUMENTS: dict[str, dict[str, Any]] = {
    "Invoice": {"DocNumber": "SF-INV-1", "TxnDate": "2026-11-30", "CustomerRef": {"name": "Airbyte Shop Retail"},
                "Line": [_line("AB-TEE-BLK-M", 12.5)]},
    "CreditMemo": {"DocNumber": "SF-CM-1", "TxnDate": "2026-11-30", "CustomerRef": {"name": "Airbyte Shop Retail"},
                   "Line": [_line("AB-TEE-BLK-M", 12.5)]},
    "RefundReceipt": {"DocNumber": "SF-RR-1", "TxnDate": "2026-11-30",
                      "CustomerRef": {"name": "Airbyte Shop Retail"},
                      "DepositToAccountRef": {"name": "Checking"}, "Line": [_line("AB-CAP-NVY", 9.75)]},
    "Payment": {"PaymentRefNum": "SF-PAY-1", "TxnDate": "2026-11-30", "TotalAmt": 12.5,
                "CustomerRef": {"name": "Airbyte Shop Retail"}},
    "Deposit": {"PrivateNote": "SF-DEP-1", "TxnDate": "2026-11-30", "DepositToAccountRef": {"name": "Checking"},
                "Line": [{"Amount": 20.0, "DetailType": "DepositLineDetail",
                          "DepositLineDetail": {"AccountRef": {"name": "Undeposited Funds"}}}]},
    "JournalEntry": {"DocNumber": "SF-JE-1", "TxnDate": "2026-11-30", "Line": [
        {"Amount": 3.0, "DetailType": "JournalEntryLineDetail",
         "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"name": "Merchant Fees"}}},
        {"Amount": 3.0, "DetailType": "JournalEntryLineDetail",
         "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": {"name": "Checking"}}}]},
}


def _post_recorded_documents(url: str, sandbox: Any, folder: Path) -> None:
    """QuickBooks' sandbox company starts with lists only: post the recorded customers, items and receipts,
    then one document of every other kind the source reads."""
    from airbyte_conn_helpers import ProtocolSchema, run_entry, write_json

    keys = {"Customer": "DisplayName", "Item": "Name", "SalesReceipt": "DocNumber", "Invoice": "DocNumber",
            "CreditMemo": "DocNumber", "RefundReceipt": "DocNumber", "Payment": "PaymentRefNum",
            "Deposit": "PrivateNote", "JournalEntry": "DocNumber"}
    catalog = {"streams": [{"stream": {"name": n, "json_schema": {"type": "object"},
                                       "supported_sync_modes": ["full_refresh"]},
                            "sync_mode": "full_refresh", "destination_sync_mode": "append_dedup",
                            "primary_key": [[k]]} for n, k in keys.items()]}
    documents = "".join(json.dumps({"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 1}})
                        + "\n" for stream, data in DOCUMENTS.items())
    run = run_entry(ProtocolSchema(), "destination-ledgerlink-qbo", "write",
                    "--config", write_json(folder / "qbo.json", qbo_config(url, sandbox)),
                    "--catalog", write_json(folder / "catalog.json", catalog),
                    stdin=RECORDED_QBO.read_text() + documents)
    assert run.code == 0, (run.errors, run.stderr[-2000:])


def sandbox_records(source: str, folder: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(stream, record as JSON on the wire) for every record the source reads from its sandbox, all streams, in
    each of its READS."""
    from ledgerlink import protocol
    from ledgerlink.plugins import host

    for options, changes in READS[source]:
        with sandbox_running(source, **options) as (url, sandbox):
            if source == "qbo":
                _post_recorded_documents(url, sandbox, folder)
            connector = host().connector(source, "source")()
            for message in connector.read(_config(source, url, sandbox, changes), None, None):
                if message.type == protocol.MessageType.RECORD and message.record is not None:
                    wire = json.loads(protocol.dumps(message))["record"]
                    yield wire["stream"], wire["data"]
                elif message.type == protocol.MessageType.TRACE and message.trace and message.trace.error:
                    raise AssertionError(f"{source}: {message.trace.error.message}")


def field_types(records: Iterator[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, set[str]]]:
    """stream → top-level field → the JSON types its values take."""
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for stream, data in records:
        for name, value in data.items():
            out[stream][name].add(json_type(value))
    return out


def qbo_entity_fields(entity: str) -> dict[str, set[str]]:
    """An entity's fields in Intuit's XSD (with its bases') as JSON types: numbers, booleans, strings; a complex
    type may be an object or, repeated, an array."""
    from qbo_xsd import Schema

    schema = Schema(REPO.parent / "shared" / "reference" / "quickbooks-online" / "xsd")
    fields, _ = schema.fields(entity)
    out: dict[str, set[str]] = {}
    for name, type_name in fields.items():
        builtin = schema.builtin(type_name) if type_name else "string"
        if builtin is None:
            out[name] = {"object", "array"}
        elif builtin in ("decimal", "double", "float"):
            out[name] = {"number"}
        elif builtin in ("int", "integer", "long", "short", "positiveInteger", "nonNegativeInteger"):
            out[name] = {"integer"}
        elif builtin == "boolean":
            out[name] = {"boolean"}
        else:
            out[name] = {"string"}
    return out


def _types(kinds: set[str]) -> list[str]:
    """A field's declared types: what was seen, `number` covering `integer` when both were, always nullable (a
    field one record leaves empty another fills)."""
    kinds = set(kinds) | {"null"}
    if "number" in kinds:
        kinds.discard("integer")
    return sorted(kinds)


MODULE = '''"""The top-level fields of each stream of this source and their JSON types, so that Airbyte's tools (PyAirbyte
keeps only declared fields) can read every stream. Generated by tests/airbyte_connectors/stream_fields.py from
what the sandbox sends{extra}; tests check every sandbox record validates against its stream's schema.
Regenerate after a change to what a stream reads."""

from __future__ import annotations

from typing import Any

from ledgerlink import fields_schema

__all__ = ["STREAM_FIELDS", "stream_schema"]

#: stream → field → JSON types (always nullable: a field one record leaves empty another fills)
STREAM_FIELDS: dict[str, dict[str, list[str]]] = {body}


def stream_schema(stream: str, declared: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON Schema of `stream`'s records: every field above, more allowed (`ledgerlink.fields_schema`)."""
    return fields_schema(STREAM_FIELDS[stream], declared)
'''

TARGETS = {"amazon_sp": REPO / "plugins" / "amazon_sp" / "stream_schemas.py",
           "bigcommerce": REPO / "plugins" / "bigcommerce" / "stream_schemas.py",
           "qbo": REPO / "plugins" / "qbo" / "stream_schemas.py"}


def collected(source: str, folder: Path) -> dict[str, dict[str, list[str]]]:
    """The fields to declare for each stream of `source` (QBO: the XSD's entity fields besides)."""
    from ledgerlink.plugins import host

    seen = field_types(sandbox_records(source, folder))
    out: dict[str, dict[str, list[str]]] = {}
    for cls in host().connector(source, "source")().stream_classes():
        fields: dict[str, set[str]] = {k: set(v) for k, v in seen.get(cls.name, {}).items()}
        entity = getattr(cls, "entity", None)
        if source == "qbo" and entity:
            for name, kinds in qbo_entity_fields(entity).items():
                fields[name] = fields[name] if fields.get(name) else kinds
        out[cls.name] = {name: _types(kinds) for name, kinds in sorted(fields.items())}
    return out


def render(fields: dict[str, dict[str, list[str]]]) -> str:
    """The STREAM_FIELDS literal: a stream a block, a field a line."""
    lines = ["{"]
    for stream, kinds in fields.items():
        lines.append(f"    {json.dumps(stream)}: {{")
        lines.extend(f"        {json.dumps(name)}: {json.dumps(types)}," for name, types in kinds.items())
        lines.append("    },")
    return "\n".join(lines + ["}"])


def write_modules(folder: Path, sources: tuple[str, ...] = tuple(TARGETS)) -> None:
    for source in sources:
        target = TARGETS[source]
        fields = collected(source, folder)
        body = render(fields)
        extra = " and Intuit's XSD (each entity's fields)" if source == "qbo" else ""
        target.write_text(MODULE.format(body=body, extra=extra))
        print(f"{target.relative_to(REPO)}: {len(fields)} streams, "
              f"{sum(len(f) for f in fields.values())} fields; empty: {[s for s, f in fields.items() if not f]}")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        write_modules(Path(tmp), tuple(sys.argv[1:]) or tuple(TARGETS))
