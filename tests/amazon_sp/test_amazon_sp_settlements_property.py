"""Property: any V2 settlement, rendered as Amazon would (either decimal mark, any column order, trailing spaces,
CRLF), parses back to the same rows and amounts, and its lines tie to its total exactly."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerlink_amazon_sp.settlements.normalise import normalise_settlement
from ledgerlink_amazon_sp.settlements.parser import V2_COLUMNS, parse_settlement
from ledgerlink_amazon_sp.settlements.streams import settlement_record

_DETAIL = [c for c in V2_COLUMNS if c not in ("settlement-id", "settlement-start-date", "settlement-end-date",
                                              "deposit-date", "total-amount", "currency", "amount",
                                              "posted-date", "posted-date-time", "quantity-purchased")]
_TEXT = st.text(alphabet="abcXYZ019-_.: ", min_size=0, max_size=12).map(str.strip)
_CENTS = st.integers(min_value=-5_000_000_00, max_value=5_000_000_00)


def _money(cents: int, mark: str, grouped: bool) -> str:
    text = f"{abs(cents) // 100:,}" if grouped else str(abs(cents) // 100)
    text += f".{abs(cents) % 100:02d}"
    if mark == ",":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return ("-" if cents < 0 else "") + text


@st.composite
def settlements(draw):
    rows = draw(st.lists(st.tuples(_CENTS, st.fixed_dictionaries({c: _TEXT for c in _DETAIL}),
                                   st.integers(0, 9), st.booleans()), min_size=0, max_size=25))
    return {
        "rows": rows, "mark": draw(st.sampled_from([".", ","])), "grouped": draw(st.booleans()),
        "order": draw(st.permutations(list(V2_COLUMNS))), "crlf": draw(st.booleans()),
        "currency": draw(st.sampled_from(["USD", "CAD", "EUR", "GBP"])),
        "id": str(draw(st.integers(10**10, 10**11 - 1))), "day": draw(st.integers(1, 28)),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(settlements())
def test_random_v2_settlements_round_trip_and_tie(s):
    mark, columns = s["mark"], s["order"]
    total = sum(cents for cents, *_ in s["rows"])
    summary = {"settlement-id": s["id"], "settlement-start-date": f"2026-01-{s['day']:02d} 00:00:00 UTC",
               "settlement-end-date": f"2026-02-{s['day']:02d} 00:00:00 UTC",
               "deposit-date": f"2026-02-{s['day']:02d} 06:00:00 UTC",
               "total-amount": _money(total, mark, s["grouped"]), "currency": s["currency"]}
    details = []
    for cents, values, quantity, padded in s["rows"]:
        row = {**values, "settlement-id": s["id"], "amount": _money(cents, mark, s["grouped"]) + ("  " if padded else ""),
               "posted-date": f"01/{s['day']:02d}/26", "posted-date-time": f"2026-01-{s['day']:02d} 12:00:00 UTC",
               "quantity-purchased": str(quantity)}
        details.append(row)
    eol = "\r\n" if s["crlf"] else "\n"
    text = eol.join(["\t".join(columns), "\t".join(summary.get(c, "") for c in columns),
                     *("\t".join(row.get(c, "") for c in columns) for row in details)]) + eol

    parsed = parse_settlement(text, "random.txt")
    assert parsed.errors == []
    assert parsed.total == Decimal(total) / 100
    assert parsed.rows_total() == parsed.total
    assert [r.line for r in parsed.rows] == list(range(3, 3 + len(details)))
    for got, want in zip(parsed.rows, details):
        assert got.values == {k: v.strip() for k, v in want.items() if v.strip()}
    assert [a["amount"] for a in parsed.amounts] == [Decimal(c) / 100 for c, *_ in s["rows"]]

    [settlement] = normalise_settlement(settlement_record(parsed), {})
    assert settlement.total.amount == Decimal(total) / 100 and settlement.total.currency == s["currency"]
    assert sum((line.amount.amount for line in settlement.lines), Decimal(0)) == settlement.total.amount
    assert [line.row for line in settlement.lines] == list(range(3, 3 + len(details)))
    assert all(isinstance(line.amount.amount, Decimal) for line in settlement.lines)
