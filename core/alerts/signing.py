"""The generic webhook's signature: HMAC-SHA256 over `"{timestamp}." + body` with the channel's secret, sent as

    X-Ledgerlink-Timestamp: 1765080000
    X-Ledgerlink-Signature: v1=<hex digest>

A receiver recomputes it, compares in constant time and refuses a timestamp older than a few minutes, so a
captured request cannot be replayed later. `X-Ledgerlink-Message` names the message: a receiver that keeps the
ids it has seen also ignores the rare second delivery (see the delivery guarantees in the alerts guide)."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["TIMESTAMP_HEADER", "SIGNATURE_HEADER", "MESSAGE_HEADER", "sign", "verify", "DEFAULT_TOLERANCE"]

TIMESTAMP_HEADER = "X-Ledgerlink-Timestamp"
SIGNATURE_HEADER = "X-Ledgerlink-Signature"
MESSAGE_HEADER = "X-Ledgerlink-Message"
#: how old a signed request a receiver should accept (seconds)
DEFAULT_TOLERANCE = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(secret: str, timestamp: str | None, body: bytes, signature: str | None, now: float,
           tolerance: float = DEFAULT_TOLERANCE) -> bool:
    """What a receiver does: the timestamp is recent and the signature matches (constant-time)."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)
