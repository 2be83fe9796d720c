"""The outbox's promises with the clock in the test's hand: the same event is queued once per channel; a
condition (a dead-letter backlog) alerts when it starts and again only after it ended; digests batch a window's
events into one message; quiet hours hold messages and release them after; a sender that crashed between
sending and marking is the one at-least-once window; two senders never both take a message."""

from __future__ import annotations

import datetime as dt

from alerts_helpers import webhook_rules
from fake_services import FakeService

from ledgerlink.alerts import AnomalyFinding, WorkspaceAlerts
from ledgerlink.alerts.outbox import LEASE_SECONDS

BERLIN_QUIET = {"start": "22:00", "end": "07:00"}


def _at(clock, iso: str) -> None:
    clock.now = dt.datetime.fromisoformat(iso).timestamp()


def test_a_digest_batches_the_window_into_one_message(write_rules, receiver, clock):
    alerts = WorkspaceAlerts(write_rules(webhook_rules(receiver.url, digest_minutes=15)), clock=clock)
    shop = FakeService("shop")
    for run in range(1, 6):  # five failed runs, two minutes apart
        shop.fail_run(run, f"failure {run}")
        alerts.evaluate([shop])
        assert alerts.send_pending().composed == 0
        clock.advance(120)
    assert receiver.received == []  # the window (opened by the first) is still open
    clock.advance(15 * 60 - 5 * 120)
    report = alerts.send_pending()
    assert (report.composed, report.sent) == (1, 1)
    assert len(receiver.received) == 1
    body = receiver.received[0].json()
    assert body["subject"] == "[ledgerlink] 5 alerts (shop)"
    assert [e["title"] for e in body["events"]] == [f"shop: run {i} failed" for i in range(1, 6)]
    assert body["url"] == "https://books.example.com/"
    assert all(e["url"] == "https://books.example.com/runs?pipeline=shop" for e in body["events"])
    alerts.stop()


def test_quiet_hours_hold_messages_and_send_them_after(write_rules, receiver, clock):
    rules = webhook_rules(receiver.url, timezone="Europe/Berlin", quiet_hours=BERLIN_QUIET)
    alerts = WorkspaceAlerts(write_rules(rules), clock=clock)
    shop = FakeService()
    _at(clock, "2027-01-15T22:30:00+01:00")
    shop.fail_run(1, "at night")
    alerts.evaluate([shop])
    assert alerts.send_pending().held == 1
    _at(clock, "2027-01-16T03:00:00+01:00")
    shop.fail_run(2, "later at night")
    alerts.evaluate([shop])
    assert alerts.send_pending().held == 2 and receiver.received == []
    _at(clock, "2027-01-16T06:59:59+01:00")
    assert alerts.send_pending().sent == 0
    _at(clock, "2027-01-16T07:00:00+01:00")  # 06:00 UTC: quiet ends in Berlin
    report = alerts.send_pending()
    assert (report.held, report.sent) == (0, 1)
    assert receiver.received[0].json()["subject"] == "[ledgerlink] 2 alerts (shop)"
    alerts.stop()


def test_a_retry_that_falls_into_quiet_hours_waits_for_them(write_rules, clock):
    from alerts_helpers import WebhookReceiver

    with WebhookReceiver(clock, statuses=[500]) as receiver:
        rules = webhook_rules(receiver.url, timezone="UTC", quiet_hours={"start": "22:00", "end": "06:00"})
        alerts = WorkspaceAlerts(write_rules(rules), clock=clock)
        shop = FakeService()
        _at(clock, "2027-01-15T21:59:00+00:00")
        shop.fail_run(1, "boom")
        alerts.evaluate([shop])
        assert alerts.send_pending().retrying == 1
        _at(clock, "2027-01-15T23:00:00+00:00")
        assert alerts.send_pending().sent == 0 and len(receiver.received) == 1
        _at(clock, "2027-01-16T06:00:00+00:00")
        assert alerts.send_pending().sent == 1
        alerts.stop()


