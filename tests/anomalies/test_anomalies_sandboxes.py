"""The checks over pipelines really synced against the sandboxes: every check runs or says why it does not apply,
none breaks, and the sandboxes' realistic data (shipping in the referral-fee base, tax charged before a coupon,
unpaid BigCommerce orders that are not posted by design, returns that came back) raises no false finding."""

from __future__ import annotations

import pytest

from ledgerlink.anomalies import run_anomalies
from ledgerlink.pipeline import load_pipeline
from ledgerlink.runtime import sync
from sandbox_helpers import amazon_env, bigcommerce_env, qbo_env, sandbox_running, write_shipped

CASES = {
    "bigcommerce-to-qbo.yaml": {"tax_rate_drift", "cancellation_spike", "unposted_orders", "dead_letter_backlog"},
    "amazon-returns-to-qbo.yaml": {"refund_without_restock", "refund_rate_spike", "unposted_orders",
                                   "tax_rate_drift", "facilitator_tax_as_liability"},
    "amazon-settlements-to-qbo.yaml": {"referral_fee_drift", "missing_settlement", "overlapping_settlement",
                                       "deposit_mismatch", "payout_counted_twice", "held_settlement"},
}


@pytest.mark.slow
@pytest.mark.parametrize("shipped", sorted(CASES))
def test_a_synced_pipeline_raises_no_false_finding(tmp_path, shipped):
    with sandbox_running("amazon_sp", orders=60) as (amazon, _), sandbox_running("bigcommerce") as (bc, _), \
            sandbox_running("qbo") as (qbo, _):
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon), **bigcommerce_env(bc),
               **qbo_env(qbo, batch_per_minute="40000")}
        pipeline = load_pipeline(write_shipped(tmp_path, shipped), env=env)
        assert sync(pipeline).status == "succeeded"
        report = run_anomalies(pipeline)
    assert not report.failed
    assert set(report.checks) == set(report.passed) | set(report.not_applicable) | {f.check for f in report.findings}
    assert CASES[shipped] <= set(report.passed), (report.not_applicable, [f.subject for f in report.findings])
    assert not report.findings, [(f.check, f.subject, f.explanation) for f in report.findings]
