"""What the alerts tests share (a module name unique in the suite): a real SMTP server on loopback (aiosmtpd, with
STARTTLS on a self-signed certificate made here, and AUTH), an SMTP server that never answers, a webhook receiver
on loopback that checks the HMAC signature and answers what a test scripts, and a clock the tests move."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ledgerlink.alerts import verify

SMTP_USER, SMTP_PASSWORD = "alerts@shop.example", "s3cret-smtp-pass"
WEBHOOK_SECRET = "whsec-test-0123456789"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:  # 2027-01-15 08:00 UTC
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key), made now: the server's, and the CA file the client trusts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@dataclass
class Inbox:
    """What the SMTP server received; `refuse` makes it answer DATA with that reply (e.g. a 5xx)."""

    messages: list[Any] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    refuse: str | None = None
    tls_seen: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse
        self.tls_seen.append(session.ssl is not None)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


class SmtpServer:
    """aiosmtpd on a free loopback port; with a certificate it requires STARTTLS and AUTH (LOGIN/PLAIN)."""

    def __init__(self, inbox: Inbox, cert: tuple[Path, Path] | None = None):
        self.inbox, self.port = inbox, free_port()
        kwargs: dict[str, Any] = {}
        if cert is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
            kwargs = dict(tls_context=context, require_starttls=True, auth_required=True,
                          authenticator=self._authenticate)
        self.controller = Controller(inbox, hostname="127.0.0.1", port=self.port, ready_timeout=10, **kwargs)

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            self.inbox.logins.append((user, password))
            if (user, password) == (SMTP_USER, SMTP_PASSWORD):
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.controller.stop()


class SilentServer:
    """Accepts connections and never says a word (an SMTP server that hangs): bounded by the client's timeout."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = int(self.sock.getsockname()[1])

    def __enter__(self) -> "SilentServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.sock.close()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    status: int = 0

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """An HTTP server on loopback: answers each POST with the next scripted status (then 200), keeps what it got,
    and checks the HMAC signature against `secret` at the test's clock (None: an unsigned Slack-style hook)."""

    def __init__(self, clock: Clock, secret: str | None = WEBHOOK_SECRET, statuses: list[int] | None = None):
        self.clock, self.secret = clock, secret
        self.statuses = list(statuses or [])
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                ok = receiver.secret is None or verify(receiver.secret, headers.get("x-ledgerlink-timestamp"), body,
                            headers.get("x-ledgerlink-signature"), now=receiver.clock())
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                status = status if ok else 401
                receiver.received.append(Received(self.path, headers, body, ok, status))
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 and ok else b"no")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hooks/ledgerlink"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def delivered(self) -> list[Received]:
        """Requests that were verified and answered 2xx."""
        return [r for r in self.received if r.verified and r.status < 300]

    def __enter__(self) -> "WebhookReceiver":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def webhook_rules(url: str, **extra: Any) -> dict[str, Any]:
    rules: dict[str, Any] = {
        "console_url": "https://books.example.com",
        "retry": {"max_attempts": 4, "first_delay_seconds": 60, "max_delay_seconds": 600},
        "channels": {"ops": {"type": "webhook", "url": url, "secret_env": "TEST_WEBHOOK_SECRET"}},
        "rules": [{"events": ["run_failed", "dead_letters", "reconcile_finding", "anomaly"], "channels": ["ops"]}],
    }
    rules.update(extra)
    return rules