def test_a_condition_alerts_when_it_starts_and_again_only_after_it_ended(write_rules, receiver, clock):
    rules = webhook_rules(receiver.url)
    rules["rules"] = [{"events": ["dead_letters"], "channels": ["ops"], "dead_letters_above": 2}]
    alerts = WorkspaceAlerts(write_rules(rules), clock=clock)
    shop = FakeService()
    seen = []
    for open_letters in (1, 3, 3, 5, 2, 0, 4):
        shop.store.dead_letters.open = open_letters
        seen.append(alerts.evaluate([shop]))
        alerts.send_pending()
    assert seen == [0, 1, 0, 0, 0, 0, 1]
    titles = [r.json()["subject"] for r in receiver.received]
    assert titles == ["[ledgerlink] shop: 3 dead letter(s) open (more than 2)",
                      "[ledgerlink] shop: 4 dead letter(s) open (more than 2)"]
    assert receiver.received[0].json()["url"] == "https://books.example.com/dead-letters?pipeline=shop"
    alerts.stop()


def test_reconcile_findings_and_anomalies_each_alert_once(write_rules, receiver, clock):
    findings = [AnomalyFinding("fee-drift:SKU-1", "fee_drift", "referral fee 18% vs a median of 15% (MAD 0.4%)"),
                {"id": "payout-twice:S-9", "check": "payout_counted_twice", "explanation": "deposit 2041.17 twice"}]
    alerts = WorkspaceAlerts(write_rules(webhook_rules(receiver.url)), clock=clock,
                             anomaly_source=lambda service: findings)
    shop = FakeService()
    shop.last_reconcile = {"findings": [{"check": "settlement_vs_deposit", "subject": "settlement S-1",
                                         "message": "the deposit differs", "expected": "100.00",
                                         "actual": "99.00"}]}
    assert alerts.evaluate([shop]) == 3
    assert alerts.evaluate([shop]) == 0
    findings.append(AnomalyFinding("refund-spike:2027-01", "refund_spike", "refunds at 3x their usual rate"))
    assert alerts.evaluate([shop]) == 1
    alerts.send_pending()
    events = [e for r in receiver.received for e in r.json()["events"]]
    assert sorted(e["title"] for e in events) == [
        "shop: anomaly fee_drift", "shop: anomaly payout_counted_twice", "shop: anomaly refund_spike",
        "shop: reconcile settlement_vs_deposit: settlement S-1"]
    reconcile = next(e for e in events if e["kind"] == "reconcile_finding")
    assert reconcile["detail"] == "the deposit differs (expected 100.00, found 99.00)"
    assert reconcile["url"] == "https://books.example.com/reconcile?pipeline=shop"
    anomaly = next(e for e in events if e["title"].endswith("fee_drift"))
    assert anomaly["url"] == "https://books.example.com/anomalies?pipeline=shop"
    alerts.stop()


def test_a_broken_source_does_not_silence_the_others(write_rules, receiver, clock):
    def broken(service):
        raise RuntimeError("anomaly checks are down")

    alerts = WorkspaceAlerts(write_rules(webhook_rules(receiver.url)), clock=clock, anomaly_source=broken)
    shop = FakeService()
    shop.fail_run(1, "boom")
    assert alerts.evaluate([shop]) == 1
    alerts.stop()


def test_token_expiry_through_its_source(write_rules, receiver, clock):
    rules = webhook_rules(receiver.url)
    rules["rules"] = [{"events": ["token_expiring"], "channels": ["ops"], "token_expires_within_days": 14}]
    expires = clock.now + 20 * 86400
    alerts = WorkspaceAlerts(write_rules(rules), clock=clock,
                             token_source=lambda service: [("the QuickBooks refresh token", expires)])
    shop = FakeService()
    assert alerts.evaluate([shop]) == 0
    clock.advance(7 * 86400)
    assert alerts.evaluate([shop]) == 1
    assert alerts.evaluate([shop]) == 0
    alerts.send_pending()
    assert receiver.received[0].json()["subject"] == \
        "[ledgerlink] shop: the QuickBooks refresh token expires in 13.0 days"
    alerts.stop()


