"""Deferred transactions: Amazon's DEFERRED → DEFERRED_RELEASED transactions become a recognition at the end of the
month they were sold in and its reversal on release; none when released within the month; the parts tie to the
total or the transaction is held; the finances normaliser emits them beside refunds; options are checked."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from ledgerlink import LedgerOptions, OptionsError, check_options
from ledgerlink.deferred import DeferredTransaction, build_deferral_journals, part_role, plan_deferred
from ledgerlink.settlements import Role, SettlementOnHold, default_account_map
from ledgerlink_amazon_sp.finances.deferred import deferred_transaction, normalise_finances
from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination
from ledgerlink_qbo.destination import QuickBooksOnlineDestination
from deferred_helpers import PlanCtx, transaction


def _txn(**kw) -> DeferredTransaction:
    found = deferred_transaction(transaction("T1", **kw), "finances")
    assert found is not None
    return found


def test_a_sale_deferred_past_its_month_end_is_recognised_then_reversed_on_release():
    still = _txn(posted="2025-08-28", maturity="2025-09-04")
    [recognise] = build_deferral_journals(still, accounts=default_account_map())
    assert recognise.txn_date == date(2025, 8, 31) and recognise.balanced
    assert recognise.key == "JournalEntry:amazon_sp/deferred_transaction/T1"
    lines = {l.role: l.amount for l in recognise.lines}
    # the marketplace's tax nets to nothing; sales credited, fees debited, the deferred account holds the net
    assert lines == {Role.SALES: Decimal("-100.00"), Role.COMMISSION: Decimal("15.00"), Role.FBA_FEES: Decimal("3.22"),
                     Role.DEFERRED_RECEIVABLE: Decimal("81.78")}
    released = _txn(posted="2025-08-28", maturity="2025-09-04", status="DEFERRED_RELEASED", settlement_id="2428868")
    first, second = build_deferral_journals(released, accounts=default_account_map())
    assert first.lines == recognise.lines and first.links == [second.key]
    assert second.key == first.key + "/released" and second.links == [first.key]
    assert second.txn_date == date(2025, 9, 4) and second.balanced
    assert [l.amount for l in second.lines] == [-l.amount for l in first.lines]
    assert "settlement 2428868" in second.memo and all(l.description.startswith("Reversal: ") for l in second.lines)


def test_a_sale_released_within_its_month_needs_nothing():
    same_month = _txn(posted="2025-08-10", maturity="2025-08-17", status="DEFERRED_RELEASED")
    assert build_deferral_journals(same_month, accounts=default_account_map()) == []
    pending = _txn(posted="2025-08-10", maturity="2025-08-17")
    assert build_deferral_journals(pending, accounts=default_account_map(),
                                   now=datetime(2025, 8, 12, tzinfo=timezone.utc)) == []
    # the month ended and it is still held: recognised
    assert build_deferral_journals(pending, accounts=default_account_map(),
                                   now=datetime(2025, 9, 1, 8, tzinfo=timezone.utc))[0].txn_date == date(2025, 8, 31)


def test_parts_that_do_not_tie_hold_the_transaction():
    raw = transaction("T2", posted="2025-08-28", maturity="2025-09-04")
    raw["totalAmount"]["currencyAmount"] = Decimal("1.00")
    held = deferred_transaction(raw, "finances")
    with pytest.raises(SettlementOnHold, match="its parts add up to 81.78 USD, its total is 1.00 USD"):
        build_deferral_journals(held, accounts=default_account_map())


def test_the_parts_take_the_roles_a_settlements_rows_take():
    assert part_role("Sales/Principal") == Role.SALES and part_role("Sales/Principal", "Refund") == Role.REFUNDS
    assert part_role("Sales/ShippingCharge") == Role.SHIPPING_INCOME and part_role("Sales/Tax") == Role.TAX_COLLECTED
    assert part_role("Sales/PromotionDiscount") == Role.PROMOTIONS
    assert part_role("Expenses/Commission") == Role.COMMISSION
    assert part_role("Expenses/FBAPerUnitFulfillmentFee") == Role.FBA_FEES
    assert part_role("Reimbursements/FBAInventoryReimbursement") == Role.REIMBURSEMENTS
    assert part_role("Tax withheld/MarketplaceFacilitatorTax-Shipping") == Role.MARKETPLACE_TAX_WITHHELD
    assert part_role("Expenses/SomethingNewFee") == Role.SELLING_FEES
    assert part_role("Mystery/Thing") == Role.OTHER_ADJUSTMENTS


def test_the_finances_normaliser_emits_deferrals_beside_refunds_and_never_for_released_sales():
    raw = transaction("T3", posted="2025-08-28", maturity="2025-09-04")
    [held] = normalise_finances(raw, {})
    assert isinstance(held, DeferredTransaction) and held.reason == "DD7" and held.status == "deferred"
    plain = {**raw, "transactionStatus": "RELEASED", "contexts": []}
    assert normalise_finances(plain, {}) == []
    from ledgerlink import RecordError
    with pytest.raises(RecordError, match="unknown transactionStatus"):
        normalise_finances({**raw, "transactionStatus": "PENDING"}, {})


def test_the_planners_render_them_for_both_quickbooks_and_only_when_enabled():
    txn = _txn(posted="2025-08-28", maturity="2025-09-04", status="DEFERRED_RELEASED")
    options = {"deferred": {"enabled": True}}
    qbo = QuickBooksOnlineDestination().plan(txn, PlanCtx(options))
    assert [w.data["DocNumber"] for w in qbo] == ["DEF-T1", "REL-T1"]
    assert [w.data["TxnDate"] for w in qbo] == ["2025-08-31", "2025-09-04"]
    assert qbo[0].line_refs[0][1].key == "T1"
    qbd = QuickBooksDesktopDestination().plan(txn, PlanCtx(options))
    assert [w.data["JournalEntryAdd"]["RefNumber"] for w in qbd] == ["DT1", "RT1"]
    assert QuickBooksOnlineDestination().plan(txn, PlanCtx({})) == [] and plan_deferred(txn, PlanCtx({})) == []
    # the release adds the reversal and leaves the recognition as it was planned (posted once, never revised)
    before = _txn(posted="2025-08-28", maturity="2025-09-04")
    for dest, after in ((QuickBooksOnlineDestination(), qbo), (QuickBooksDesktopDestination(), qbd)):
        [planned] = dest.plan(before, PlanCtx(options))
        assert (planned.key, planned.data) == (after[0].key, after[0].data)


def test_the_options_refuse_a_misspelt_key():
    with pytest.raises(OptionsError, match=r"deferred\.enable: unknown key 'enable' \(did you mean 'enabled'\?\)"):
        check_options(LedgerOptions, {"deferred": {"enable": True}})


def test_a_foreign_deferral_posts_in_the_home_currency_when_the_books_convert_settlements():
    txn = _txn(posted="2025-08-28", maturity="2025-09-04")
    txn = txn.model_copy(update={"total": txn.total.model_copy(update={"currency": "CAD"}), "parts": [
        p.model_copy(update={"amount": p.amount.model_copy(update={"currency": "CAD"})}) for p in txn.parts]})
    options = {"deferred": {"enabled": True},
               "settlements": {"home_currency": "USD", "convert": True, "exchange_rates": {"CAD": "0.73"}}}
    [j] = plan_deferred(txn, PlanCtx(options))
    assert j.currency == "USD" and j.balanced
    assert {l.role: l.amount for l in j.lines}[Role.SALES] == Decimal("-73.00")
    with pytest.raises(SettlementOnHold, match="no exchange rate is given"):
        plan_deferred(txn, PlanCtx({**options, "settlements": {"home_currency": "USD", "convert": True}}))


def test_in_per_order_mode_the_sale_is_already_booked_and_only_the_fees_are_recognised():
    txn = _txn(posted="2025-08-28", maturity="2025-09-04")
    [j] = build_deferral_journals(txn, accounts=default_account_map(), mode="per_order")
    assert j.balanced and {l.role: l.amount for l in j.lines} == {
        Role.COMMISSION: Decimal("15.00"), Role.FBA_FEES: Decimal("3.22"), Role.DEFERRED_RECEIVABLE: Decimal("-18.22")}
