"""Per-order settlements end to end (issue 19): the orders post into the clearing account, each settlement's
journal closes them there, and the payout is a Deposit from clearing to the bank, one per payout. `reconcile`'s
clearing_residual then finds the clearing account holding exactly the orders no payout has paid yet."""

from __future__ import annotations

from decimal import Decimal

from ledgerlink.reconcile import open_context, reconcile
from ledgerlink.runtime import sync
from ledgerlink.settlements import parse_settlement_options
from ledgerlink.store import Store
from ledgerlink.settlements.reconcile_checks import _awaiting_payout, ledger_balance
from test_settlement_pipeline import _qbo_get, _staged_settlements, world  # noqa: F401 - the sandboxes


def _per_order_with_orders(w):
    pipeline = w["pipeline"].model_copy(deep=True)
    pipeline.source.streams = ["orders", "order_items", "settlements"]
    pipeline.destination.options["settlements"]["mode"] = "per_order"
    return pipeline


def test_per_order_payouts_are_deposits_from_clearing_and_clearing_holds_only_unpaid_orders(world):
    with world(orders=30) as w:
        pipeline = _per_order_with_orders(w)
        run = sync(pipeline)
        assert run.status == "succeeded" and run.counts["dead_letters_open"] == 0, run.errors
        staged = _staged_settlements(w)
        assert {summary["currency"] for summary in staged.values()} == {"USD"}
        positive = sorted(sid for sid, summary in staged.items() if Decimal(summary["total-amount"]) > 0)
        assert run.counts["created"]["Deposit"] == len(positive) > 0
        store = Store(w["state"])
        try:
            ids = [r[0] for r in store.db.fetchall("SELECT r.destination_id FROM outbox o JOIN results r ON r.key = "
                                                   "o.key WHERE o.stream = 'Deposit'")]
        finally:
            store.close()
        deposits = [_qbo_get(w, f"deposit/{i}")["Deposit"] for i in ids]
        by_settlement = {d["Line"][0]["Description"].split(" ")[3]: d for d in deposits}
        assert sorted(by_settlement) == positive
        for sid, d in by_settlement.items():  # the whole payout, from clearing, in one bank line
            assert Decimal(str(d["TotalAmt"])) == Decimal(staged[sid]["total-amount"])
            assert len(d["Line"]) == 1 and "Undeposited Funds" in d["Line"][0]["Description"]

        ctx = open_context(pipeline)
        try:
            report = reconcile(ctx, only=["clearing_residual", "reserve_balance"])
            awaiting, orders = _awaiting_payout(ctx, parse_settlement_options(pipeline.destination.options))
            balance = ledger_balance(ctx, "Undeposited Funds")
        finally:
            ctx.store.close()
        assert report.skipped == {} and report.findings == [], report.findings
        # what is left in clearing is the orders after the last payout, and nothing else
        assert orders and balance == awaiting > 0

        again = sync(pipeline)
        assert again.status == "succeeded" and sum(again.counts["created"].values()) == 0


def test_a_payout_without_its_orders_leaves_their_sales_in_clearing(world):
    """Settlements alone in per-order mode (the orders were never posted): clearing holds minus their sales, a
    finding naming the account, while the deposits still took every payout to the bank."""
    with world(orders=30) as w:
        pipeline = w["pipeline"].model_copy(deep=True)
        pipeline.destination.options["settlements"]["mode"] = "per_order"
        run = sync(pipeline)
        assert run.status == "succeeded" and run.counts["created"].get("Deposit", 0) > 0, run.errors
        ctx = open_context(pipeline)
        try:
            [finding] = reconcile(ctx, only=["clearing_residual"]).findings
        finally:
            ctx.store.close()
        assert finding.expected == "0" and Decimal(finding.actual) < 0


def test_a_foreign_payout_deposits_converted_or_at_its_rate():
    """Converted into the books' currency, the deposit is in that currency with no rate of its own; kept in the
    settlement's currency (multicurrency books), it carries the rate, as its journal does."""
    from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination
    from ledgerlink_qbo.destination import QuickBooksOnlineDestination
    from settlement_helpers import PlanCtx, order_rows, settlement

    s = settlement(order_rows(1, "111-1", "100.00", currency="CAD"), currency="CAD")
    options = {"mode": "per_order", "home_currency": "USD", "exchange_rates": {"CAD": "0.73"}}
    converted = QuickBooksOnlineDestination().plan(s, PlanCtx({"settlements": {**options, "convert": True}}))
    [deposit] = [w.data for w in converted if w.stream == "Deposit"]
    assert deposit["CurrencyRef"] == {"value": "USD"} and "ExchangeRate" not in deposit
    assert deposit["Line"][0]["Amount"] == (s.total.amount * Decimal("0.73")).quantize(Decimal("0.01"))
    kept = QuickBooksDesktopDestination().plan(s, PlanCtx({"settlements": {**options, "convert": False}}))
    [add] = [w.data["DepositAdd"] for w in kept if w.stream == "Deposit"]
    assert add["ExchangeRate"] == Decimal("0.73") and add["DepositLineAdd"][0]["Amount"] == s.total.amount
    summary = QuickBooksOnlineDestination().plan(s, PlanCtx({"settlements": {**options, "mode": "summary"}}))
    assert "Deposit" not in {w.stream for w in summary}
