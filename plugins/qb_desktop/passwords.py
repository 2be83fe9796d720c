"""Web Connector passwords: stored only as a salted PBKDF2-SHA256 hash, compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

__all__ = ["hash_password", "verify_password", "looks_hashed"]

_SCHEME = "pbkdf2_sha256"
_ITERATIONS = 200_000


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, iterations: int = _ITERATIONS, salt: bytes | None = None) -> str:
    """`pbkdf2_sha256$ITERATIONS$SALT$HASH`: what goes in the destination config's `password_hash`."""
    if not password:
        raise ValueError("the password is empty")
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{_SCHEME}${iterations}${_b64(salt)}${_b64(digest)}"


def looks_hashed(value: str) -> bool:
    parts = (value or "").split("$")
    return len(parts) == 4 and parts[0] == _SCHEME and parts[1].isdigit()


def verify_password(password: str | None, stored: str) -> bool:
    if not password or not looks_hashed(stored):
        return False
    _, iterations, salt, digest = stored.split("$")
    try:
        expected = _unb64(digest)
        actual = hashlib.pbkdf2_hmac("sha256", password.encode(), _unb64(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
