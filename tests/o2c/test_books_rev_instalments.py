"""Partial payments of an invoice (issue 19): an invoiced order the channel says is paid in part posts a payment
for what was paid, each later instalment a payment for the difference, and the payment that completes it the
rest, in both QuickBooks destinations; planning again plans the same payments. Then into the QuickBooks Online
sandbox: the invoice's balance goes down with each payment, to zero."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

from ledgerlink import Money, OutboundRecord, json_dumps, json_loads
from ledgerlink.runtime.normalise import PlanContextImpl, mapping_engine
from ledgerlink.store import Store
from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination
from ledgerlink_qbo import QuickBooksOnlineDestination

sys.path.insert(0, str(Path(__file__).parents[1] / "returns"))
from returns_helpers import make_order  # noqa: E402 - a 26.60 order
sys.path.insert(0, str(Path(__file__).parents[1] / "settlements"))


#: an Amazon order is unpaid while Unshipped (invoiced then), paid once Shipped
OPTIONS = {"unpaid_statuses": {"amazon": ["Unshipped"]}}


def _order(paid: bool = False, amount_paid: str | None = None):
    order = make_order(tax_collected_by="seller")
    return order.model_copy(update={"paid": paid, "status": "Shipped" if paid else "Unshipped",
                                    "amount_paid": Money.of(amount_paid, "USD") if amount_paid else None})


def _plan(destination, order, ctx, store):
    writes = destination.plan(order, ctx)
    for w in writes:
        w.natural_key = w.natural_key or order.natural_key
    store.outbox.add(destination.name, writes, None)
    ctx.end_batch()
    return [w for w in writes if w.stream in ("Payment", "ReceivePayment")]


def _amount(w) -> Decimal:
    body = w.data.get("ReceivePaymentAdd") or w.data
    return Decimal(str(body.get("TotalAmt") or body.get("TotalAmount")))


@pytest.mark.parametrize("destination", [QuickBooksOnlineDestination(), QuickBooksDesktopDestination()],
                         ids=["qbo", "qbd"])
def test_instalments_post_as_payments_of_the_difference(tmp_path, destination):
    store = Store(tmp_path / "state.duckdb")
    try:
        ctx = PlanContextImpl(mapping_engine(destination, {}, None), OPTIONS, store=store, destination=destination.name)
        assert _plan(destination, _order(), ctx, store) == []  # invoiced, nothing paid yet
        [first] = _plan(destination, _order(amount_paid="10.00"), ctx, store)
        assert first.key.endswith("/paid/10.00") and _amount(first) == Decimal("10.00")
        assert _plan(destination, _order(amount_paid="10.00"), ctx, store)[0].key == first.key  # the same again
        [second] = _plan(destination, _order(amount_paid="20.00"), ctx, store)
        assert second.key.endswith("/paid/20.00") and _amount(second) == Decimal("10.00")
        [last] = _plan(destination, _order(paid=True), ctx, store)
        assert "/paid/" not in last.key and _amount(last) == Decimal("6.60")  # 26.60 in all
        assert store.outbox.counts()[last.stream] == {"pending": 3}
    finally:
        store.close()


def test_an_order_paid_at_once_posts_one_payment_as_before(tmp_path):
    destination = QuickBooksOnlineDestination()
    store = Store(tmp_path / "state.duckdb")
    try:
        ctx = PlanContextImpl(mapping_engine(destination, {}, None), OPTIONS, store=store, destination=destination.name)
        _plan(destination, _order(), ctx, store)
        [payment] = _plan(destination, _order(paid=True), ctx, store)
        assert payment.key == f"Payment:{_order().natural_key}" and _amount(payment) == Decimal("26.60")
    finally:
        store.close()


def test_instalments_bring_the_invoice_balance_to_zero_in_the_qbo_sandbox(tmp_path):
    from test_settlement_end_to_end import _qbo, _write  # the sandbox and a destination opened on it

    destination = QuickBooksOnlineDestination()
    store = Store(tmp_path / "state.duckdb")
    try:
        ctx = PlanContextImpl(mapping_engine(destination, {}, None), OPTIONS, store=store, destination=destination.name)
        plans = []
        for order in (_order(), _order(amount_paid="10.00"), _order(amount_paid="20.00"), _order(paid=True)):
            writes = destination.plan(order, ctx)
            for w in writes:
                w.natural_key = w.natural_key or order.natural_key
            store.outbox.add(destination.name, writes, None)
            ctx.end_batch()
            plans.append(writes)
    finally:
        store.close()
    records: dict[str, OutboundRecord] = {}
    with _qbo() as (open_destination, get):
        results = {}
        for writes in plans:  # each state of the order synced in turn, as the channel reported it
            new = [OutboundRecord(key=w.key, stream=w.stream, data=json_loads(json_dumps(w.data))) for w in writes
                   if w.key not in records]
            records.update({r.key: r for r in new})
            results.update(_write(open_destination(), new))
        assert all(r.ok for r in results.values()), results
        [invoice_key] = [k for k in records if k.startswith("Invoice:")]
        invoice = get(f"invoice/{results[invoice_key].destination_id}")["Invoice"]
        assert Decimal(str(invoice["TotalAmt"])) == Decimal("26.60") and Decimal(str(invoice["Balance"])) == 0
        payments = [get(f"payment/{r.destination_id}")["Payment"] for k, r in results.items() if k.startswith("Payment")]
        assert sorted(Decimal(str(p["TotalAmt"])) for p in payments) == [Decimal("6.60"), Decimal("10.00"),
                                                                         Decimal("10.00")]
