"""The cheap constructions of the canonical model (issue 18) build what validation builds, and the planner's
look-up of what was posted holds one batch at a time."""

from __future__ import annotations

import gc
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from ledgerlink import Money, PlannedWrite, SettlementLine, SourceRef
from ledgerlink.runtime.normalise import _fewer_collections
from ledgerlink.runtime.posted import PostedLookup
from ledgerlink.store import Store

_decimals = st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**9, max_value=10**9)


@given(amount=_decimals, currency=st.sampled_from(["USD", "usd", "JPY", "Eur", "GBP"]))
def test_money_built_directly_equals_money_validated(amount: Decimal, currency: str):
    direct = Money(amount=amount, currency=currency)
    validated = Money.model_validate({"amount": amount, "currency": currency})
    assert direct == validated and hash(direct) == hash(validated)
    assert direct.model_dump() == validated.model_dump() and direct.model_fields_set == validated.model_fields_set
    assert Money._exact(amount, validated.currency) == validated


@pytest.mark.parametrize("amount, currency", [(1.5, "USD"), (Decimal("NaN"), "USD"), (Decimal(1), "US"),
                                              (Decimal(1), "U$D")])
def test_money_still_refuses_what_validation_refuses(amount, currency):
    with pytest.raises((TypeError, ValueError, ValidationError)):
        Money(amount=amount, currency=currency)


def test_money_stays_frozen():
    with pytest.raises(ValidationError):
        Money(amount=Decimal(1), currency="USD").amount = Decimal(2)  # type: ignore[misc]


def test_lines_and_refs_construct_as_pydantic_would():
    values = {"row": 7, "transaction_type": "Order", "amount": Money(amount=Decimal("-3.22"), currency="USD"),
              "order_id": "111-1", "posted_at": datetime(2026, 3, 2, tzinfo=timezone.utc), "unknown": 1}
    fast = SettlementLine.model_construct(**values)
    slow = BaseModel.model_construct.__func__(SettlementLine, **values)  # type: ignore[attr-defined]
    assert fast == slow and list(fast.__dict__) == list(slow.__dict__) and repr(fast) == repr(slow)
    assert fast.model_fields_set == slow.model_fields_set == set(values) - {"unknown"}
    assert fast.model_dump() == slow.model_dump()
    ref = SourceRef.model_construct(stream="settlements", key="1/row/7")
    assert ref == SourceRef(stream="settlements", key="1/row/7") and hash(ref) == hash(SourceRef(
        stream="settlements", key="1/row/7"))


def _write(key: str, natural_key: str, stream: str = "SalesReceipt") -> PlannedWrite:
    return PlannedWrite(stream=stream, key=key, data={"DocNumber": key}, natural_key=natural_key)


def test_the_posted_look_up_reads_the_outbox_per_batch_and_forgets_it(tmp_path):
    store = Store(tmp_path / "state.duckdb")
    with store.db.transaction():
        store.outbox.add("qbo", [_write("SalesReceipt:a", "src/order/a"), _write("Invoice:b", "src/order/b", "Invoice")],
                         run_id=1)
    lookup = PostedLookup(store.db, "qbo")
    lookup.prefetch(["src/order/a", "src/order/c"])
    assert [d.key for d in lookup.get("src/order/a")] == ["SalesReceipt:a"] and lookup.get("src/order/c") == []
    assert [d.stream for d in lookup.get("src/order/b")] == ["Invoice"]  # not prefetched: read on demand
    lookup.remember([_write("Payment:c", "src/order/c", "Payment"), _write("SalesReceipt:a", "src/order/a")])
    assert [(d.key, d.status) for d in lookup.get("src/order/c")] == [("Payment:c", "pending")]
    assert [(d.key, d.status) for d in lookup.get("src/order/a")] == [("SalesReceipt:a", "pending")]
    lookup.end_batch()
    assert len(lookup) == 0  # memory stays one batch deep
    assert lookup.get("src/order/c") == []  # the batch was never committed here: the outbox does not have it
    assert PostedLookup(store.db, "other").get("src/order/a") == []  # another destination's rows are not ours
    store.close()


def test_without_a_store_the_look_up_keeps_what_was_planned():
    lookup = PostedLookup(None, "qbo")
    lookup.remember([_write("SalesReceipt:a", "src/order/a")])
    lookup.end_batch()
    assert [d.key for d in lookup.get("src/order/a")] == ["SalesReceipt:a"]


def test_planning_collects_garbage_less_often_and_puts_the_threshold_back():
    before = gc.get_threshold()
    with _fewer_collections():
        assert gc.get_threshold()[0] >= 50_000
    assert gc.get_threshold() == before
