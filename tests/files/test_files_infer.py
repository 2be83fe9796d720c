"""Schema inference: column types from a sample, nullable when cells are empty, overrides win; records
validate against the schema `discover` gives."""

from __future__ import annotations

import jsonschema

from ledgerlink.files import FilesSource
from ledgerlink.files.infer import infer_schema, text_type

from files_helpers import write


def test_text_types():
    assert [text_type(v) for v in ("12", "-3", "0", "007", "12.50", ".5", "1e5", "True", "2024-05-01",
                                   "2024-05-01T10:00:00Z", "2024-05-01 10:00", "2024-13-01", "1,234.56")] == [
        "integer", "integer", "integer", "string", "number", "number", "string", "boolean", "date",
        "date-time", "date-time", "string", "string"]


def test_csv_columns_are_text_with_a_format_and_nullable_when_empty(tmp_path):
    write(tmp_path / "a.csv", "id,price,ok,day,at,zip,mixed,note\n"
                              "1,12.50,true,2024-05-01,2024-05-01T10:00:00Z,00123,1,\n"
                              "2,3,FALSE,2024-05-02,2024-05-02,02134,x,hi\n")
    config = {"streams": [{"name": "a", "path": str(tmp_path / "a.csv"), "schema": {"id": "string"}}]}
    [stream] = FilesSource().discover(config).streams
    props = stream.json_schema["properties"]
    assert props["id"] == {"type": "string"}  # overridden
    assert props["price"]["type"] == "string" and props["price"]["format"] == "number"  # never a float
    assert props["ok"]["format"] == "boolean"
    assert props["day"]["format"] == "date"
    assert props["at"]["format"] == "date-time"  # a date and a date-time: date-time
    assert props["zip"] == {"type": "string"}  # leading zeros: text
    assert props["mixed"] == {"type": "string"}
    assert props["note"] == {"type": ["string", "null"]}
    assert stream.source_defined_primary_key == [["_file"], ["_line"]]
    for record in FilesSource().read(config):
        if record.record is not None:
            jsonschema.validate(record.record.data, stream.json_schema)


def test_json_lines_types_and_missing_keys(tmp_path):
    write(tmp_path / "a.jsonl", '{"n": 1, "amount": 1.10, "tags": ["x"], "when": "2024-05-01"}\n'
                                '{"n": 2, "amount": 2, "extra": {"a": 1}}\n')
    config = {"streams": [{"name": "a", "path": str(tmp_path / "a.jsonl"), "primary_key": ["n"],
                           "cursor_field": "when"}]}
    [stream] = FilesSource().discover(config).streams
    props = stream.json_schema["properties"]
    assert props["n"] == {"type": "integer"}
    assert props["amount"] == {"type": "number"}
    assert props["tags"] == {"type": ["array", "null"]}
    assert props["when"] == {"type": ["string", "null"], "format": "date"}
    assert props["extra"] == {"type": ["object", "null"]}
    assert stream.source_defined_primary_key == [["n"]] and stream.default_cursor_field == ["when"]
    for record in FilesSource().read(config):
        if record.record is not None:
            jsonschema.validate(record.record.data, stream.json_schema)


def test_error_rows_do_not_sway_inference_and_the_sample_is_bounded():
    rows = [{"a": "1", "_file": "f", "_line": 2}, {"_error": "f, line 3: bad", "_file": "f", "_line": 3},
            {"a": "x", "_file": "f", "_line": 4}]
    assert infer_schema(rows[:2], text=True)["properties"]["a"]["format"] == "integer"
    assert infer_schema(rows, text=True)["properties"]["a"] == {"type": "string"}


def test_sample_rows_limits_what_discover_reads(tmp_path):
    write(tmp_path / "a.csv", "a\n1\n2\nx\n")
    config = {"streams": [{"name": "a", "path": str(tmp_path / "a.csv"), "sample_rows": 2}]}
    assert FilesSource().discover(config).streams[0].json_schema["properties"]["a"]["format"] == "integer"
