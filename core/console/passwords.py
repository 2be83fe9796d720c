"""Password hashing with a slow, memory-hard KDF (stdlib scrypt): a stolen console.db does not give passwords away
cheaply. The stored form names its parameters, so they can be raised later without breaking old hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["hash_password", "verify_password", "dummy_hash", "MIN_PASSWORD_LENGTH"]

MIN_PASSWORD_LENGTH = 10
_N, _R, _P = 2 ** 15, 8, 1  # ~32 MiB and tens of milliseconds per guess


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r + (1 << 20),
                          dklen=32)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${_derive(password, salt, _N, _R, _P).hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        return hmac.compare_digest(_derive(password, bytes.fromhex(salt), int(n), int(r), int(p)).hex(), digest)
    except (ValueError, TypeError):
        return False


_dummy: list[str] = []


def dummy_hash() -> str:
    """What a login for an unknown user is checked against, so it costs the same as a real one."""
    if not _dummy:
        _dummy.append(hash_password(secrets.token_urlsafe(16)))
    return _dummy[0]
