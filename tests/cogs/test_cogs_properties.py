"""Properties: FIFO and moving average agree with a one-unit-at-a-time reference; every COGS journal balances to
the cent and its inventory lines equal the movements' cost; valuing a longer history never changes the cost of
an earlier movement."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from ledgerlink.cogs import CogsOptions, CostBook, CostEntry, Movement, build_cogs_journals, value_movements
from ledgerlink.settlements import Role, default_account_map
from cogs_helpers import damaged, refunded, reference_value, settlement, sold

START = date(2025, 8, 1)
costs = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2)
lots_st = st.lists(st.tuples(st.integers(0, 20), st.integers(1, 30), costs), min_size=1, max_size=5)
moves_st = st.lists(st.tuples(st.integers(0, 30), st.integers(-3, 6).filter(bool)), min_size=1, max_size=25)


def _book(lots):
    first = min(d for d, _, _ in lots)
    return first, CostBook.of(CostEntry(sku="S", unit_cost=c, effective=START + timedelta(days=d), quantity=Decimal(n))
                              for d, n, c in lots)


@settings(max_examples=150, deadline=None)
@given(lots=lots_st, moves=moves_st, method=st.sampled_from(["fifo", "moving_average"]))
def test_the_valuation_agrees_with_a_one_unit_at_a_time_reference(lots, moves, method):
    first, book = _book(lots)
    moves = [(max(d, first), q) for d, q in moves]  # nothing moves before the first lot arrives
    movements = [Movement(sku="S", on=START + timedelta(days=d), quantity=Decimal(q), kind="sold" if q > 0
                          else "refunded", ref=str(i)) for i, (d, q) in enumerate(moves)]
    valued, unvalued = value_movements(movements, book, method)
    assert not unvalued and len(valued) == len(movements)
    expected = reference_value([(START + timedelta(days=d), Decimal(n), c) for d, n, c in lots],
                               [(START + timedelta(days=d), Decimal(q)) for d, q in moves], method)
    for v, want in zip(valued, expected):
        assert abs(v.amount - want) < Decimal("1e-18"), (v, want)
        assert v.amount >= 0


@settings(max_examples=80, deadline=None)
@given(lots=lots_st, moves=moves_st, cut=st.integers(0, 30), method=st.sampled_from(["fifo", "moving_average"]))
def test_a_longer_history_never_changes_an_earlier_movements_cost(lots, moves, cut, method):
    first, book = _book(lots)
    movements = [Movement(sku="S", on=START + timedelta(days=max(d, first)), quantity=Decimal(q), kind="sold")
                 for d, q in moves if q > 0]
    early = [m for m in movements if m.on <= START + timedelta(days=cut)]
    full, _ = value_movements(movements, book, method)
    part, _ = value_movements(early, book, method)
    assert [v.amount for v in part] == [v.amount for v in full][:len(part)]


quantities = st.integers(1, 5)


@settings(max_examples=100, deadline=None)
@given(sales=st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), quantities), min_size=1, max_size=8),
       refunds=st.lists(st.tuples(st.sampled_from(["A", "B"]), quantities), max_size=3),
       damages=st.lists(st.sampled_from(["A", "C"]), max_size=2),
       unit=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("99.999"), places=3),
       method=st.sampled_from(["fifo", "moving_average"]), per=st.sampled_from(["settlement", "month"]))
def test_every_cogs_journal_balances_and_its_inventory_lines_are_the_units_cost(sales, refunds, damages, unit,
                                                                                method, per):
    lines, n = [], 1
    for i, (sku, q) in enumerate(sales):
        lines += sold(n, sku, q, posted="2025-07-30" if i % 2 else "2025-08-20")
        n += 2
    for sku, q in refunds:
        lines += refunded(n, sku, q)
        n += 1
    for sku in damages:
        lines += damaged(n, sku)
        n += 1
    s = settlement(lines, start="2025-07-25", end="2025-08-28")
    book = CostBook.of([CostEntry(sku="A", unit_cost=unit), CostEntry(sku="B", unit_cost=unit * 2),
                        CostEntry(sku="C", unit_cost=Decimal("3.10"), effective=date(2025, 1, 1))])
    journals = build_cogs_journals(s, options=CogsOptions(enabled=True, method=method, per=per), book=book,
                                   accounts=default_account_map(), final_date=date(2025, 8, 28), currency="USD")
    cost = {"A": unit, "B": unit * 2, "C": Decimal("3.10")}
    out = sum((q * cost[sku] for sku, q in sales), Decimal(0)) + sum((cost[s_] for s_ in damages), Decimal(0))
    back = sum((q * cost[sku] for sku, q in refunds), Decimal(0))
    inventory = Decimal(0)
    for j in journals:
        assert j.balanced and all(l.amount != 0 and l.amount == l.amount.quantize(Decimal("0.01")) for l in j.lines)
        assert all(l.rows for l in j.lines)  # every line names its report rows
        inventory += sum((l.amount for l in j.lines if l.role == Role.INVENTORY_ASSET), Decimal(0))
    # each (kind, SKU) line is rounded to the cent on its own (one that rounds to nothing is not posted): within
    # half a cent a line (and a month part) of the exact cost
    groups = len({s_ for s_, _ in sales}) + len({s_ for s_, _ in refunds}) + len(set(damages))
    assert abs(-inventory - (out - back)) <= Decimal("0.005") * groups * 2
    if per == "month":
        assert {j.period for j in journals} <= {"2025-07", "2025-08"}
        assert all(j.key.endswith("/cogs/" + j.period) for j in journals)
    else:
        assert len(journals) <= 1 and all(j.key.endswith("/cogs") for j in journals)
