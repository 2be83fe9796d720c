"""The sandbox's Intuit OAuth2: the authorization-code grant (codes from the consent page, consent.py),
the refresh-token grant with client Basic auth, rotating refresh tokens, revocation, and bearer access tokens
for the v3 API.

Like Intuit, a refresh returns a new refresh token; the one just used stays valid until the new one is
used, so a client that lost the response is not locked out. An unknown token gets 400 invalid_grant.
An authorization code is single use, expires after `code_ttl_s`, and is bound to the client and the
redirect_uri it was issued for: any other use gets 400 invalid_grant, and a code used twice also revokes
the tokens its first use issued (RFC 6749 section 4.1.2).
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from dataclasses import dataclass, field

__all__ = ["TokenIssuer", "TokenError", "AuthorizationCode"]

#: Intuit's refresh token lifetime (100 days), reported as `x_refresh_token_expires_in`
REFRESH_TOKEN_LIFETIME_S = 8_726_400


class TokenError(Exception):
    def __init__(self, status: int, error: str, description: str | None = None):
        super().__init__(error)
        self.status, self.error, self.description = status, error, description

    def body(self) -> dict[str, str]:
        return {"error": self.error, **({"error_description": self.description} if self.description else {})}


@dataclass
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    realm_id: str
    expires: float
    used: bool = False
    issued_refresh: str | None = None


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
    #: how long an authorization code may wait for its exchange (Intuit: a few minutes)
    code_ttl_s: float = 300.0
    _codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    #: connections made by code exchanges, each with its valid refresh tokens (the newest and, until that is
    #: used, the one before it)
    _connections: dict[str, list[str]] = field(default_factory=dict)
    exchanges: int = 0

    def __post_init__(self) -> None:
        self._refresh_tokens = [self.refresh_token]

    def issue_code(self, client_id: str, redirect_uri: str, realm_id: str) -> str:
        """A code for the consent page's Allow (consent.py)."""
        code = "AB11" + secrets.token_urlsafe(36)
        with self._lock:
            now = time.monotonic()
            self._codes = {k: c for k, c in self._codes.items() if c.expires > now - 3600}
            self._codes[code] = AuthorizationCode(client_id, redirect_uri, realm_id, now + self.code_ttl_s)
        return code

    def expire_codes(self) -> int:
        """Test control: every code not yet exchanged is now expired."""
        with self._lock:
            for c in self._codes.values():
                c.expires = 0.0
            return len(self._codes)

    def _exchange(self, form: dict[str, str]) -> dict[str, object]:
        code = self._codes.get(form.get("code", ""))
        if code is None or not form.get("redirect_uri"):
            raise TokenError(400, "invalid_grant", "the authorization code is not valid" if code is None
                             else "redirect_uri is required")
        if code.used:
            # a replayed code: refused, and what its first use issued is revoked
            if code.issued_refresh:
                self._revoke_locked(code.issued_refresh)
            raise TokenError(400, "invalid_grant", "the authorization code was already used")
        if time.monotonic() >= code.expires:
            raise TokenError(400, "invalid_grant", "the authorization code has expired")
        if code.client_id != self.client_id or form["redirect_uri"] != code.redirect_uri:
            raise TokenError(400, "invalid_grant", "redirect_uri does not match the one the code was issued for")
        code.used = True
        refresh = "RT1-" + secrets.token_urlsafe(24)
        code.issued_refresh = refresh
        self._connections[refresh] = [refresh]
        access = "eyJ-sandbox-" + secrets.token_urlsafe(32)
        self._access[access] = time.monotonic() + self.access_token_ttl_s
        self.exchanges += 1
        return {"token_type": "bearer", "expires_in": self.access_token_ttl_s, "refresh_token": refresh,
                "x_refresh_token_expires_in": REFRESH_TOKEN_LIFETIME_S, "access_token": access}

    def _chain(self, token: str) -> str | None:
        return next((k for k, tokens in self._connections.items() if token in tokens), None)

    def _revoke_locked(self, token: str) -> None:
        chain = self._chain(token)
        if chain is not None:
            del self._connections[chain]
        if token in self._refresh_tokens:
            self._refresh_tokens = [t for t in self._refresh_tokens if t != token]

    def revoke(self, authorization: str | None, token: str) -> None:
        """Intuit's revoke endpoint: the refresh token (and the connection it belongs to) stops working."""
        if not self._client_ok(authorization):
            raise TokenError(401, "invalid_client")
        if not token:
            raise TokenError(400, "invalid_request", "token is required")
        with self._lock:
            self._revoke_locked(token)

    def revoke_all(self) -> int:
        """Test control: the user disconnected the app in QuickBooks: every refresh token stops working."""
        with self._lock:
            count = len(self._refresh_tokens) + len(self._connections)
            self._refresh_tokens, self._connections = [], {}
            self._access.clear()
            return count

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
        if form.get("grant_type") == "authorization_code":
            with self._lock:
                return self._exchange(form)
        if form.get("grant_type") != "refresh_token":
            raise TokenError(400, "unsupported_grant_type")
        token = form.get("refresh_token", "")
        with self._lock:
            new_refresh = ("RT1-" + secrets.token_urlsafe(24)) if self.rotate else token
            chain = self._chain(token)
            if chain is not None:  # a connection made through the consent page rotates on its own
                self._connections[chain] = [token, new_refresh] if new_refresh != token else [token]
            elif token in self._refresh_tokens:
                self._refresh_tokens = [token, new_refresh] if new_refresh != token else [token]
            else:
                raise TokenError(400, "invalid_grant")
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
