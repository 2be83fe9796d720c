"""Earlier refunds of the same order count toward the over-refund check (issue 19), in both QuickBooks
destinations, through the runtime's real PlanContext and outbox: a second refund that, with the first, gives back
more than the order was paid is a dead letter naming both amounts; one within what is left posts."""

from __future__ import annotations

import pytest

from ledgerlink import RecordError, Refund
from ledgerlink.runtime.normalise import PlanContextImpl, mapping_engine
from ledgerlink.store import Store
from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination
from ledgerlink_qbo import QuickBooksOnlineDestination
from returns_helpers import make_order, make_refund


def _plan(destination, obj, ctx):
    """Plan as the runtime does: each write keyed to its object's natural key."""
    writes = destination.plan(obj, ctx)
    for w in writes:
        w.natural_key = w.natural_key or obj.natural_key
    return writes


def _second(refund: Refund, n: int) -> Refund:
    return refund.model_copy(update={"refund_id": f"111-1/ADJ{n}"})


@pytest.mark.parametrize("destination", [QuickBooksOnlineDestination(), QuickBooksDesktopDestination()],
                         ids=["qbo", "qbd"])
def test_a_second_refund_counts_the_first_against_the_order(tmp_path, destination):
    store = Store(tmp_path / "state.duckdb")
    try:
        options = {"customer_strategy": "per_buyer"} if destination.name == "qbo" else {}
        ctx = PlanContextImpl(mapping_engine(destination, {}, None), options, store=store,
                              destination=destination.name)
        order = make_order(tax_collected_by="seller")  # 26.60 paid
        store.outbox.add(destination.name, _plan(destination, order, ctx), None)
        ctx.end_batch()  # the order's batch is committed
        first = _plan(destination, make_refund(amount="15.00", tax="0.80"), ctx)  # 15.80 back
        store.outbox.add(destination.name, first, None)
        ctx.end_batch()
        with pytest.raises(RecordError) as caught:  # 15.80 more would make 31.60 of 26.60
            _plan(destination, _second(make_refund(amount="15.00", tax="0.80"), 2), ctx)
        assert "with 15.80 USD refunded before" in caught.value.message and "26.60" in caught.value.message
        assert caught.value.key == "amazon_sp/refund/111-1/ADJ2"
        # what is left (10.80) may still be refunded; the first refund planned again does not count itself
        assert _plan(destination, _second(make_refund(amount="10.00", tax="0.80"), 3), ctx)
        assert _plan(destination, make_refund(amount="15.00", tax="0.80"), ctx)
        # a refund planned earlier in the same batch (not yet in the outbox) counts too
        ctx.remember(_plan(destination, _second(make_refund(amount="10.00", tax="0.80"), 4), ctx))
        with pytest.raises(RecordError):
            _plan(destination, _second(make_refund(amount="1.00", tax="0.00"), 5), ctx)
    finally:
        store.close()
