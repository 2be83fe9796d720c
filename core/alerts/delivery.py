"""Handing one message to one channel: e-mail over SMTP, a Slack-compatible incoming webhook, or a generic signed
webhook. Each raises DeliveryError saying what the other side did; `transient` failures (refused, timed out, 5xx)
are retried by the outbox with backoff, the others (a webhook that answers 4xx) need a person.

One attempt per call, on purpose: the HTTP toolkit's in-process retries would sleep on serve's alerts thread and
forget their place on a restart; here the backoff lives in the outbox, so it survives one."""

from __future__ import annotations

import json
import smtplib
import socket
import ssl
import time as _time
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import httpx

from ..http.client import unreachable_reason
from ..secrets import mask, register_secret
from .config import AlertsConfig, EmailChannel, SlackChannel, WebhookChannel, env_secret
from .events import AlertEvent
from .render import Content
from .signing import MESSAGE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

__all__ = ["DeliveryError", "deliver"]


class DeliveryError(Exception):
    def __init__(self, message: str, *, transient: bool = True):
        super().__init__(mask(message))
        self.message, self.transient = mask(message), transient


def deliver(config: AlertsConfig, channel: str, content: Content, events: list[AlertEvent], now: float) -> None:
    """Send `content` on `channel` (one attempt). Returns when the other side has accepted it."""
    spec = config.channels.get(channel)
    if spec is None:
        raise DeliveryError(f"channel {channel!r} is no longer in the alert rules", transient=False)
    try:
        if isinstance(spec, EmailChannel):
            _email(spec, channel, content)
        elif isinstance(spec, SlackChannel):
            _slack(spec, channel, content)
        else:
            _webhook(spec, channel, content, events, config.console_url, now)
    except DeliveryError:
        raise
    except Exception as exc:  # a ConfigError (a secret's variable unset) or anything unforeseen: named, retried
        raise DeliveryError(f"{channel}: {getattr(exc, 'message', None) or exc}") from None


# -- e-mail --------------------------------------------------------------------------------------------------------

def _email(spec: EmailChannel, name: str, content: Content) -> None:
    password = env_secret(spec.password_env, f"channels.{name}.password_env") if spec.password_env else None
    register_secret(password)
    msg = EmailMessage()
    msg["Subject"] = content.subject
    msg["From"] = spec.sender
    msg["To"] = ", ".join(spec.to)
    msg["Date"] = formatdate(localtime=False)
    domain = spec.sender.rpartition("@")[2] or "ledgerlink.invalid"
    msg["Message-ID"] = f"<ledgerlink-alert-{content.message_id}@{domain}>"
    msg.set_content(content.text())
    context = ssl.create_default_context(cafile=spec.ca_file)
    server = f"the mail server {spec.host}:{spec.port}"
    try:
        smtp: smtplib.SMTP = (smtplib.SMTP_SSL(spec.host, spec.port, timeout=spec.timeout_seconds, context=context)
                              if spec.security == "tls" else
                              smtplib.SMTP(spec.host, spec.port, timeout=spec.timeout_seconds))
        with smtp:
            if spec.security == "starttls":
                smtp.ehlo()
                smtp.starttls(context=context)
                smtp.ehlo()
            if spec.username:
                smtp.login(spec.username, password or "")
            smtp.send_message(msg)
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"{name}: {server} does not offer {'STARTTLS' if 'STARTTLS' in str(exc) else 'AUTH'}: "
                            "check security: and the port (587 for starttls, 465 for tls)") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"{name}: {server} refused the login {spec.username!r}: {exc.smtp_code} "
                            f"{_said(exc.smtp_error)} (check ${spec.password_env})") from None
    except smtplib.SMTPRecipientsRefused as exc:
        said = "; ".join(f"{who}: {code} {_said(text)}" for who, (code, text) in exc.recipients.items())
        raise DeliveryError(f"{name}: {server} refused the recipients: {said}") from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"{name}: {server} refused the message: {exc.smtp_code} {_said(exc.smtp_error)}") from None
    except smtplib.SMTPServerDisconnected as exc:
        if "timed out" not in str(exc):  # smtplib reports a read timeout as a disconnection
            raise DeliveryError(f"{name}: {server} closed the connection: {exc}") from None
        raise DeliveryError(f"{name}: {server} did not answer within {spec.timeout_seconds:g}s") from None
    except (socket.timeout, TimeoutError):
        raise DeliveryError(f"{name}: {server} did not answer within {spec.timeout_seconds:g}s") from None
    except ssl.SSLError as exc:
        raise DeliveryError(f"{name}: TLS with {server} failed: {exc.reason or exc} (a certificate the system does "
                            "not trust? name it in ca_file)") from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"{name}: {server}: {exc}") from None
    except OSError as exc:
        raise DeliveryError(f"{name}: could not reach {server}: {exc.strerror or exc}") from None


def _said(text: Any) -> str:
    return (text.decode(errors="replace") if isinstance(text, bytes) else str(text)).strip()[:300]


# -- webhooks ------------------------------------------------------------------------------------------------------

def _post(name: str, url: str, body: bytes, headers: dict[str, str], timeout: float, shown: str) -> None:
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.post(url, content=body, headers={"Content-Type": "application/json", **headers})
    except httpx.TimeoutException:
        raise DeliveryError(f"{name}: {shown} did not answer within {timeout:g}s") from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{name}: could not reach {shown}: {unreachable_reason(exc)}") from None
    if response.status_code < 300:
        return
    transient = response.status_code >= 500 or response.status_code in (408, 429)
    raise DeliveryError(f"{name}: {shown} answered HTTP {response.status_code}: {response.text[:200].strip()}",
                        transient=transient)


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack(spec: SlackChannel, name: str, content: Content) -> None:
    url = env_secret(spec.url_env, f"channels.{name}.url_env")
    register_secret(url)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": content.subject[:150]}}]
    for title, detail, link in content.entries[:45]:  # Slack allows 50 blocks a message
        text = f"*<{link}|{_mrkdwn(title)}>*" + (f"\n{_mrkdwn(detail)}" if detail else "")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{content.url}|Open the console>"}]})
    body = json.dumps({"text": content.text()[:3000], "blocks": blocks}).encode()
    _post(name, url, body, {}, spec.timeout_seconds, f"the incoming webhook in ${spec.url_env}")


def _webhook(spec: WebhookChannel, name: str, content: Content, events: list[AlertEvent], console_url: str,
             now: float) -> None:
    secret = env_secret(spec.secret_env, f"channels.{name}.secret_env")
    register_secret(secret)
    body = json.dumps(content.to_json(events, console_url), separators=(",", ":")).encode()
    stamp = int(now if now else _time.time())
    headers = {TIMESTAMP_HEADER: str(stamp), SIGNATURE_HEADER: sign(secret, stamp, body),
               MESSAGE_HEADER: str(content.message_id)}
    _post(name, spec.url, body, headers, spec.timeout_seconds, "the webhook")
