"""The Airbyte-style CLI over the `files` connector: spec, check, discover (inferred schema), read with state."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ledgerlink.cli import cli

from files_helpers import write


def _messages(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def _config(tmp_path, monkeypatch) -> str:
    write(tmp_path / "drop" / "a.csv", "SKU,Unit Cost\nA-1,4.25\nB-2,oops,x\n")
    monkeypatch.chdir(tmp_path)  # a relative glob is relative to the working directory
    (tmp_path / "config.json").write_text(json.dumps({"streams": [{"name": "costs", "path": "drop/*.csv",
                                                                    "normalise": "costs",
                                                                    "columns": {"sku": "SKU", "cost": "Unit Cost"}}]}))
    return "config.json"


def test_spec_lists_the_config_with_descriptions():
    result = CliRunner().invoke(cli, ["spec", "files"])
    assert result.exit_code == 0, result.output
    [msg] = _messages(result.output)
    schema = msg["spec"]["connectionSpecification"]
    stream = schema["$defs"]["FileStreamConfig"]["properties"]
    assert {"name", "path", "format", "delimiter", "encoding", "primary_key", "cursor_field", "schema", "normalise",
            "columns"} <= set(stream)
    assert stream["format"]["enum"] == ["csv", "tsv", "jsonl", "auto"] and stream["normalise"]["description"]


def test_check_and_discover(tmp_path, monkeypatch):
    config = _config(tmp_path, monkeypatch)
    [status] = _messages(CliRunner().invoke(cli, ["check", "files", "--config", config]).output)
    assert status["connectionStatus"]["status"] == "SUCCEEDED"
    (tmp_path / "bad.json").write_text(json.dumps({"streams": [{"name": "x", "path": "nowhere/*.csv"}]}))
    [status] = _messages(CliRunner().invoke(cli, ["check", "files", "--config", "bad.json"]).output)
    assert status["connectionStatus"]["status"] == "FAILED" and "nowhere does not exist" in status["connectionStatus"]["message"]

    result = CliRunner().invoke(cli, ["discover", "files", "--config", config])
    assert result.exit_code == 0, result.output
    [msg] = _messages(result.output)
    [stream] = msg["catalog"]["streams"]
    assert stream["name"] == "costs" and stream["source_defined_primary_key"] == [["_file"], ["_line"]]
    assert stream["json_schema"]["properties"]["Unit Cost"] == {"type": "string", "format": "number",
                                                                "pattern": r"^[+-]?(\d+(\.\d+)?|\.\d+)$"}


def test_read_emits_records_with_file_and_line_error_rows_and_state(tmp_path, monkeypatch):
    config = _config(tmp_path, monkeypatch)
    result = CliRunner().invoke(cli, ["read", "files", "--config", config])
    assert result.exit_code == 0, result.output
    messages = _messages(result.output)
    records = [m["record"]["data"] for m in messages if m["type"] == "RECORD"]
    assert records[0] == {"SKU": "A-1", "Unit Cost": "4.25", "_file": "drop/a.csv", "_line": 2}
    assert records[1]["_error"] == "drop/a.csv, line 3: 3 values where the header has 2 columns"
    states = [m["state"] for m in messages if m["type"] == "STATE"]
    (tmp_path / "state.json").write_text(json.dumps([states[-1]]))
    with open(tmp_path / "drop" / "a.csv", "a") as f:
        f.write("C-3,1.00\n")
    again = _messages(CliRunner().invoke(cli, ["read", "files", "--config", config, "--state", "state.json"]).output)
    assert [m["record"]["data"]["SKU"] for m in again if m["type"] == "RECORD"] == ["C-3"]
