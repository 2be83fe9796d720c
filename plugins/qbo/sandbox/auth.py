"""The sandbox's Intuit OAuth2: refresh-token grant with client Basic auth, rotating refresh tokens, and
bearer access tokens for the v3 API.

Like Intuit, a refresh returns a new refresh token; the one just used stays valid until the new one is
used, so a client that lost the response is not locked out. An unknown token gets 400 invalid_grant.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from dataclasses import dataclass, field

__all__ = ["TokenIssuer", "TokenError"]

#: Intuit's refresh token lifetime (100 days), reported as `x_refresh_token_expires_in`
REFRESH_TOKEN_LIFETIME_S = 8_726_400


class TokenError(Exception):
    def __init__(self, status: int, error: str, description: str | None = None):
        super().__init__(error)
        self.status, self.error, self.description = status, error, description

    def body(self) -> dict[str, str]:
        return {"error": self.error, **({"error_description": self.description} if self.description else {})}


@dataclass
class TokenIssuer:
    client_id: str
    client_secret: str
    refresh_token: str
    access_token_ttl_s: int = 3600
    rotate: bool = True
    _refresh_tokens: list[str] = field(default_factory=list)
    _access: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    refreshes: int = 0

    def __post_init__(self) -> None:
        self._refresh_tokens = [self.refresh_token]

    def _client_ok(self, authorization: str | None) -> bool:
        if not authorization or not authorization.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return secrets.compare_digest(user, self.client_id) and secrets.compare_digest(password, self.client_secret)

    def refresh(self, authorization: str | None, form: dict[str, str]) -> dict[str, object]:
        """The token endpoint's answer to a refresh_token grant, or TokenError."""
        if not self._client_ok(authorization):
            raise TokenError(401, "invalid_client")
        if form.get("grant_type") != "refresh_token":
            raise TokenError(400, "unsupported_grant_type")
        token = form.get("refresh_token", "")
        with self._lock:
            if token not in self._refresh_tokens:
                raise TokenError(400, "invalid_grant")
            new_refresh = ("RT1-" + secrets.token_urlsafe(24)) if self.rotate else token
            self._refresh_tokens = [token, new_refresh] if new_refresh != token else [token]
            access = "eyJ-sandbox-" + secrets.token_urlsafe(32)
            self._access[access] = time.monotonic() + self.access_token_ttl_s
            self.refreshes += 1
        # id_token is only issued for the OpenID scopes; an accounting app does not ask for them
        return {"token_type": "bearer", "expires_in": self.access_token_ttl_s, "refresh_token": new_refresh,
                "x_refresh_token_expires_in": REFRESH_TOKEN_LIFETIME_S, "access_token": access}

    def bearer_ok(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        expires = self._access.get(authorization[7:].strip())
        return expires is not None and time.monotonic() < expires

    def expire_access_tokens(self) -> int:
        """Test control: every access token is now expired (the next call gets 401 and must refresh)."""
        with self._lock:
            count = len(self._access)
            self._access.clear()
            return count
