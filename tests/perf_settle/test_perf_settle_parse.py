"""Issue 18, settlements third pass: the parser reads each distinct amount once and hashes the rows at once;
what it reports is unchanged — every bad amount an error at its own line, however often it repeats, blank and
whitespace-only lines skipped, and the content hash that of the rows hashed one by one."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

COLUMNS = ["settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount",
           "currency", "transaction-type", "order-id", "amount-type", "amount-description", "amount"]


def _text(amounts: list[str], blanks: list[int], newline: str) -> str:
    summary = ["123", "2026-01-01T00:00:00+00:00", "2026-01-14T00:00:00+00:00", "2026-01-16T00:00:00+00:00",
               "0.00", "USD", "", "", "", "", ""]
    lines = ["\t".join(COLUMNS), "\t".join(summary)]
    for n, amount in enumerate(amounts):
        lines.append("\t".join(["123", "", "", "", "", "", "Order", f"111-{n}", "ItemPrice", "Principal", amount]))
    for at in sorted(blanks, reverse=True):
        lines.insert(min(2 + at, len(lines)), [" ", "", "\t \t", "\u3000"][at % 4])
    return newline.join(lines) + newline


def _row_by_row_hash(text: str) -> str:
    """The fingerprint as it was computed before: header, then each non-blank row, one update per row."""
    lines = text.splitlines()
    order = sorted(range(len(COLUMNS)), key=COLUMNS.__getitem__)
    digest = hashlib.sha256(("\t".join(sorted(COLUMNS)) + "\n").encode())
    for line in lines[1:]:
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split("\t")]
        digest.update(("\t".join(cells[i] for i in order) + "\n").encode())
    return digest.hexdigest()[:32]


@settings(max_examples=40, deadline=None)
@given(amounts=st.lists(st.sampled_from(["1.00", "-2.50", "1,000.00", "abc", "1.2.3", "", "4.99"]), max_size=30),
       blanks=st.lists(st.integers(0, 40), max_size=4), newline=st.sampled_from(["\n", "\r\n"]))
def test_amounts_errors_and_hash_as_row_by_row(amounts, blanks, newline):
    from ledgerlink_amazon_sp.settlements.parser import parse_settlement

    text = _text(amounts, blanks, newline)
    parsed = parse_settlement(text, "generated.txt")
    assert len(parsed.rows) == len(amounts)  # blank and whitespace-only lines are not rows
    bad = [(row.line, row.values.get("amount")) for row in parsed.rows
           if row.values.get("amount") in ("abc", "1.2.3")]
    amount_errors = [(e.line, e.column) for e in parsed.errors if e.column == "amount"
                     and "no amount" not in e.message]
    assert amount_errors == [(line, "amount") for line, _ in bad]  # each occurrence, at its own line
    for row, read in zip(parsed.rows, parsed.amounts):
        text_value = row.values.get("amount")
        expected = {} if text_value in (None, "abc", "1.2.3") else {"amount": Decimal(text_value.replace(",", ""))}
        assert read == expected
    assert parsed.content_hash() == _row_by_row_hash(text)
