"""Bad 3PL shipment files, through the real pipeline (files → BigCommerce sandbox over loopback): every bad row and
every bad file is a dead letter naming the file, the line and the column, the good rows still ship, and once the
files are put right the next sync finishes clean. Row-level garbage is also fuzzed straight through the reader and
normaliser: a row is a shipment or a RecordError, never another exception."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from ledgerlink import RecordError
from ledgerlink.cli import cli
from ledgerlink.files import FilesSource, samples
from ledgerlink.files.config import FileStreamConfig
from ledgerlink.files.normalise import shipment_normaliser

from inputs_helpers import HEADER, bigcommerce_store, good_pipeline, report, run_sync, write_pipeline  # noqa: E402

#: (id, a bad CSV row given a good order's (order id, sku), the column the dead letter names, words it holds)
ROWS: list[tuple[str, Any, str | None, tuple[str, ...]]] = [
    ("qty-text", lambda o, s: [o, "T-QTYTEXT", "UPS", "2026-01-02", s, "two"], "Qty", ("not a number",)),
    ("qty-zero", lambda o, s: [o, "T-QTYZERO", "UPS", "2026-01-02", s, "0"], "Qty", ("zero",)),
    ("qty-negative", lambda o, s: [o, "T-QTYNEG", "UPS", "2026-01-02", s, "-3"], "Qty", ("negative",)),
    ("qty-nan", lambda o, s: [o, "T-QTYNAN", "UPS", "2026-01-02", s, "NaN"], "Qty", ("not a number",)),
    ("qty-inf", lambda o, s: [o, "T-QTYINF", "UPS", "2026-01-02", s, "Infinity"], "Qty", ("not a number",)),
    ("qty-1e30", lambda o, s: [o, "T-QTYHUGE", "UPS", "2026-01-02", s, "1e30"], "Qty", ("1,000,000",)),
    ("qty-1e999999999", lambda o, s: [o, "T-QTYEXP", "UPS", "2026-01-02", s, "1e999999999"], "Qty", ()),
    ("qty-empty", lambda o, s: [o, "T-QTYEMPTY", "UPS", "2026-01-02", s, ""], "Qty", ("empty",)),
    ("date-garbage", lambda o, s: [o, "T-DATEBAD", "UPS", "last tuesday", s, "1"], "Ship Date", ("date",)),
    ("date-year-1", lambda o, s: [o, "T-DATEY1", "UPS", "0001-01-01", s, "1"], "Ship Date", ("plausible",)),
    ("date-year-9999", lambda o, s: [o, "T-DATEY9", "UPS", "9999-12-31T23:59:59Z", s, "1"], "Ship Date",
     ("plausible",)),
    ("date-1969", lambda o, s: [o, "T-DATE69", "UPS", "1969-12-31", s, "1"], "Ship Date", ("plausible",)),
    ("date-feb-30", lambda o, s: [o, "T-DATEF30", "UPS", "2026-02-30", s, "1"], "Ship Date", ("date",)),
    ("date-us-form", lambda o, s: [o, "T-DATEUS", "UPS", "01/02/2026", s, "1"], "Ship Date", ("date_format",)),
    ("no-order", lambda o, s: ["", "T-NOORDER", "UPS", "2026-01-02", s, "1"], "Order #", ("empty",)),
    ("no-tracking", lambda o, s: [o, "", "UPS", "2026-01-02", s, "1"], "Tracking", ("empty",)),
    ("no-sku", lambda o, s: [o, "T-NOSKU", "UPS", "2026-01-02", "", "1"], "SKU", ("empty",)),
    ("too-many-values", lambda o, s: [o, "T-EXTRA", "UPS", "2026-01-02", s, "1", "surprise"], None,
     ("7 values", "6 columns")),
    ("too-few-values", lambda o, s: [o, "T-FEW"], None, ("2 values",)),
]


def _csv_line(cells: list[str]) -> str:
    return ",".join(f'"{c}"' if "," in c else c for c in cells) + "\n"


def _dead_letters(state: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["dlq", "list", str(state), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_bad_rows_and_bad_files_are_dead_letters_and_the_fixed_files_sync_clean(tmp_path):
    drop = tmp_path / "drop"
    state = tmp_path / "state.duckdb"
    with bigcommerce_store(orders=20) as url:
        orders = samples.bigcommerce_orders_to_ship(url, limit=3)
        assert len(orders) == 3
        good = samples.write_shipments(drop / "good.csv", orders[:2])
        order_id, sku = orders[2].order_id, orders[2].lines[0][0]
        rows = drop / "rows.csv"
        rows.write_text(HEADER + "".join(_csv_line(make(order_id, sku)) for _, make, _, _ in ROWS))
        # whole files that are wrong: bytes not UTF-8 in a row, no Tracking column, one 2 MB line, binary junk
        (drop / "latin1.csv").write_bytes(HEADER.encode() + f"{order_id},T-LATIN,UPS,2026-01-02,{sku},1 caf\xe9\n"
                                          .encode("latin-1"))
        (drop / "no_tracking.csv").write_text("Order #,Carrier,Ship Date,SKU,Qty\n"
                                              f"{order_id},UPS,2026-01-02,{sku},1\n")
        (drop / "huge.csv").write_text(HEADER + f"{order_id},T-HUGE,UPS,2026-01-02,{sku}," + "9" * 2_000_000 + "\n")
        (drop / "junk.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00garbage\n" * 3)
        tree = good_pipeline(state, str(drop / "*.csv"), url)
        pipeline = write_pipeline(tmp_path / "pipeline.yaml", tree)

        first = run_sync(pipeline, None, "--json")
        assert first.exception is None or isinstance(first.exception, SystemExit), first.exception
        assert first.code == 3, first.output  # finished, with dead letters to look at
        assert report(first)["counts"]["created"] == {"order_shipments": 2}  # the good rows shipped
        letters = _dead_letters(state)
        messages = "\n".join(f"{d['record_key']} | {d['message']}" for d in letters)
        for n, (case, _, column, words) in enumerate(ROWS):
            key = f"{rows}/{n + 2}"  # staged rows are keyed by file and line
            [letter] = [d for d in letters if d["record_key"] == key] or [None]
            assert letter is not None, f"{case}: no dead letter for {key}\n{messages}"
            if column:
                assert f"field {column!r}" in letter["message"], (case, letter["message"])
            said = f"{letter['message']} {letter['hint'] or ''}"
            assert all(w in said for w in words), (case, said)
        for name, words in (("latin1.csv", "not valid utf-8"), ("no_tracking.csv", "'Tracking'"),
                            ("huge.csv", "bytes long"), ("junk.csv", "line")):
            found = [d for d in letters if str(d["record_key"]).startswith(str(drop / name) + "/")]
            assert found, f"{name}: no dead letter\n{messages}"
            assert any(words in d["message"] for d in found), (name, [d["message"] for d in found])
        assert all(", line " in d["message"] for d in letters), messages  # each names its file and line

        # put the files right: the bad rows and files go, one fixed row ships; the next sync is clean
        for name in ("latin1.csv", "no_tracking.csv", "huge.csv", "junk.csv"):
            (drop / name).write_text(HEADER)
        rows.write_text(HEADER + _csv_line([order_id, "T-FIXED", "UPS", "2026-01-02", sku,
                                            str(orders[2].lines[0][1])]) + "\n" * (len(ROWS) - 1))
        second = run_sync(pipeline, None, "--json")
        assert second.code == 0, second.output + "\n" + json.dumps(_dead_letters(state), indent=1, default=str)
        assert report(second)["counts"]["created"] == {"order_shipments": 1}
        assert good.exists()


# ------------------------------------------------------------------------------------------ fuzzed rows

SPEC = FileStreamConfig.model_validate(copy.deepcopy(
    good_pipeline(Path("s"), "f")["source"]["config"]["streams"][0]))
CELL = st.one_of(st.text(max_size=12), st.sampled_from(["NaN", "-0", "1e999999", "0001-01-01", "9" * 50, "\x00",
                                                        "2026-02-29", "１２", "1,5", " 3 ", "+inf", "0x10"]))


@settings(max_examples=60, derandomize=True, deadline=None)
@given(cells=st.lists(CELL, min_size=0, max_size=8))
def test_any_row_is_a_shipment_or_a_located_record_error(tmp_path_factory, cells):
    folder = tmp_path_factory.mktemp("rows")
    path = folder / "f.csv"
    path.write_text(HEADER + ",".join(c.replace(",", " ").replace('"', "").replace("\n", " ").replace("\r", " ")
                                      for c in cells) + "\n", encoding="utf-8", errors="surrogatepass")
    config = {"streams": [{**SPEC.model_dump(by_alias=True, exclude_none=True), "path": str(path)}]}
    records = [m.record.data for m in FilesSource().read(config, None, None) if m.type.value == "RECORD"]
    normalise = shipment_normaliser(SPEC)
    for record in records:
        try:
            normalise(record, {})
        except RecordError as error:
            assert error.key == f"{path}, line {record['_line']}", error
