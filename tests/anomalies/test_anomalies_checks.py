"""Every anomaly check on seeded state: data that triggers it, data that does not, and the reason it gives when
the pipeline lacks what it needs (never a silent pass)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from anomaly_helpers import (NOW, Seeded, day, fee_history, only, order, product, refund, returned, sale_rows,
                             settlement)
from ledgerlink.anomalies import CHECKS, check_names


@pytest.fixture
def seeded(tmp_path):
    made = []

    def make(objects=(), **kwargs):
        s = Seeded(tmp_path / f"state{len(made)}.duckdb", objects, **kwargs)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def test_eighteen_checks_are_registered_in_order():
    assert check_names(None) == list(CHECKS) and len(CHECKS) == 18


def test_an_empty_pipeline_says_why_each_check_does_not_apply(seeded):
    report = seeded().run()
    assert not report.findings and not report.failed
    # only the checks over the state itself (dead letters, holds) can run on nothing
    assert set(report.passed) == {"dead_letter_backlog"}
    assert all(why for why in report.not_applicable.values())
    assert "no settlements staged" in report.not_applicable["referral_fee_drift"]
    assert "no orders staged" in report.not_applicable["unposted_orders"]


# -- fees -----------------------------------------------------------------------------------------------------------

def test_referral_fee_drift_flags_a_sku_charged_a_new_rate(seeded):
    report = seeded(fee_history(last_referral_rate="0.17")).run("referral_fee_drift")
    [f] = only(report, "referral_fee_drift")
    assert f.subject == "SKU MUG in settlement S005" and f.severity == "warning"
    assert "17.00%" in f.explanation and "15.00%" in f.explanation
    assert {r["order_id"] for r in f.rows} == {"111-005-0", "111-005-1"} and all(r["rows"] for r in f.rows)
    assert "robust z" in f.threshold


def test_referral_fee_drift_tolerates_the_sku_s_usual_variation(seeded):
    # history varies 14.5 %–15.5 %: a 15.4 % sale is within it; a flat history does not flag a steady rate either
    history = []
    for i, rate in enumerate(["0.145", "0.155", "0.15", "0.152", "0.148", "0.154"]):
        history += fee_history(n=1, referral_rate=rate)
        history[-1] = settlement(f"S{i:03d}", day(100 - 14 * i), day(86 - 14 * i),
                                 sale_rows(1, f"111-{i}", "MUG", "20.00", referral=str(-(20 * float(rate))),
                                           posted=day(99 - 14 * i)))
    assert not seeded(history).run("referral_fee_drift").findings
    assert not seeded(fee_history()).run("referral_fee_drift").findings


def test_referral_fee_counts_shipping_in_the_base(seeded):
    # Amazon charges its referral fee on price + shipping: 15 % of 23.00 is not a drift from 15 %
    history = fee_history()
    last = history[-1]
    history[-1] = settlement(last.settlement_id, last.starts_at, last.ends_at,
                             sale_rows(1, "111-x", "MUG", "20.00", shipping="3.00", referral="-3.45",
                                       posted=last.starts_at + timedelta(days=1)))
    assert not seeded(history).run("referral_fee_drift").findings


def test_fulfilment_fee_step_reads_as_a_size_tier_change(seeded):
    report = seeded(fee_history(last_fba="-4.75")).run("fulfilment_fee_drift")
    [f] = only(report, "fulfilment_fee_drift")
    assert "4.75 USD per unit" in f.explanation and "3.22" in f.explanation and "size tier" in f.explanation
    assert not seeded(fee_history()).run("fulfilment_fee_drift").findings


def test_fee_drift_needs_history(seeded):
    report = seeded(fee_history(n=3, last_referral_rate="0.30")).run("referral_fee_drift", "fulfilment_fee_drift")
    assert "5 earlier sales" in report.not_applicable["referral_fee_drift"]
    assert "5 earlier sales" in report.not_applicable["fulfilment_fee_drift"]


def test_fee_drift_threshold_comes_from_the_options(seeded):
    # a 15.4 % sale against 15.0 %: below the default materiality (0.5 points), flagged when it is lowered
    history = fee_history(last_referral_rate="0.154")
    assert not seeded(history).run("referral_fee_drift").findings
    lowered = seeded(history, options={"referral_fee_drift": {"min_change": "0.001"}}).run("referral_fee_drift")
    assert len(only(lowered, "referral_fee_drift")) == 1


# -- settlements ---------------------------------------------------------------------------------------------------

def _chain(*spans):
    return [settlement(f"S{i}", day(a), day(b), sale_rows(1, f"o{i}", "MUG", "10.00", posted=day(a)))
            for i, (a, b) in enumerate(spans)]


def test_missing_settlement_finds_a_gap_and_an_overdue_one(seeded):
    report = seeded(_chain((60, 46), (46, 32), (25, 11))).run("missing_settlement")
    [gap] = only(report, "missing_settlement")
    assert gap.subject == "Amazon.com USD between S1 and S2" and "7.0 days" in gap.explanation
    assert [r["settlement_id"] for r in gap.rows] == ["S1", "S2"]
    overdue = seeded(_chain((60, 46), (46, 32))).run("missing_settlement")
    [late] = only(overdue, "missing_settlement")
    assert late.subject == "Amazon.com USD after S1" and "32 days ago" in late.explanation
    assert not seeded(_chain((40, 26), (26, 12))).run("missing_settlement").findings


def test_overlapping_settlements(seeded):
    [f] = only(seeded(_chain((40, 26), (28, 14))).run("overlapping_settlement"), "overlapping_settlement")
    assert "S0 and S1" in f.subject and "48 hours" in f.explanation
    assert not seeded(_chain((40, 26), (26, 12))).run("overlapping_settlement").findings


def test_held_settlement_from_the_dead_letter_queue(seeded):
    s = seeded(_chain((28, 14)), streams={"settlements"})
    s.dead_letter("settlements", "amazon_sp/settlement/S9", "settlement on hold: its rows add up to 1 but ...",
                  day(3))
    s.dead_letter("orders", "o-1", "line 1 has no SKU", day(3))
    [f] = only(s.run("held_settlement"), "held_settlement")
    assert "72 hours" in f.explanation and f.rows[0]["stream"] == "settlements"
    # younger than the allowed age: not yet
    quiet = seeded(_chain((28, 14)), streams={"settlements"}, options={"held_settlement": {"max_age_hours": 100}})
    quiet.dead_letter("settlements", "S9", "settlement on hold: x", day(3))
    assert not quiet.run("held_settlement").findings


def test_deposit_mismatch_against_the_rows_and_the_bank(seeded):
    good = _chain((28, 14))
    broken = [settlement("S7", day(28), day(14), sale_rows(1, "o", "MUG", "10.00"), total="12.00")]
    [rows] = only(seeded(broken).run("deposit_mismatch"), "deposit_mismatch")
    assert "rows add up to 10.00" in rows.explanation and rows.measured == "2.00"
    bank = seeded(good, options={"deposit_mismatch": {"deposits": {"S0": "9.50"}}}).run("deposit_mismatch")
    [f] = only(bank, "deposit_mismatch")
    assert "bank received 9.50 USD" in f.explanation and f.rows[0]["deposit"] == "9.50"
    # the pipeline's own settlement deposits count too, and a matching one is no finding
    assert only(seeded(good, settlement_options={"deposits": {"S0": "9.00"}}).run("deposit_mismatch"),
                "deposit_mismatch")
    matching = seeded(good, options={"deposit_mismatch": {"deposits": {"S0": "10.00"}}})
    assert not matching.run("deposit_mismatch").findings


def test_payout_counted_twice(seeded):
    a = _chain((28, 14))[0]
    twice = [a, settlement("S0", a.starts_at, a.ends_at, a.lines, key="S0-v1")]
    [f] = only(seeded(twice).run("payout_counted_twice"), "payout_counted_twice")
    assert f.subject == "settlement S0" and {r["source_key"] for r in f.rows} == {"S0", "S0-v1"}
    reissued = [a, settlement("S0B", a.starts_at, a.ends_at, a.lines)]
    [g] = only(seeded(reissued).run("payout_counted_twice"), "payout_counted_twice")
    assert "S0, S0B" in g.subject and g.severity == "warning"
    assert not seeded(_chain((40, 26), (26, 12))).run("payout_counted_twice").findings


# -- tax ------------------------------------------------------------------------------------------------------------

def test_facilitator_tax_left_on_tax_payable(seeded):
    rows = sale_rows(1, "o-1", "MUG", "20.00", tax="1.65", withheld="-1.50")
    [f] = only(seeded([settlement("S1", day(20), day(6), rows)]).run("facilitator_tax_as_liability"),
               "facilitator_tax_as_liability")
    assert "0.15 USD would be booked as sales tax you owe" in f.explanation
    offset = sale_rows(1, "o-1", "MUG", "20.00", tax="1.65", withheld="-1.65")
    assert not seeded([settlement("S1", day(20), day(6), offset)]).run("facilitator_tax_as_liability").findings


def test_facilitator_tax_posted_as_the_seller_s_on_an_order(seeded):
    rows = sale_rows(1, "o-1", "MUG", "20.00", tax="1.65", withheld="-1.65")
    s = seeded([settlement("S1", day(20), day(6), rows), order("o-1", day(20), tax="1.65")])
    s.posted("Receipt:o-1", "orders", "o-1")
    [f] = only(s.run("facilitator_tax_as_liability"), "facilitator_tax_as_liability")
    assert f.subject == "order o-1" and f.severity == "critical" and f.rows[0]["documents"] == ["Receipt:o-1"]
    fine = seeded([settlement("S1", day(20), day(6), rows), order("o-1", day(20), tax="1.65",
                                                                  collected_by="marketplace")])
    assert not fine.run("facilitator_tax_as_liability").findings
    assert "no marketplace-facilitator tax" in seeded([order("o-1", day(20))]).run(
        "facilitator_tax_as_liability").not_applicable["facilitator_tax_as_liability"]


def _taxed(rate_last: str, n: int = 8):
    orders = [order(f"o{i}", day(60 - 7 * i), tax="1.65") for i in range(n)]  # 8.25 % of 20.00
    orders.append(order("late", day(1), tax=rate_last))
    return orders


def test_tax_rate_drift_per_region(seeded):
    [f] = only(seeded(_taxed("2.00")).run("tax_rate_drift"), "tax_rate_drift")
    assert f.subject == "region US/TX" and "10.00%" in f.explanation and "8.25%" in f.explanation
    assert not seeded(_taxed("1.65")).run("tax_rate_drift").findings


# -- margins, refunds, stock ----------------------------------------------------------------------------------------

def test_negative_margin_after_fees_and_cost(seeded):
    sales = fee_history()  # 20.00 each, 3.00 referral + 3.22 fulfilment per unit
    [f] = only(seeded(sales + [product("MUG", "14.00")]).run("negative_margin"), "negative_margin")
    assert "-0.22" in f.explanation and f.measured.startswith("-0.22")
    assert not seeded(sales + [product("MUG", "9.00")]).run("negative_margin").findings
    # a cost given in the options wins over the source's
    assert only(seeded(sales + [product("MUG", "9.00")], options={"negative_margin": {"unit_costs": {"MUG": "15"}}})
                .run("negative_margin"), "negative_margin")


def test_missing_unit_cost(seeded):
    sold = [order("o1", day(5), [("MUG", "1", "20.00"), ("CUP", "2", "10.00")])]
    [f] = only(seeded(sold + [product("MUG", "4.00"), product("CUP", None)]).run("missing_unit_cost"),
               "missing_unit_cost")
    assert f.subject == "SKU CUP"
    assert not seeded(sold + [product("MUG", "4.00"), product("CUP", "3.00")]).run("missing_unit_cost").findings
    why = seeded(sold).run("missing_unit_cost", "negative_margin").not_applicable
    assert "no unit costs are known" in why["missing_unit_cost"] and "no unit costs" in why["negative_margin"]


def test_refund_without_restock_after_the_window(seeded):
    objects = [refund("r1", "o1", day(60)), refund("r2", "o2", day(60)), returned("t2", "o2", day(55)),
               refund("r3", "o3", day(60), restock=True), refund("r4", "o4", day(10))]
    [f] = only(seeded(objects).run("refund_without_restock"), "refund_without_restock")
    assert f.subject == "refund r1 SKU MUG" and "60 days ago" in f.explanation
    why = seeded([refund("r1", "o1", day(60))]).run("refund_without_restock").not_applicable
    assert "whether refunded units came back" in why["refund_without_restock"]


def test_lost_inventory_without_a_reimbursement(seeded):
    s = seeded()
    s.stage("fba_inventory_ledger", {
        "l1": {"Date": "2026-04-01", "MSKU": "MUG", "EventType": "Adjustments", "Reason": "M", "Quantity": "-2"},
        "l2": {"Date": "2026-04-02", "MSKU": "CUP", "EventType": "Adjustments", "Reason": "E", "Quantity": "-1"},
        "l3": {"Date": "2026-06-25", "MSKU": "PLATE", "EventType": "Adjustments", "Reason": "M", "Quantity": "-1"}})
    s.stage("fba_reimbursements", {"x1": {"approval-date": "2026-04-20T00:00:00+00:00", "reimbursement-id": "x1",
                                          "sku": "CUP", "quantity-reimbursed-total": "1"}})
    [f] = only(s.run("lost_inventory_unreimbursed"), "lost_inventory_unreimbursed")
    assert f.subject == "SKU MUG" and "2 unit(s)" in f.measured and "lost in the warehouse" in f.explanation
    assert f.rows[0]["key"] == "l1"


def test_lost_inventory_needs_the_reports(seeded):
    why = seeded().run("lost_inventory_unreimbursed").not_applicable["lost_inventory_unreimbursed"]
    assert "fba_inventory_ledger" in why
    s = seeded([returned("t1", "o1", day(80), disposition="CARRIER_DAMAGED")])
    assert "fba_reimbursements" in s.run("lost_inventory_unreimbursed").not_applicable["lost_inventory_unreimbursed"]
    s.stage("fba_reimbursements", {"x": {"approval-date": "2026-01-01", "sku": "Z"}})
    [f] = only(s.run("lost_inventory_unreimbursed"), "lost_inventory_unreimbursed")
    assert f.rows[0]["order_id"] == "o1" and "carrier damaged" in f.explanation


# -- operations -----------------------------------------------------------------------------------------------------

def _weeks(n_weeks: int, per_week: int, *, cancelled_last: int = 0, cancelled_each: int = 1):
    orders = []
    for w in range(n_weeks):
        for i in range(per_week):
            cancelled = i < (cancelled_last if w == 0 else cancelled_each)
            orders.append(order(f"w{w}-{i}", day(7 * w + 1 + i * 0.1), status="Cancelled" if cancelled else "Shipped"))
    return orders


def test_cancellation_spike(seeded):
    [f] = only(seeded(_weeks(6, 10, cancelled_last=5)).run("cancellation_spike"), "cancellation_spike")
    assert "5 of 10 orders (50.0%)" in f.explanation and "10.0%" in f.explanation and len(f.rows) == 5
    assert not seeded(_weeks(6, 10, cancelled_last=1)).run("cancellation_spike").findings
    assert "earlier period" in seeded(_weeks(2, 10)).run("cancellation_spike").not_applicable["cancellation_spike"]


def test_refund_rate_spike(seeded):
    orders = _weeks(6, 10, cancelled_each=0)
    usual = [refund(f"r{w}", f"w{w}-0", day(7 * w + 0.5)) for w in range(1, 6)]
    spike = [refund(f"s{i}", f"w0-{i}", day(0.5)) for i in range(4)]
    [f] = only(seeded(orders + usual + spike).run("refund_rate_spike"), "refund_rate_spike")
    assert "4 of 10 orders" in f.explanation
    assert not seeded(orders + usual + spike[:1]).run("refund_rate_spike").findings


def test_unposted_orders_after_the_configured_age(seeded):
    s = seeded([order("o1", day(5)), order("o2", day(5)), order("o3", day(1)), order("o4", day(5), paid=False),
                order("o5", day(5), status="Cancelled")])
    s.posted("Receipt:o1", "orders", "o1")
    s.posted("Receipt:o2", "orders", "o2", status="dead")
    s.dead_letter(None, "Receipt:o2", "QuickBooks refused: Duplicate Document Number", day(4))
    [f] = only(s.run("unposted_orders"), "unposted_orders")
    assert f.subject == "order o2" and "dead" in f.explanation and "Duplicate Document Number" in f.explanation
    assert f.rows[0]["documents"] == ["Receipt:o2"]
    longer = seeded([order("o2", day(5))], options={"unposted_orders": {"max_age_hours": 200}})
    longer.posted("Receipt:o9", "orders", "o9")
    assert not longer.run("unposted_orders").findings


def test_unposted_orders_does_not_apply_to_a_pipeline_that_posts_no_orders(seeded):
    why = seeded([order("o1", day(5))]).run("unposted_orders").not_applicable["unposted_orders"]
    assert "never planned a document" in why


def test_web_connector_quiet(seeded):
    s = seeded()
    s.store.references("qb_desktop").put("qbd:contact", "company-1", (NOW - timedelta(hours=30)).isoformat(),
                                         "sendRequestXML")
    s.outbox("k1", "qb_desktop", "awaiting")
    [f] = only(s.run("web_connector_quiet"), "web_connector_quiet")
    assert "30 hours ago" in f.explanation and "1 write(s) wait" in f.explanation and f.severity == "critical"
    recent = seeded()
    recent.store.references("qb_desktop").put("qbd:contact", "company-1", (NOW - timedelta(hours=2)).isoformat())
    assert not recent.run("web_connector_quiet").findings


def test_dead_letter_backlog_growing(seeded):
    s = seeded()
    for i in range(3):
        s.dead_letter("orders", f"old{i}", "old", day(3))
    for i in range(12):
        s.dead_letter("orders", f"new{i}", "line has no SKU", NOW - timedelta(hours=2))
    [f] = only(s.run("dead_letter_backlog"), "dead_letter_backlog")
    assert "from 3 to 15" in f.explanation and f.measured == "+12" and len(f.rows) == 12
    calm = seeded()
    for i in range(12):
        calm.dead_letter("orders", f"old{i}", "old", day(3))
    assert not calm.run("dead_letter_backlog").findings


def test_a_check_that_breaks_is_reported_failed_and_the_others_still_run(seeded, monkeypatch):
    from ledgerlink.anomalies import registry

    def broken(ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(registry.CHECKS, "missing_settlement", broken)
    report = seeded(_chain((28, 14))).run("missing_settlement", "overlapping_settlement")
    assert report.failed == {"missing_settlement": "RuntimeError: boom"}
    assert report.passed == ["overlapping_settlement"]


def test_disabled_checks_are_listed_not_passed(seeded):
    report = seeded(_chain((28, 14)), options={"disabled": ["overlapping_settlement"]}).run("overlapping_settlement")
    assert report.not_applicable == {"overlapping_settlement": "disabled in the pipeline's anomalies options"}
    assert report.passed == []
