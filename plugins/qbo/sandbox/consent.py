"""Intuit's consent page, as the sandbox serves it: `GET /connect/oauth2` (what appcenter.intuit.com serves) shows
the company and the app asking for it, with Connect and Cancel; the choice redirects to the app's redirect_uri
with `code`, `state` and `realmId`, or with `error=access_denied` and `state`.

As Intuit (and RFC 6749 §4.1.2.1) do, a request whose client_id or redirect_uri cannot be trusted is answered
with an error page, never a redirect; any other bad request (response_type, scope) is redirected back with
`error`."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

__all__ = ["ConsentPage", "ACCOUNTING_SCOPE"]

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"


def _with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if urlsplit(uri).query else "?") + urlencode(params)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
                        "<style>body{font-family:sans-serif;max-width:32em;margin:3em auto}button{font-size:1.1em;"
                        "margin-right:1em;padding:.4em 1.2em}</style></head>"
                        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>", status_code=status)


class ConsentPage:
    """The consent endpoints over the sandbox's TokenIssuer (which issues and later exchanges the codes)."""

    def __init__(self, tokens: Any, realm_id: str, company_name: str, redirect_uris: list[str] | None):
        self.tokens, self.realm_id, self.company_name = tokens, realm_id, company_name
        #: the redirect URIs the app registered (None: any http(s) URI, as a local sandbox)
        self.redirect_uris = redirect_uris

    def _trusted(self, params: dict[str, str]) -> Response | None:
        """The error page for a client or redirect_uri that cannot be trusted (no redirect), else None."""
        if params.get("client_id") != self.tokens.client_id:
            return _page("Something went wrong", "<p id=error>invalid_client: the app's client_id is not known."
                         "</p>", 400)
        uri = params.get("redirect_uri", "")
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment or (
                self.redirect_uris is not None and uri not in self.redirect_uris):
            return _page("Something went wrong", "<p id=error>The redirect_uri query parameter value is invalid: it "
                         "must be one of the redirect URIs of the app (Keys &amp; credentials).</p>", 400)
        return None

    def _refusal(self, params: dict[str, str]) -> str | None:
        if params.get("response_type") != "code":
            return "unsupported_response_type"
        if ACCOUNTING_SCOPE not in (params.get("scope") or "").split():
            return "invalid_scope"
        return None

    async def show(self, request: Request) -> Response:
        params = dict(request.query_params)
        untrusted = self._trusted(params)
        if untrusted is not None:
            return untrusted
        refusal = self._refusal(params)
        if refusal is not None:
            return RedirectResponse(_with_query(params["redirect_uri"], {"error": refusal,
                                                                         "state": params.get("state", "")}), 302)
        hidden = "".join(f'<input type=hidden name="{k}" value="{html.escape(params.get(k, ""))}">'
                         for k in ("client_id", "redirect_uri", "scope", "state", "response_type"))
        return _page("Connect to QuickBooks", (
            f"<p>An app (client id <code>{html.escape(params['client_id'])}</code>) would like to connect to "
            f"<strong id=company>{html.escape(self.company_name)}</strong> (company {html.escape(self.realm_id)}) "
            f"and read and write its accounting data.</p>"
            f"<form method=post action=/connect/oauth2>{hidden}"
            "<button type=submit name=decision value=allow id=allow>Connect</button>"
            "<button type=submit name=decision value=deny id=deny>Cancel</button></form>"))

    async def decide(self, request: Request) -> Response:
        params = dict(parse_qsl((await request.body()).decode("utf-8", errors="replace")))
        untrusted = self._trusted(params)
        if untrusted is not None:
            return untrusted
        refusal = self._refusal(params)
        state = params.get("state", "")
        if refusal is None and params.get("decision") != "allow":
            refusal = "access_denied"
        if refusal is not None:
            return RedirectResponse(_with_query(params["redirect_uri"], {"error": refusal, "state": state}), 303)
        code = self.tokens.issue_code(params["client_id"], params["redirect_uri"], self.realm_id)
        return RedirectResponse(_with_query(params["redirect_uri"], {"code": code, "state": state,
                                                                     "realmId": self.realm_id}), 303)
