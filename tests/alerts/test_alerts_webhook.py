"""The signed webhook and the Slack-compatible one against a real receiver on loopback: the message arrives once,
signed (the receiver verifies the HMAC at the test's clock), with the link to the console page; a 500 is retried
with backoff and delivered once; a 4xx needs a person; a replayed or tampered request does not verify."""

from __future__ import annotations

import json

from alerts_helpers import WEBHOOK_SECRET, WebhookReceiver, webhook_rules
from fake_services import FakeService

from ledgerlink.alerts import WorkspaceAlerts, sign, verify


def test_a_failed_run_arrives_once_signed_with_its_link(write_rules, receiver, clock):
    alerts = WorkspaceAlerts(write_rules(webhook_rules(receiver.url)), clock=clock)
    shop = FakeService("shop")
    shop.fail_run(7, "fake: connection reset")
    assert alerts.evaluate([shop]) == 1
    assert alerts.evaluate([shop]) == 0  # the same failed run is the same event
    report = alerts.send_pending()
    assert report.sent == 1 and report.errors == []
    assert alerts.send_pending().sent == 0
    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got.verified and got.status == 200
    body = got.json()
    assert body["subject"] == "[ledgerlink] shop: run 7 failed"
    assert body["url"] == "https://books.example.com/runs?pipeline=shop"
    assert body["events"][0]["detail"] == "fake: connection reset"
    assert got.headers["x-ledgerlink-message"] == str(body["id"])
    assert WEBHOOK_SECRET not in got.body.decode()
    assert alerts.outbox.messages()[0].status == "sent"
    alerts.stop()


def test_500_then_200_is_retried_with_backoff_and_delivered_once(write_rules, clock):
    with WebhookReceiver(clock, statuses=[500, 503]) as receiver:
        alerts = WorkspaceAlerts(write_rules(webhook_rules(receiver.url)), clock=clock)
        shop = FakeService()
        shop.fail_run(1, "boom")
        alerts.evaluate([shop])
        first = alerts.send_pending()
        assert (first.sent, first.retrying) == (0, 1)
        assert "answered HTTP 500" in first.errors[0]
        message = alerts.outbox.messages()[0]
        assert message.status == "pending" and message.attempts == 1
        assert message.next_attempt_at == clock.now + 60  # first_delay_seconds
        assert alerts.send_pending().sent == 0 and len(receiver.received) == 1  # not due yet: nothing sent
        clock.advance(60)
        second = alerts.send_pending()
        assert second.retrying == 1 and "HTTP 503" in second.errors[0]
        assert alerts.outbox.messages()[0].next_attempt_at == clock.now + 120  # doubled
        clock.advance(120)
        assert alerts.send_pending().sent == 1
        clock.advance(3600)
        assert alerts.send_pending().sent == 0
        assert [r.status for r in receiver.received] == [500, 503, 200]
        assert len(receiver.delivered) == 1
        # every attempt carried the same message id: a receiver can drop a second delivery
        assert len({r.headers["x-ledgerlink-message"] for r in receiver.received}) == 1
        alerts.stop()


def test_gives_up_after_max_attempts_and_keeps_the_message_for_a_person(write_rules, clock):
    with WebhookReceiver(clock, statuses=[500] * 10) as receiver:
        alerts = WorkspaceAlerts(write_rules(webhook_rules(receiver.url)), clock=clock)
        shop = FakeService()
        shop.fail_run(1, "boom")
        alerts.evaluate([shop])
        for _ in range(4):
            alerts.send_pending()
            clock.advance(600)
        message = alerts.outbox.messages()[0]
        assert (message.status, message.attempts) == ("failed", 4)
        assert "HTTP 500" in (message.last_error or "")
        assert alerts.send_pending().sent == 0 and len(receiver.received) == 4
        receiver.statuses.clear()
        assert alerts.outbox.retry_failed(clock.now) == 1
        assert alerts.send_pending().sent == 1 and len(receiver.delivered) == 1
        alerts.stop()


def test_a_4xx_is_not_retried(write_rules, clock):
    with WebhookReceiver(clock, statuses=[404]) as receiver:
        alerts = WorkspaceAlerts(write_rules(webhook_rules(receiver.url)), clock=clock)
        shop = FakeService()
        shop.fail_run(1, "boom")
        alerts.evaluate([shop])
        report = alerts.send_pending()
        assert report.failed == 1 and "HTTP 404" in report.errors[0]
        clock.advance(86400)
        assert alerts.send_pending().sent == 0 and len(receiver.received) == 1
        alerts.stop()


def test_a_wrong_secret_does_not_verify(write_rules, clock, monkeypatch):
    with WebhookReceiver(clock, secret="the receiver's own secret") as receiver:
        alerts = WorkspaceAlerts(write_rules(webhook_rules(receiver.url)), clock=clock)
        shop = FakeService()
        shop.fail_run(1, "boom")
        alerts.evaluate([shop])
        report = alerts.send_pending()
        assert report.failed == 1 and "HTTP 401" in report.errors[0]
        assert receiver.received[0].verified is False
        alerts.stop()


def test_signature_rejects_replays_and_tampering():
    body = b'{"id":1}'
    signature = sign("k", 1_800_000_000, body)
    assert verify("k", "1800000000", body, signature, now=1_800_000_100)
    assert not verify("k", "1800000000", body, signature, now=1_800_000_000 + 301)  # replayed later
    assert not verify("k", "1800000000", b'{"id":2}', signature, now=1_800_000_000)  # body changed
    assert not verify("k", "1800000001", body, signature, now=1_800_000_000)  # timestamp changed
    assert not verify("other", "1800000000", body, signature, now=1_800_000_000)
    assert not verify("k", None, body, signature, now=1_800_000_000)
    assert signature.startswith("v1=") and len(signature) == 3 + 64


def test_slack_compatible_webhook_gets_text_and_blocks_with_links(write_rules, clock, monkeypatch):
    with WebhookReceiver(clock, secret=None) as receiver:
        monkeypatch.setenv("TEST_SLACK_URL", receiver.url)
        rules = webhook_rules(receiver.url)
        rules["channels"] = {"chat": {"type": "slack", "url_env": "TEST_SLACK_URL"}}
        rules["rules"][0]["channels"] = ["chat"]
        alerts = WorkspaceAlerts(write_rules(rules), clock=clock)
        shop = FakeService()
        shop.fail_run(3, "a <b> & c")
        shop.store.dead_letters.open = 2
        alerts.evaluate([shop])
        assert alerts.send_pending().sent == 1
        body = json.loads(receiver.received[0].body)
        assert "https://books.example.com/runs?pipeline=shop" in body["text"]
        sections = [b["text"]["text"] for b in body["blocks"] if b["type"] == "section"]
        assert any(s.startswith("*<https://books.example.com/dead-letters?pipeline=shop|shop: 2 dead letter(s) open>*")
                   for s in sections)
        assert any("a &lt;b&gt; &amp; c" in s for s in sections)
        assert body["blocks"][0]["text"]["text"] == "[ledgerlink] 2 alerts (shop)"
        alerts.stop()
