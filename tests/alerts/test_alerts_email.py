"""E-mail alerts against a real SMTP server on loopback (aiosmtpd): STARTTLS on a certificate made by the test,
AUTH with the password from the environment (never in a log or the outbox), the message arriving once with its
link; a server that refuses (5xx) or never answers is retried with backoff and the message is not lost."""

from __future__ import annotations

import logging
from typing import Any

from alerts_helpers import SMTP_PASSWORD, SMTP_USER, Inbox, SilentServer, SmtpServer, self_signed
from fake_services import FakeService

from ledgerlink.alerts import WorkspaceAlerts, alerts_db_path


def email_rules(port: int, ca_file: Any = None, **channel: Any) -> dict[str, Any]:
    mail: dict[str, Any] = {"type": "email", "host": "127.0.0.1", "port": port, "from": "ledgerlink@shop.example",
                            "to": ["books@shop.example"], "timeout_seconds": 5}
    if ca_file is not None:
        mail.update(security="starttls", username=SMTP_USER, password_env="TEST_SMTP_PASSWORD", ca_file=str(ca_file))
    else:
        mail.update(security="none")
    mail.update(channel)
    return {"console_url": "https://books.example.com/",
            "retry": {"max_attempts": 5, "first_delay_seconds": 30, "max_delay_seconds": 300},
            "channels": {"mail": mail},
            "rules": [{"events": ["run_failed", "dead_letters"], "channels": ["mail"], "dead_letters_above": 0}]}


def test_starttls_auth_delivers_once_with_the_link(write_rules, clock, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    cert = self_signed(tmp_path)
    inbox = Inbox()
    with SmtpServer(inbox, cert) as server:
        folder = write_rules(email_rules(server.port, ca_file=cert[0]))
        alerts = WorkspaceAlerts(folder, clock=clock)
        shop = FakeService("shop")
        shop.fail_run(12, "QuickBooks said: invalid account")
        alerts.evaluate([shop])
        assert alerts.send_pending().sent == 1
        alerts.evaluate([shop])
        assert alerts.send_pending().sent == 0
    assert len(inbox.messages) == 1 and inbox.tls_seen == [True]
    assert inbox.logins == [(SMTP_USER, SMTP_PASSWORD)]
    mail = inbox.messages[0]
    assert mail["Subject"] == "[ledgerlink] shop: run 12 failed"
    assert mail["To"] == "books@shop.example" and mail["From"] == "ledgerlink@shop.example"
    text = mail.get_payload(decode=True).decode()
    assert "https://books.example.com/runs?pipeline=shop" in text
    assert "QuickBooks said: invalid account" in text
    assert SMTP_PASSWORD not in caplog.text
    alerts.stop()
    assert SMTP_PASSWORD.encode() not in alerts_db_path(folder).read_bytes()


def test_a_wrong_password_is_named_without_the_password(write_rules, clock, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "not-the-password")
    cert = self_signed(tmp_path)
    inbox = Inbox()
    with SmtpServer(inbox, cert) as server:
        alerts = WorkspaceAlerts(write_rules(email_rules(server.port, ca_file=cert[0])), clock=clock)
        shop = FakeService()
        shop.fail_run(1, "boom")
        alerts.evaluate([shop])
        report = alerts.send_pending()
    assert report.retrying == 1 and inbox.messages == []
    assert f"refused the login '{SMTP_USER}': 535" in report.errors[0]
    assert "not-the-password" not in report.errors[0]
    assert "not-the-password" not in (alerts.outbox.messages()[0].last_error or "")
    alerts.stop()


def test_an_untrusted_certificate_is_refused_clearly(write_rules, clock, tmp_path):
    cert = self_signed(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    stranger, _ = self_signed(other)
    with SmtpServer(Inbox(), cert) as server:
        alerts = WorkspaceAlerts(write_rules(email_rules(server.port, ca_file=stranger)), clock=clock)
        shop = FakeService()
        shop.fail_run(1, "boom")
        alerts.evaluate([shop])
        report = alerts.send_pending()
    assert report.retrying == 1 and "TLS with the mail server" in report.errors[0]
    alerts.stop()


def test_a_refusing_server_is_retried_with_backoff_and_the_message_is_sent_once(write_rules, clock):
    inbox = Inbox(refuse="554 5.7.1 Relay access denied")
    with SmtpServer(inbox) as server:
        alerts = WorkspaceAlerts(write_rules(email_rules(server.port)), clock=clock)
        shop = FakeService()
        shop.fail_run(4, "boom")
        alerts.evaluate([shop])
        first = alerts.send_pending()
        assert first.retrying == 1
        assert "refused the message: 554 5.7.1 Relay access denied" in first.errors[0]
        assert alerts.outbox.messages()[0].next_attempt_at == clock.now + 30
        clock.advance(29)
        assert alerts.send_pending().retrying == 0  # not due yet
        inbox.refuse = None
        clock.advance(1)
        assert alerts.send_pending().sent == 1
        clock.advance(3600)
        assert alerts.send_pending().sent == 0
    assert len(inbox.messages) == 1
    message = alerts.outbox.messages()[0]
    assert (message.status, message.attempts) == ("sent", 2)
    alerts.stop()


def test_a_server_that_never_answers_times_out_and_is_retried(write_rules, clock):
    with SilentServer() as silent:
        alerts = WorkspaceAlerts(write_rules(email_rules(silent.port, timeout_seconds=0.3)), clock=clock)
        shop = FakeService()
        shop.fail_run(1, "boom")
        alerts.evaluate([shop])
        report = alerts.send_pending()
    assert report.retrying == 1 and "did not answer within 0.3s" in report.errors[0]
    message = alerts.outbox.messages()[0]
    assert message.status == "pending" and len(message.events) == 1  # kept, to be sent again
    alerts.stop()


def test_an_unreachable_server_and_an_unset_password_are_named(write_rules, clock, monkeypatch):
    from alerts_helpers import free_port

    monkeypatch.delenv("TEST_SMTP_PASSWORD")
    rules = email_rules(free_port(), ca_file="/nonexistent.pem")
    alerts = WorkspaceAlerts(write_rules(rules), clock=clock)
    shop = FakeService()
    shop.fail_run(1, "boom")
    alerts.evaluate([shop])
    report = alerts.send_pending()
    assert "environment variable TEST_SMTP_PASSWORD is not set" in report.errors[0]
    alerts.stop()
