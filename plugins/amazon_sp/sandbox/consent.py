"""Seller Central's consent page and Login with Amazon's authorization-code grant, as the sandbox serves them:
the SP-API website authorization workflow.

`GET /apps/authorize/consent?application_id=…&state=…&version=beta[&redirect_uri=…]` (what sellercentral.amazon.com
serves) shows the application asking for the seller's data, with Confirm and Cancel. Confirm redirects to the
redirect_uri with `state`, `selling_partner_id` and `spapi_oauth_code`; Cancel with `error=access_denied` and
`state`. The code is exchanged at `/auth/o2/token` with `grant_type=authorization_code` (client_id and
client_secret in the form): single use, valid five minutes (as Amazon documents), bound to the redirect_uri.
A draft application must be authorised with `version=beta`, as on Seller Central."""

from __future__ import annotations

import html
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

__all__ = ["SellerConsent", "CODE_TTL_S"]

#: Amazon: "The LWA authorization code expires after five minutes"
CODE_TTL_S = 300.0


@dataclass
class _Code:
    redirect_uri: str
    expires: float
    used: bool = False


def _with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if urlsplit(uri).query else "?") + urlencode(params)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
                        f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>", status_code=status)


class SellerConsent:
    """Consent page, codes and their exchange; `issue_refresh` makes a refresh token the LWA endpoint accepts."""

    def __init__(self, *, application_id: str | None, seller_id: str, redirect_uris: list[str] | None,
                 draft: bool, issue_refresh: Callable[[], str], issue_access: Callable[[], str],
                 code_ttl_s: float = CODE_TTL_S):
        self.application_id, self.seller_id, self.redirect_uris = application_id, seller_id, redirect_uris
        self.draft = draft
        self.issue_refresh, self.issue_access, self.code_ttl_s = issue_refresh, issue_access, code_ttl_s
        self._codes: dict[str, _Code] = {}
        self._lock = threading.Lock()

    def _problem(self, params: dict[str, str]) -> str | None:
        """Why Seller Central shows an error page instead of the consent page (it never redirects those)."""
        app = params.get("application_id", "")
        if not app or (self.application_id is not None and app != self.application_id):
            return "The application id is not valid (MD1000)."
        if self.draft and params.get("version") != "beta":
            return "This application is in draft: authorise it with version=beta (MD9100)."
        uri = params.get("redirect_uri", "")
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.netloc or (
                self.redirect_uris is not None and uri not in self.redirect_uris):
            return "The redirect URI is not one of the application's OAuth Redirect URIs (MD5101)."
        return None

    async def show(self, request: Request) -> Response:
        params = dict(request.query_params)
        problem = self._problem(params)
        if problem:
            return _page("Authorization error", f"<p id=error>{html.escape(problem)}</p>", 400)
        hidden = "".join(f'<input type=hidden name="{k}" value="{html.escape(params.get(k, ""))}">'
                         for k in ("application_id", "state", "version", "redirect_uri"))
        return _page("Authorize application", (
            f"<p>The application <code>{html.escape(params['application_id'])}</code> asks to access the selling "
            f"account <strong id=seller>{html.escape(self.seller_id)}</strong>.</p>"
            f"<form method=post action=/apps/authorize/consent>{hidden}"
            "<button type=submit name=decision value=allow id=allow>Confirm</button> "
            "<button type=submit name=decision value=deny id=deny>Cancel</button></form>"))

    async def decide(self, request: Request) -> Response:
        params = dict(parse_qsl((await request.body()).decode("utf-8", errors="replace")))
        problem = self._problem(params)
        if problem:
            return _page("Authorization error", f"<p id=error>{html.escape(problem)}</p>", 400)
        state = params.get("state", "")
        if params.get("decision") != "allow":
            return RedirectResponse(_with_query(params["redirect_uri"], {"error": "access_denied", "state": state}), 303)
        code = "ANSandbox" + secrets.token_urlsafe(24)
        with self._lock:
            now = time.monotonic()
            self._codes = {k: c for k, c in self._codes.items() if c.expires > now - 3600}
            self._codes[code] = _Code(params["redirect_uri"], now + self.code_ttl_s)
        return RedirectResponse(_with_query(params["redirect_uri"], {
            "state": state, "selling_partner_id": self.seller_id, "spapi_oauth_code": code}), 303)

    def expire_codes(self) -> int:
        with self._lock:
            for c in self._codes.values():
                c.expires = 0.0
            return len(self._codes)

    def exchange(self, form: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(status, body) for a `grant_type=authorization_code` request whose client is already checked."""
        def refuse(description: str) -> tuple[int, dict[str, Any]]:
            return 400, {"error": "invalid_grant", "error_description": description}

        with self._lock:
            code = self._codes.get(str(form.get("code") or ""))
            if code is None:
                return refuse("The request has an invalid grant parameter : code")
            if code.used:
                return refuse("The authorization code has already been used")
            if time.monotonic() >= code.expires:
                return refuse("The authorization code has expired")
            if form.get("redirect_uri") and form["redirect_uri"] != code.redirect_uri:
                return refuse("The redirect_uri does not match the one the code was issued for")
            code.used = True
        return 200, {"access_token": self.issue_access(), "refresh_token": self.issue_refresh(),
                     "token_type": "bearer", "expires_in": 3600}
