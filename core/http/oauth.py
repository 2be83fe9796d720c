"""OAuth2 refresh-token flow as an httpx.Auth: refresh before expiry or on 401, persist rotated tokens at once.

Intuit and Amazon LWA both rotate refresh tokens; losing a rotated one locks the user out, so the new
token is handed to `on_rotate` (which writes the encrypted store and emits a CONTROL message) before
the access token is used.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Generator

import httpx

from ..errors import PermanentError, TransientError
from ..secrets import mask, register_secret
from .client import unreachable_reason

__all__ = ["OAuth2RefreshAuth"]


class OAuth2RefreshAuth(httpx.Auth):
    """Adds `Authorization: Bearer <token>` (or a vendor header such as `x-amz-access-token`)."""

    def __init__(self, token_url: str, client_id: str, client_secret: str, refresh_token: str, *,
                 header: str = "Authorization", prefix: str = "Bearer ", basic_auth: bool = False,
                 on_rotate: Callable[[str], None] | None = None, transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], float] = time.time, leeway: float = 60.0,
                 refresh_on: tuple[int, ...] = (401,),
                 on_refresh_expiry: Callable[[float], None] | None = None):
        self.token_url, self.client_id, self.client_secret = token_url, client_id, client_secret
        self.refresh_token = refresh_token
        self.header, self.prefix, self.basic_auth = header, prefix, basic_auth
        self.on_rotate = on_rotate
        self._transport, self._clock, self._leeway = transport, clock, leeway
        #: statuses that mean "your access token is no good": refresh once and replay (SP-API uses 403)
        self.refresh_on = refresh_on
        self._access: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self.refreshes = 0
        #: when the refresh token expires (Unix time), when the vendor says (Intuit's x_refresh_token_expires_in,
        #: sent with every refresh); handed to `on_refresh_expiry` each time, so a store can keep it current
        self.refresh_token_expires_at: float | None = None
        self.on_refresh_expiry = on_refresh_expiry
        for s in (client_secret, refresh_token):
            register_secret(s)

    def grant(self) -> dict[str, str]:
        """The token request's grant (a refresh token here; a client-credentials flow overrides it)."""
        return {"grant_type": "refresh_token", "refresh_token": self.refresh_token}

    def _refresh(self) -> None:
        data = self.grant()
        auth = None
        if self.basic_auth:
            auth = (self.client_id, self.client_secret)
        else:
            data.update(client_id=self.client_id, client_secret=self.client_secret)
        try:
            with httpx.Client(transport=self._transport, timeout=30) as client:
                resp = client.post(self.token_url, data=data, auth=auth, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise TransientError(f"token refresh: could not reach {mask(str(self.token_url))}: "
                                 f"{unreachable_reason(exc)} ({type(exc).__name__})", remote_message=mask(str(exc)),
                                 operation="token",
                                 hint="check that the token endpoint runs and that the config's token URL is "
                                      "right") from None
        if resp.status_code >= 500:
            raise TransientError(f"token refresh: HTTP {resp.status_code}", status=resp.status_code, operation="token")
        body = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
        if resp.status_code != 200 or "access_token" not in body:
            raise PermanentError(
                f"token refresh refused: HTTP {resp.status_code} {mask(str(body.get('error', resp.text[:200])))}",
                status=resp.status_code, code=str(body.get("error")), operation="token",
                hint="the refresh token or client credentials are wrong, revoked or expired: re-authorise the app")
        self._access = body["access_token"]
        register_secret(self._access)
        self._expires = self._clock() + float(body.get("expires_in", 3600))
        self.refreshes += 1
        new_refresh = body.get("refresh_token")
        if new_refresh and new_refresh != self.refresh_token:
            register_secret(new_refresh)
            self.refresh_token = new_refresh
            if self.on_rotate is not None:
                self.on_rotate(new_refresh)
        lifetime = body.get("x_refresh_token_expires_in")
        if isinstance(lifetime, (int, float, str)) and str(lifetime).strip().isdigit():
            self.refresh_token_expires_at = time.time() + float(lifetime)
            if self.on_refresh_expiry is not None:
                self.on_refresh_expiry(self.refresh_token_expires_at)

    def access_token(self, force: bool = False) -> str:
        with self._lock:
            if force or self._access is None or self._clock() >= self._expires - self._leeway:
                self._refresh()
            assert self._access is not None
            return self._access

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = self.prefix + self.access_token()
        response = yield request
        if response.status_code in self.refresh_on:
            request.headers[self.header] = self.prefix + self.access_token(force=True)
            yield request
