"""Issue 18, settlements fourth pass: the settlements stream hands its record over as JSON text
(`encoded_settlement`, an `EncodedRecord` written by orjson in one call) instead of the object staging used to
write with the general writer and then walk for NaNs. The staged text is byte for byte what staging wrote of the
object before, so a state file staged by older code holds the same text, and it normalises and plans to the same
journals and audit rows; a record orjson cannot write as is goes the general way, whose checks name the field."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

import pytest

import perf_settle_reference as ref
from ledgerlink import EncodedRecord, json_dumps, json_loads

FILES = Path(__file__).parents[1] / "amazon_sp" / "settlement_files"


def _records() -> list[dict[str, Any]]:
    """Every kind of record the stream stages: clean settlements (V2, decimal comma, negative, reserves), the
    sandbox's seeded ones, files with problems, an unreadable file and a conflicting duplicate."""
    from datetime import datetime, timezone

    from ledgerlink_amazon_sp.sandbox.seed import SellerBook
    from ledgerlink_amazon_sp.sandbox.seed_settlements import settlement_documents
    from ledgerlink_amazon_sp.settlements.parser import (SettlementFileError, decode_settlement_bytes,
                                                         parse_settlement)
    from ledgerlink_amazon_sp.settlements.streams import _conflict, error_record, settlement_record

    records = []
    for name in sorted(glob.glob(str(FILES / "**" / "*.txt"), recursive=True)):
        try:
            records.append(settlement_record(parse_settlement(decode_settlement_bytes(Path(name).read_bytes()), name)))
        except SettlementFileError as exc:
            records.append(error_record(exc))
    report = {"reportId": "777", "reportDocumentId": "doc-777", "reportType": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
              "createdTime": "2026-03-20T04:05:06+00:00"}
    for document in settlement_documents(SellerBook(60, 5, datetime(2026, 3, 1, tzinfo=timezone.utc))):
        records.append(settlement_record(parse_settlement(document.text, f"report {document.report_id}"),
                                         report=report))
    records.append(_conflict(records[0], ["0" * 32, "elsewhere.txt", "1.00", 3]))
    assert any(r["errors"] for r in records) and any(not r["errors"] for r in records)
    return records


def test_the_staged_text_is_what_the_general_writer_wrote():
    from ledgerlink_amazon_sp.settlements.streams import SettlementsStream, encoded_settlement

    from ledgerlink.runtime.extract import _stager

    stage = _stager(SettlementsStream, "settlements", None)
    for record in _records():
        encoded = encoded_settlement(record)
        assert isinstance(encoded, EncodedRecord)
        assert encoded.text == json_dumps(record)  # what older code staged, byte for byte
        assert encoded.decode() == json_loads(json_dumps(record))
        assert stage(encoded) == stage(record)  # the same key, cursor and text in the raw table


def test_a_record_orjson_cannot_write_as_is_is_handed_over_as_the_object():
    from ledgerlink_amazon_sp.settlements.streams import SettlementsStream, encoded_settlement

    from ledgerlink.runtime.extract import _stager
    from ledgerlink.store.record_text import UnstageableRecord

    record = _records()[0]
    bad = {**record, "rows": [{"line": 3, "values": {"sku": "\ud800"}}]}  # a lone surrogate: not UTF-8
    assert encoded_settlement(bad) is bad
    with pytest.raises(UnstageableRecord) as caught:
        _stager(SettlementsStream, "settlements", None)(bad)
    assert caught.value.field == "rows[0].values.sku"
    huge = {**record, "row_count": 1 << 70}  # beyond 64 bits
    assert encoded_settlement(huge) is huge
    nan = {**record, "report_id": float("nan")}  # orjson would write null: staging's checks refuse it instead
    assert encoded_settlement(nan) is nan
    with pytest.raises(UnstageableRecord) as caught:
        _stager(SettlementsStream, "settlements", None)(nan)
    assert caught.value.field == "report_id"


def _posted(record: dict[str, Any]) -> Any:
    """The canonical settlement described, and every destination's planned writes (payloads, keys, dependencies,
    audit rows) under the equivalence tests' option sets, or the error each gives."""
    from ledgerlink_amazon_sp.settlements.normalise import normalise_settlement

    import test_perf_settle_equivalence as eq

    (settlement,) = normalise_settlement(record, {})
    settlement.source_refs = [ref.reference_ref("settlements", settlement.settlement_id)]
    return ref.describe_settlement(settlement), {
        (name, n): ref.outcome(plan, settlement, eq.Ctx(options))
        for name, plan in eq._planners().items() for n, options in enumerate(eq.OPTION_SETS)}


def test_old_and_new_staged_forms_post_alike():
    """A state file staged by older code (the general writer's text of the object) and the stream's text now
    give the same settlement, journal payloads, keys, dependencies and audit rows, for both destinations."""
    from ledgerlink_amazon_sp.settlements.streams import encoded_settlement

    clean = [r for r in _records() if not r["errors"]]
    assert len(clean) >= 6
    for record in clean:
        old = json_loads(json_dumps(record))
        encoded = encoded_settlement(record)
        new = json_loads(encoded.text)
        posted = _posted(old)
        assert posted[1][("qbo", 0)] and isinstance(posted[1][("qbo", 0)], list)  # journals, not a hold
        assert _posted(new) == posted
        assert _posted(encoded) == posted  # the encoded record itself, read as the mapping it stands for


def test_the_lines_shared_fields_set_holds_every_field_and_stays_so():
    """A settlement's lines share one fields set, fees another, a journal's audit refs a third (fewer objects for
    the collector): each holds every field, and assigning a field or copying one part leaves the others as
    they were."""
    from decimal import Decimal

    from ledgerlink_amazon_sp.settlements.normalise import normalise_settlement

    from ledgerlink import Fee, SettlementLine, SourceRef
    from ledgerlink.settlements.refs import line_refs, row_refs

    record = next(r for r in _records() if not r["errors"] and len(r["rows"]) > 3)
    (settlement,) = normalise_settlement(json_loads(json_dumps(record)), {})
    lines, fees = settlement.lines, settlement.fees
    assert fees and all(line.model_fields_set == set(SettlementLine.model_fields) for line in lines)
    assert all(fee.model_fields_set == set(Fee.model_fields) for fee in fees)
    lines[0].quantity = Decimal(7)
    copy = lines[1].model_copy(update={"sku": "ELSEWHERE"})
    assert copy.model_fields_set == set(SettlementLine.model_fields)
    assert copy.model_fields_set is not lines[1].model_fields_set
    assert all(line.model_fields_set == set(SettlementLine.model_fields) for line in lines)
    assert lines[2].quantity != Decimal(7) or record["rows"][2]["values"].get("quantity-purchased") == "7"

    class Journal:
        def __init__(self, rows: list[int]):
            self.rows = rows

    refs = [r for _, r in line_refs(settlement, [Journal([1, 2]), Journal([3])])] + row_refs(settlement, [4, 5])
    assert all(r.model_fields_set == set(SourceRef.model_fields) for r in refs)
    assert [r.model_dump() for r in refs][:1] == [{"stream": "settlements", "key": f"{settlement.settlement_id}/row/1"}]
