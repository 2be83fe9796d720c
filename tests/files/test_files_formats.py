"""Reading each format: CSV (quoted, multi-line, BOM, other encodings), TSV, JSON lines; every row carries
its file and line; a row that cannot be read comes out with `_error` instead of being dropped."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink import ConfigError

from files_helpers import write


def test_csv_rows_keep_the_files_text_with_file_and_line(tmp_path, read, stream_config):
    f = write(tmp_path / "a.csv", 'SKU,Cost,Note\nA-1,12.50,"with, comma"\n\nB-2,0007,"two\nlines"\nC-3,,x\n')
    got = read(stream_config("a.csv"))
    assert got.records == [
        {"SKU": "A-1", "Cost": "12.50", "Note": "with, comma", "_file": str(f), "_line": 2},
        {"SKU": "B-2", "Cost": "0007", "Note": "two\nlines", "_file": str(f), "_line": 4},  # blank line 3 skipped
        {"SKU": "C-3", "Cost": None, "Note": "x", "_file": str(f), "_line": 6},  # the quoted field spans 4-5
    ]


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_header(tmp_path, read, stream_config):
    write(tmp_path / "bom.csv", b"\xef\xbb\xbfSKU,Cost\r\nA-1,1.00\r\n")
    for encoding in ("utf-8", "utf-8-sig"):
        got = read(stream_config("bom.csv", encoding=encoding))
        assert [(r["SKU"], r["Cost"]) for r in got.records] == [("A-1", "1.00")]
        assert "\ufeffSKU" not in got.records[0]


def test_another_encoding_and_a_delimiter(tmp_path, read, stream_config):
    write(tmp_path / "eu.csv", "Artikel;Preis\nCafé;1,50\n", encoding="cp1252")
    got = read(stream_config("eu.csv", encoding="cp1252", delimiter=";"))
    assert got.records[0]["Artikel"] == "Café" and got.records[0]["Preis"] == "1,50"


def test_tsv_does_not_treat_quotes_as_quoting(tmp_path, read, stream_config):
    write(tmp_path / "report.txt", 'sku\ttitle\tqty\nA-1\t5" widget\t3\n')
    got = read(stream_config("report.txt"))  # auto: .txt is tab-separated (Amazon's flat files)
    assert got.records[0] | {"_file": None} == {"sku": "A-1", "title": '5" widget', "qty": "3", "_file": None, "_line": 2}


def test_json_lines_keep_json_types_and_decimals(tmp_path, read, stream_config):
    write(tmp_path / "costs.jsonl", '{"sku": "A-1", "cost": 12.10, "qty": 3, "ok": true}\n\n{"sku": "B-2", "cost": 0.1}\n')
    got = read(stream_config("costs.jsonl"))
    assert got.records[0]["cost"] == Decimal("12.10") and isinstance(got.records[0]["cost"], Decimal)
    assert got.records[0]["qty"] == 3 and got.records[0]["ok"] is True
    assert [r["_line"] for r in got.records] == [1, 3]


def test_unreadable_rows_become_error_rows_and_nothing_else_is_lost(tmp_path, read, stream_config):
    f = write(tmp_path / "ship.csv", b"Order #,SKU,Qty\n100,A-1,2\n101,B-2\n102,\xff\xfeX,1\n103,C-3,1,extra\n104,D-4,1\n")
    got = read(stream_config("ship.csv"))
    assert got.lines() == [2, 3, 4, 5, 6]
    good = [r for r in got.records if "_error" not in r]
    assert [r["Order #"] for r in good] == ["100", "104"]
    errors = {r["_line"]: r for r in got.records if "_error" in r}
    assert errors[3]["_error"] == f"{f}, line 3: 2 values where the header has 3 columns"
    assert errors[3]["_raw"] == "101,B-2" and errors[3]["_file"] == str(f)
    assert errors[4]["_error"].startswith(f"{f}, line 4: bytes not valid utf-8 at byte 5 of the line")
    assert errors[5]["_error"] == f"{f}, line 5: 4 values where the header has 3 columns"


def test_json_lines_that_are_not_objects_become_error_rows(tmp_path, read, stream_config):
    f = write(tmp_path / "x.jsonl", '{"a": 1}\n[1, 2]\n{"a": \n"text"\n{"a": NaN}\n{"a": 2}\n')
    got = read(stream_config("x.jsonl"))
    errors = {r["_line"]: r["_error"] for r in got.records if "_error" in r}
    assert set(errors) == {2, 3, 4, 5}
    assert errors[2] == f"{f}, line 2: a JSON list where an object was expected"
    assert errors[3].startswith(f"{f}, line 3: not valid JSON")
    assert [r["a"] for r in got.records if "_error" not in r] == [1, 2]


def test_an_undecodable_header_makes_every_row_an_error_row(tmp_path, read, stream_config):
    write(tmp_path / "h.csv", b"SKU,\xffCost\nA-1,1\nB-2,2\n")
    got = read(stream_config("h.csv"))
    assert got.lines() == [1, 2, 3]
    assert all("_error" in r for r in got.records)
    assert "the header (line 1) cannot be read" in got.records[1]["_error"]


def test_headers_are_trimmed_and_made_unique(tmp_path, read, stream_config):
    write(tmp_path / "d.csv", " SKU ,Qty,Qty,\nA,1,2,3\n")
    assert read(stream_config("d.csv")).records[0] == {"SKU": "A", "Qty": "1", "Qty_2": "2", "column_4": "3",
                                                        "_file": str(tmp_path / "d.csv"), "_line": 2}


def test_an_unknown_extension_needs_a_format(tmp_path, read, stream_config):
    write(tmp_path / "data.dat", "a,b\n1,2\n")
    with pytest.raises(ConfigError, match="cannot tell the format"):
        read(stream_config("data.dat"))
    assert read(stream_config("data.dat", format="csv")).records[0]["a"] == "1"


def test_config_is_checked_with_helpful_messages(tmp_path):
    from ledgerlink.files import FilesSource

    source = FilesSource()
    bad = [({"streams": [{"name": "a", "path": "x", "encoding": "utf-16"}]}, "not ASCII-compatible"),
           ({"streams": [{"name": "a", "path": "x", "columns": {"sku": "SKU"}}]}, "set `normalise`"),
           ({"streams": [{"name": "a", "path": "x", "normalise": "costs", "columns": {"qty": "Q"}}]}, "fields: sku, cost"),
           ({"streams": [{"name": "a", "path": "x"}, {"name": "a", "path": "y"}]}, "used twice"),
           ({"streams": [{"name": "a", "path": "x", "colums": {}}]}, "colums")]
    for config, message in bad:
        with pytest.raises(ConfigError, match=message):
            source.parse_config(config)


def test_with_a_primary_key_an_unreadable_row_is_still_keyed(tmp_path, read, stream_config):
    f = write(tmp_path / "k.csv", "SKU,Cost\nA,1\nB\n")
    [good, bad] = read(stream_config("k.csv", primary_key=["SKU"])).records
    assert good["SKU"] == "A"
    assert bad["SKU"] == f"unreadable: {f}, line 3" and bad["_error"].endswith("1 value where the header has 2 columns")
