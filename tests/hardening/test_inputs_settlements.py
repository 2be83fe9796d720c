"""Bad settlement files: each is held back as one dead letter naming the settlement id, the line and the column
(an end before the start names both dates), never a crash; and the clean file still normalises."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from ledgerlink import RecordError
from ledgerlink_amazon_sp.settlements.normalise import normalise_settlement
from ledgerlink_amazon_sp.settlements.parser import SettlementFileError, decode_settlement_bytes, parse_settlement
from ledgerlink_amazon_sp.settlements.streams import settlement_record

CLEAN = (Path(__file__).resolve().parents[1] / "amazon_sp" / "settlement_files"
         / "v2_month_crossing_USD_19837462011.txt")
ID = "19837462011"


def _lines() -> list[list[str]]:
    return [line.split("\t") for line in decode_settlement_bytes(CLEAN.read_bytes()).splitlines()]


def _column(lines: list[list[str]], name: str) -> int:
    return lines[0].index(name)


def _normalise(lines: list[list[str]]):
    text = "\n".join("\t".join(cells) for cells in lines) + "\n"
    return normalise_settlement(settlement_record(parse_settlement(text, "upload.txt")), {})


def _held(lines: list[list[str]]) -> RecordError:
    with pytest.raises(RecordError) as caught:
        _normalise(lines)
    error = caught.value
    assert error.key == ID and error.stream == "settlements", error
    assert "nothing of this settlement is posted" in error.message
    return error


def test_the_clean_file_normalises():
    [settlement] = _normalise(_lines())
    assert settlement.settlement_id == ID and settlement.starts_at < settlement.ends_at


def test_an_end_before_the_start_is_held_naming_both_dates():
    lines = _lines()
    start, end = _column(lines, "settlement-start-date"), _column(lines, "settlement-end-date")
    lines[1][start], lines[1][end] = lines[1][end], lines[1][start]
    error = _held(lines)
    assert error.field == "settlement-end-date" and "line 2" in error.message
    assert "2026-01-25 22:00:00 UTC" in error.message and "2026-02-08 22:00:00 UTC" in error.message
    assert "before it starts" in error.message
    test_the_clean_file_normalises()  # and the file put right goes through


#: (summary or row, column, bad value, words the dead letter must hold)
CASES = [
    ("summary", "settlement-start-date", "0001-01-01 00:00:00 UTC", ("plausible",)),
    ("summary", "settlement-start-date", "1969-07-20 20:17:00 UTC", ("plausible",)),
    ("summary", "settlement-end-date", "9999-12-31 23:59:59 UTC", ("plausible",)),
    ("summary", "settlement-end-date", "2026-02-30 00:00:00 UTC", ("not a date",)),
    ("summary", "settlement-end-date", "soon", ("not a date",)),
    ("summary", "settlement-start-date", "2026-03-01 00:00:00 UTC", ("before it starts",)),
    ("summary", "settlement-start-date", "", ("missing",)),
    ("summary", "deposit-date", "0001-01-01T00:00:00Z", ("plausible",)),
    ("summary", "deposit-date", "31/31/2026", ("not a date",)),
    ("summary", "total-amount", "fifty", ("not an amount",)),
    ("summary", "total-amount", "1e999999999", ("total-amount",)),
    ("summary", "total-amount", "NaN", ("total-amount",)),
    ("summary", "total-amount", "Infinity", ("total-amount",)),
    ("summary", "total-amount", "58.05", ("differs",)),
    ("summary", "currency", "DOLLARS", ("currency",)),
    ("row", "amount", "4.O5", ("not an amount",)),
    ("row", "amount", "1e999999999", ("amount",)),
    ("row", "amount", "-Infinity", ("amount",)),
    ("row", "amount", "sNaN", ("amount",)),
    ("row", "amount", "9" * 400, ("amount",)),
    ("row", "posted-date-time", "0001-01-01 00:00:00 UTC", ("plausible",)),
    ("row", "posted-date-time", "yesterday", ("not a date",)),
    ("row", "posted-date-time", "2026-01-27 25:61:00 UTC", ("not a date",)),
    ("row", "quantity-purchased", "many", ("quantity",)),
    ("row", "quantity-purchased", "1e999999999", ("quantity",)),
]


@pytest.mark.parametrize("where, column, value, words", CASES, ids=[f"{c[1]}={c[2][:20]}" for c in CASES])
def test_a_damaged_settlement_is_held_naming_line_and_column(where, column, value, words):
    lines = _lines()
    index = 1 if where == "summary" else 2
    lines[index][_column(lines, column)] = value
    error = _held(lines)
    assert all(w in error.message for w in words), error.message
    assert error.field in (column, "total-amount", "settlement-end-date"), error.field


@settings(max_examples=40, derandomize=True, deadline=None)
@given(column=st.sampled_from(["amount", "posted-date-time", "quantity-purchased", "total-amount",
                               "settlement-end-date", "currency"]),
       value=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\r\n\x0b\x0c\x1c\x1d\x1e"
                                                                                     "\x85\u2028\u2029"),
                     min_size=1, max_size=30))
def test_random_garbage_in_a_cell_is_held_or_read(column, value):
    """Whatever a cell holds, the settlement is read or held with its id: never another exception."""
    lines = _lines()
    index = 1 if column in ("total-amount", "settlement-end-date", "currency") else 2
    lines[index][_column(lines, column)] = value
    try:
        _normalise(lines)
    except RecordError as error:
        assert error.key == ID
    except SettlementFileError as error:  # the whole file refused (e.g. a header that no longer parses)
        assert "upload.txt" in str(error)
