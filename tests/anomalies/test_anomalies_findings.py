"""Findings kept in the pipeline's state: a stable fingerprint, acknowledge and snooze that stick across runs,
resolved when gone and reopened when back; `open_findings` (what alerts call) over a real pipeline file; bad
options and bad decisions are clear errors."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from anomaly_helpers import NOW, Seeded, fee_history
from anomaly_helpers import fakes
from ledgerlink.anomalies import FindingBook, fingerprint, parse_anomaly_options
from ledgerlink.errors import ConfigError


@pytest.fixture
def backlog(tmp_path):
    """A state whose dead-letter queue grew by 12 in the last day (one open finding)."""
    s = Seeded(tmp_path / "state.duckdb", options={"dead_letter_backlog": {"window_hours": 240}})
    for i in range(12):
        s.dead_letter("orders", f"k{i}", "line has no SKU", NOW - timedelta(hours=2))
    yield s
    s.close()


def _run(s: Seeded, now=NOW):
    report = s.run("dead_letter_backlog", now=now)
    FindingBook(s.store).record(report, now)
    return report


def test_a_finding_has_a_stable_fingerprint_and_is_kept(backlog):
    first = _run(backlog)
    [f] = first.findings
    assert f.fingerprint == fingerprint("dead_letter_backlog", f.subject) and len(f.fingerprint) == 20
    assert f.status == "open" and f.first_seen is not None
    again = _run(backlog, NOW + timedelta(minutes=5))
    assert again.findings[0].fingerprint == f.fingerprint and again.findings[0].first_seen == f.first_seen
    assert FindingBook(backlog.store).last_run()["checks"] == ["dead_letter_backlog"]


def test_acknowledged_stays_acknowledged_when_found_again(backlog):
    [f] = _run(backlog).findings
    book = FindingBook(backlog.store)
    [done] = book.decide([f.fingerprint], "acknowledge", "ann", note="known: SKU feed broken", now=NOW)
    assert done.status == "acknowledged" and done.decided_by == "ann" and done.note == "known: SKU feed broken"
    report = _run(backlog, NOW + timedelta(hours=1))
    assert report.findings[0].status == "acknowledged" and not report.open
    assert backlog.store.db.fetchall("SELECT action, decided_by FROM anomaly_decisions") == [("acknowledge", "ann")]


def test_snoozed_until_a_date_then_open_again(backlog):
    [f] = _run(backlog).findings
    book = FindingBook(backlog.store)
    book.decide([f.fingerprint], "snooze", "ann", until=date(2026, 7, 2), now=NOW)
    assert _run(backlog, NOW + timedelta(hours=1)).findings[0].status == "snoozed"
    later = _run(backlog, NOW + timedelta(days=3))
    assert later.findings[0].status == "open" and later.open


def test_gone_is_resolved_and_back_is_open(backlog):
    [f] = _run(backlog).findings
    backlog.store.db.execute("UPDATE dead_letters SET status = 'discarded'")
    assert not _run(backlog).findings
    assert FindingBook(backlog.store).list(status="resolved")[0].fingerprint == f.fingerprint
    backlog.store.db.execute("UPDATE dead_letters SET status = 'open'")
    assert _run(backlog).findings[0].status == "open"


def test_a_check_that_did_not_run_does_not_resolve_its_findings(backlog):
    [f] = _run(backlog).findings
    FindingBook(backlog.store).record(backlog.run("missing_settlement"), NOW)  # another check only
    assert FindingBook(backlog.store).list(fingerprints=[f.fingerprint])[0].status == "open"


def test_bad_decisions_are_clear_errors_and_change_nothing(backlog):
    [f] = _run(backlog).findings
    book = FindingBook(backlog.store)
    with pytest.raises(ConfigError, match="no finding with fingerprint nope"):
        book.decide([f.fingerprint, "nope"], "acknowledge", "ann")
    with pytest.raises(ConfigError, match="needs the date"):
        book.decide([f.fingerprint], "snooze", "ann")
    with pytest.raises(ConfigError, match="not in the future"):
        book.decide([f.fingerprint], "snooze", "ann", until=date(2026, 6, 1), now=NOW)
    with pytest.raises(ConfigError, match="no action 'delete'"):
        book.decide([f.fingerprint], "delete", "ann")
    assert book.list(fingerprints=[f.fingerprint])[0].status == "open"


@pytest.mark.parametrize("given, wrong", [
    ({"referral_fee_drift": {"threshold": -1}}, "referral_fee_drift.threshold"),
    ({"referral_fee_drift": {"treshold": 4}}, "referral_fee_drift.treshold"),
    ({"no_such_check": {}}, "no_such_check"),
    ({"unposted_orders": {"max_age_hours": "soon"}}, "unposted_orders.max_age_hours"),
    ({"disabled": ["nope"]}, "disabled"),
    (["not", "a", "mapping"], "must be a mapping"),
])
def test_bad_thresholds_name_the_field(given, wrong):
    with pytest.raises(ConfigError) as caught:
        parse_anomaly_options(given)
    assert wrong in str(caught.value)


def test_a_fee_drift_acknowledged_in_one_settlement_is_new_in_the_next(tmp_path):
    s = Seeded(tmp_path / "s.duckdb", fee_history(last_referral_rate="0.18"))
    try:
        report = s.run("referral_fee_drift")
        book = FindingBook(s.store)
        book.record(report, NOW)
        book.decide([report.findings[0].fingerprint], "acknowledge", "ann", now=NOW)
        s.objects = fee_history(n=7, last_referral_rate="0.18")  # one more settlement, drifting again
        again = s.run("referral_fee_drift")
        book.record(again, NOW)
        assert [f.status for f in again.findings] == ["open"]
        assert again.findings[0].subject.endswith("S006")
    finally:
        s.close()


def test_open_findings_over_a_pipeline_file(tmp_path):
    """The alerts' entry point: a pipeline file, its state opened and closed, the open findings returned."""
    from ledgerlink.anomalies import decide_findings, list_findings, open_findings
    from ledgerlink.pipeline import load_pipeline
    from ledgerlink.runtime import sync

    host = fakes.fresh_host(tmp_path)
    path = tmp_path / "shop.yaml"
    path.write_text(f"name: shop\nstate: {tmp_path / 'shop.duckdb'}\n"
                    "source: {connector: fake_source, config: {orders: 3, no_sku: [1]}}\n"
                    "destination: {connector: fake_dest, config: {}}\n")
    sync(load_pipeline(path), plugin_host=host)
    assert open_findings(str(path), plugin_host=host) == []  # the refused order was read a moment ago
    later = datetime.now(timezone.utc) + timedelta(days=3)
    found = open_findings(str(path), plugin_host=host, now=later)
    assert [(f.check, f.subject) for f in found] == [("unposted_orders", "order record orders/O-0001")]
    assert "order line has no SKU" in found[0].explanation
    decide_findings(str(path), [found[0].fingerprint], "acknowledge", "ann")
    assert open_findings(str(path), plugin_host=host, now=later) == []
    assert open_findings(str(path), refresh=False) == []
    assert list_findings(str(path), status="acknowledged")[0].decided_by == "ann"
    with pytest.raises(ConfigError, match="no anomaly check named nope"):
        open_findings(str(path), checks=["nope"], plugin_host=host)
