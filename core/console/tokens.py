"""API tokens for scripts and the CLI: shown once when created, stored only as a SHA-256 hash. A token is 256
random bits, so a fast hash is enough (a slow KDF protects guessable passwords, not random keys)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from ..errors import ConfigError
from .accounts import check_role
from .db import ConsoleDB

__all__ = ["ApiToken", "Tokens", "token_hash", "TOKEN_PREFIX"]

TOKEN_PREFIX = "llt_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiToken:
    id: str
    name: str
    role: str
    created_at: float
    last_used_at: float | None
    revoked_at: float | None

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


_COLUMNS = "id, name, role, created_at, last_used_at, revoked_at"


class Tokens:
    def __init__(self, db: ConsoleDB):
        self.db = db

    def create(self, name: str, role: str) -> tuple[ApiToken, str]:
        """The new token's record and its secret (the only time the secret exists outside the caller)."""
        if not name or len(name) > 64:
            raise ConfigError("a token needs a name of 1 to 64 characters", where="name",
                              hint="say what uses it, e.g. `nightly-export`")
        check_role(role)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = secrets.token_hex(4)
        now = self.db.now()
        self.db.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, ?, NULL, NULL)",
                        (token_id, name, role, token_hash(secret), now))
        return ApiToken(token_id, name, role, now, None, None), secret

    def list(self, include_revoked: bool = False) -> list[ApiToken]:
        sql = f"SELECT {_COLUMNS} FROM tokens" + ("" if include_revoked else " WHERE revoked_at IS NULL")
        return [ApiToken(*r) for r in self.db.fetchall(sql + " ORDER BY created_at")]

    def revoke(self, token_id: str) -> ApiToken:
        row = self.db.fetchone(f"SELECT {_COLUMNS} FROM tokens WHERE (id = ? OR name = ?) AND revoked_at IS NULL",
                               (token_id, token_id))
        if row is None:
            raise ConfigError(f"no active token {token_id!r}", where="token",
                              hint="`ledgerlink tokens list` shows the ids")
        self.db.execute("UPDATE tokens SET revoked_at = ? WHERE id = ?", (self.db.now(), row[0]))
        return ApiToken(*row)

    def verify(self, secret: str) -> ApiToken | None:
        """The active token this secret belongs to (and its use is noted), or None."""
        if not secret.startswith(TOKEN_PREFIX):
            return None
        row = self.db.fetchone(f"SELECT {_COLUMNS} FROM tokens WHERE token_hash = ? AND revoked_at IS NULL",
                               (token_hash(secret),))
        if row is None:
            return None
        self.db.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (self.db.now(), row[0]))
        return ApiToken(*row)
