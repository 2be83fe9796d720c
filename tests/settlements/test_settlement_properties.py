"""Properties: whatever a settlement holds, its journals balance and tie to its total, to the cent."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerlink import Money, Settlement, SettlementLine, quantize
from ledgerlink.settlements import (
    ORDER_FLOW_ROLES, Role, SettlementOptions, classify, default_account_map, default_role_table, journals_for,
)

#: (transaction type, amount type, description) the default table knows, with some unusual ones among them
KNOWN = [
    ("Order", "ItemPrice", "Principal"), ("Order", "ItemPrice", "Shipping"), ("Order", "ItemPrice", "Tax"),
    ("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal"), ("Order", "Promotion", "Principal"),
    ("Order", "ItemFees", "Commission"), ("Order", "ItemFees", "FBAPerUnitFulfillmentFee"),
    ("Refund", "ItemPrice", "Principal"), ("Refund", "ItemFees", "RefundCommission"),
    ("other-transaction", "other-transaction", "Current Reserve Amount"),
    ("other-transaction", "other-transaction", "Previous Reserve Amount Balance"),
    ("other-transaction", "other-transaction", "Storage Fee"), ("Payable to Amazon", "other-transaction", None),
    ("Successful charge", "other-transaction", None), ("ServiceFee", "ItemFees", "Cost of Advertising"),
    ("WAREHOUSE_DAMAGE", "other-transaction", None),
]
START = datetime(2025, 8, 20, tzinfo=timezone.utc)

amounts = st.decimals(min_value=Decimal("-5000"), max_value=Decimal("5000"), places=2, allow_nan=False,
                      allow_infinity=False)
fine_amounts = st.decimals(min_value=Decimal("-50"), max_value=Decimal("50"), places=4, allow_nan=False,
                           allow_infinity=False)


@st.composite
def settlements(draw, amount=amounts, currency="USD") -> Settlement:
    n = draw(st.integers(min_value=0, max_value=40))
    lines = []
    for row in range(n):
        tt, at, desc = draw(st.sampled_from(KNOWN))
        day = draw(st.integers(min_value=-45, max_value=20))
        lines.append(SettlementLine(row=row + 2, transaction_type=tt, amount_type=at, amount_description=desc,
                                    amount=Money.of(draw(amount), currency),
                                    order_id=draw(st.sampled_from([None, "111-1", "111-2"])), sku="SKU",
                                    posted_at=START + timedelta(days=day, hours=draw(st.integers(0, 23)))))
    total = quantize(sum((l.amount.amount for l in lines), Decimal(0)), currency)
    return Settlement(source="amazon_sp", settlement_id="99", starts_at=START - timedelta(days=46),
                      ends_at=START + timedelta(days=20), deposit_at=START + timedelta(days=22),
                      total=Money.of(total, currency), lines=lines)


TABLE, ACCOUNTS = default_role_table(), default_account_map()


def _check(s: Settlement, journals, *, total: Decimal) -> None:
    for j in journals:
        assert j.debits == j.credits, j
        assert all(line.amount == line.amount.quantize(Decimal("0.01")) and line.amount != 0 for line in j.lines)
    deposit = [l.amount for j in journals for l in j.lines if l.role in (Role.BANK, Role.PAYABLE_TO_AMAZON)
               and not l.rows]
    assert sum(deposit, Decimal(0)) == total
    assert len(deposit) == (1 if total else 0)
    assert sorted(r for j in journals for r in j.rows) == sorted(l.row for l in s.lines)
    # the carried-forward account nets to zero across the months
    cf = ACCOUNTS.account(Role.CARRIED_FORWARD).name
    assert sum((j.net(cf) for j in journals), Decimal(0)) == 0
    assert len({j.period for j in journals}) == len(journals)


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=settlements(), mode=st.sampled_from(["summary", "per_order"]), split=st.booleans())
def test_random_settlements_always_balance_and_tie_to_the_total(s, mode, split):
    journals = journals_for(s, SettlementOptions(mode=mode, split_by_month=split), table=TABLE, accounts=ACCOUNTS)
    _check(s, journals, total=s.total.amount)
    if mode == "per_order":
        # what the order flow posted into clearing (the rows of its roles) is exactly what the journals take out
        roles = classify(s, TABLE).roles
        posted = sum((l.amount.amount for l, r in zip(s.lines, roles) if r in ORDER_FLOW_ROLES), Decimal(0))
        clearing = ACCOUNTS.account(Role.CLEARING).name
        assert sum((j.net(clearing) for j in journals), Decimal(0)) == -posted
        assert not {Role.SALES, Role.REFUNDS, Role.PROMOTIONS} & {l.role for j in journals for l in j.lines}


@settings(max_examples=60, deadline=None, database=None)
@given(s=settlements(amount=fine_amounts))
def test_rows_with_sub_cent_amounts_still_tie_to_the_cent(s):
    journals = journals_for(s, SettlementOptions(), table=TABLE, accounts=ACCOUNTS)
    _check(s, journals, total=s.total.amount)


@settings(max_examples=60, deadline=None, database=None)
@given(s=settlements(currency="CAD"), rate=st.decimals(min_value=Decimal("0.5"), max_value=Decimal("1.5"), places=4),
       deposit_delta=st.decimals(min_value=Decimal("-3"), max_value=Decimal("3"), places=2))
def test_converted_settlements_balance_and_the_bank_line_is_what_landed(s, rate, deposit_delta):
    landed = quantize(s.total.amount * rate, "USD") + deposit_delta
    journals = journals_for(s, SettlementOptions(home_currency="USD", convert=True, exchange_rates={"CAD": rate},
                                                 deposits={"99": landed}), table=TABLE, accounts=ACCOUNTS)
    if not s.lines:
        assert journals == []
        return
    expected = landed if s.total.amount else Decimal(0)
    _check(s, journals, total=expected)
    assert all(j.currency == "USD" for j in journals)