def test_rules_choose_pipelines_and_channels(write_rules, receiver, clock, monkeypatch):
    from alerts_helpers import WebhookReceiver

    with WebhookReceiver(clock) as second:
        rules = webhook_rules(receiver.url)
        rules["channels"]["audit"] = {"type": "webhook", "url": second.url, "secret_env": "TEST_WEBHOOK_SECRET"}
        rules["rules"] = [{"events": ["run_failed"], "pipelines": ["shop"], "channels": ["ops"]},
                          {"events": ["run_failed"], "channels": ["audit", "ops"]}]
        alerts = WorkspaceAlerts(write_rules(rules), clock=clock)
        shop, outlet = FakeService("shop"), FakeService("outlet")
        shop.fail_run(1, "boom")
        outlet.fail_run(1, "bang")
        assert alerts.evaluate([shop, outlet]) == 4  # shop → ops, audit; outlet → audit, ops (the same event once)
        alerts.send_pending()
        # what is waiting for a channel goes out together: one message each, both events in it
        assert len(receiver.received) == 1 and len(second.received) == 1
        for got in (receiver.received[0], second.received[0]):
            assert sorted(e["title"] for e in got.json()["events"]) == ["outlet: run 1 failed", "shop: run 1 failed"]
        alerts.stop()


def test_a_rule_for_one_pipeline_ignores_the_others(write_rules, receiver, clock):
    rules = webhook_rules(receiver.url)
    rules["rules"] = [{"events": ["run_failed"], "pipelines": ["shop"], "channels": ["ops"]}]
    alerts = WorkspaceAlerts(write_rules(rules), clock=clock)
    shop, outlet = FakeService("shop"), FakeService("outlet")
    outlet.fail_run(1, "bang")
    assert alerts.evaluate([shop, outlet]) == 0
    shop.fail_run(1, "boom")
    assert alerts.evaluate([shop, outlet]) == 1
    alerts.stop()


def test_crash_between_send_and_mark_is_the_one_at_least_once_window(write_rules, receiver, clock):
    alerts = WorkspaceAlerts(write_rules(webhook_rules(receiver.url)), clock=clock)
    shop = FakeService()
    shop.fail_run(1, "boom")
    alerts.evaluate([shop])
    alerts.send_pending()
    assert len(receiver.received) == 1
    # a second sender taking a claimed message: refused (no double send while the first is at work)
    message_id = alerts.outbox.compose("ops", [], clock.now)
    assert alerts.outbox.claim(message_id, clock.now)
    assert not alerts.outbox.claim(message_id, clock.now)
    # the claimer "crashed" before marking: after the lease another sender may take it over
    clock.advance(LEASE_SECONDS - 1)
    assert not alerts.outbox.claim(message_id, clock.now)
    clock.advance(1)
    assert alerts.outbox.claim(message_id, clock.now)
    alerts.outbox.mark_sent(message_id, clock.now)
    assert alerts.outbox.message(message_id).status == "sent"
    assert not alerts.outbox.claim(message_id, clock.now + 10 * LEASE_SECONDS)  # sent is final
    alerts.stop()


def test_events_persist_across_a_restart_before_sending(write_rules, receiver, clock):
    folder = write_rules(webhook_rules(receiver.url, digest_minutes=10))
    alerts = WorkspaceAlerts(folder, clock=clock)
    shop = FakeService()
    shop.fail_run(1, "boom")
    alerts.evaluate([shop])
    alerts.stop()  # serve stops before the digest window closed
    again = WorkspaceAlerts(folder, clock=clock)
    assert again.evaluate([shop]) == 0  # already queued: not twice
    clock.advance(600)
    assert again.send_pending().sent == 1 and len(receiver.received) == 1
    again.stop()
