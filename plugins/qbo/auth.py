"""Connecting a QuickBooks Online company: Intuit's OAuth 2.0 authorization-code flow.

The console sends the user to Intuit's consent page (`appcenter.intuit.com/connect/oauth2`, or the sandbox's
`/connect/oauth2` on the same host as the configured token URL) with the app's client_id, the accounting scope,
the console's redirect URI and a state; Intuit sends them back with `code`, `state` and `realmId`; the code is
exchanged at the token endpoint (client Basic auth, `grant_type=authorization_code`, the same redirect_uri). The
refresh token is stored under the company's name, `qbo:{realmId}:refresh_token`, where the source and the
destination read it, so every pipeline of that company uses (and rotates) the same one."""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import urlencode, urlsplit

import time

import httpx

from ledgerlink import ConnectedAccount, ConnectRefused, OAuthConnect, expiry_name, mask, register_secret

from .config import INTUIT_TOKEN_URL, SANDBOX_URL

__all__ = ["QboConnect", "INTUIT_AUTHORIZE_URL", "INTUIT_REVOKE_URL", "ACCOUNTING_SCOPE", "credential_name"]

INTUIT_AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
INTUIT_REVOKE_URL = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
_TIMEOUT_S = 30.0


def credential_name(realm_id: str) -> str:
    """Where a company's newest refresh token is stored (the destination's and the source's name for it)."""
    return f"qbo:{realm_id}:refresh_token"


def _endpoints(config: Mapping[str, Any]) -> tuple[str, str, str]:
    """(authorize, token, revoke) URLs: Intuit's when the token URL is Intuit's, else the same host's paths
    (the sandbox, or a proxy in front of Intuit that serves them)."""
    token_url = str(config.get("token_url") or f"{SANDBOX_URL}/oauth2/v1/tokens/bearer")
    if token_url.rstrip("/") == INTUIT_TOKEN_URL:
        return INTUIT_AUTHORIZE_URL, token_url, INTUIT_REVOKE_URL
    parts = urlsplit(token_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return f"{origin}/connect/oauth2", token_url, f"{origin}/v2/oauth2/tokens/revoke"


def _client(config: Mapping[str, Any]) -> tuple[str, str]:
    client_id, secret = str(config.get("client_id") or ""), str(config.get("client_secret") or "")
    if not client_id or not secret:
        raise ConnectRefused("the pipeline names no Intuit app (client_id and client_secret)",
                             where="config.client_id", hint="copy them from the app's Keys & credentials page at "
                                                            "developer.intuit.com into the pipeline file")
    register_secret(secret)
    return client_id, secret


class QboConnect(OAuthConnect):
    family = "qbo"
    title = "QuickBooks Online"

    def account(self, config: Mapping[str, Any]) -> str | None:
        return str(config.get("realm_id") or "") or None

    def credential_names(self, config: Mapping[str, Any]) -> list[str]:
        realm = self.account(config)
        return [credential_name(realm)] if realm else []

    def authorize_url(self, config: Mapping[str, Any], *, state: str, redirect_uri: str,
                      values: Mapping[str, str]) -> str:
        client_id, _ = _client(config)
        authorize, _, _ = _endpoints(config)
        return authorize + "?" + urlencode({"client_id": client_id, "response_type": "code", "scope": ACCOUNTING_SCOPE,
                                            "redirect_uri": redirect_uri, "state": state})

    def finish(self, config: Mapping[str, Any], params: Mapping[str, str], *, redirect_uri: str) -> ConnectedAccount:
        code, realm = params.get("code") or "", params.get("realmId") or ""
        if not code or not realm:
            raise ConnectRefused("Intuit's answer carries no " + ("code" if not code else "realmId"),
                                 where="query parameter " + ("code" if not code else "realmId"),
                                 hint="start again from the Connections page; nothing was stored")
        register_secret(code)
        client_id, secret = _client(config)
        _, token_url, _ = _endpoints(config)
        try:
            with httpx.Client(timeout=_TIMEOUT_S) as http:
                resp = http.post(token_url, auth=(client_id, secret), headers={"Accept": "application/json"},
                                 data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
        except httpx.HTTPError as exc:
            raise ConnectRefused(f"could not reach Intuit's token endpoint {token_url}: {type(exc).__name__}",
                                 where="config.token_url", hint="check the token URL and the network, then "
                                                                "Connect again; nothing was stored") from None
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status_code != 200 or not isinstance(body, dict) or not body.get("refresh_token"):
            error = str(body.get("error") if isinstance(body, dict) else "") or f"HTTP {resp.status_code}"
            why = {"invalid_grant": "the authorization code is wrong, expired or already used, or was issued for "
                                    "another redirect URI",
                   "invalid_client": "the app's client id or secret in the pipeline file is wrong"}.get(error, "")
            raise ConnectRefused(f"Intuit refused the authorization code: {mask(error)}" + (f" ({why})" if why else ""),
                                 where="token exchange", hint="Connect again (a code works once, for a few "
                                                              "minutes); nothing was stored")
        refresh = str(body["refresh_token"])
        register_secret(refresh)
        register_secret(str(body.get("access_token") or ""))
        secrets = {credential_name(realm): refresh}
        lifetime = str(body.get("x_refresh_token_expires_in") or "")
        if lifetime.isdigit():  # Intuit's rolling 100 days, renewed at every refresh (the destination keeps it)
            secrets[expiry_name(credential_name(realm))] = f"{time.time() + int(lifetime):.0f}"
        return ConnectedAccount(account=realm, label=f"QuickBooks company {realm}",
                                secrets=secrets,
                                details={"refresh_token_expires_in_s": str(body.get("x_refresh_token_expires_in", ""))})

    def revoke(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> str | None:
        token = next(iter(secrets.values()), None)
        if not token:
            return None
        client_id, secret = _client(config)
        _, _, revoke_url = _endpoints(config)
        try:
            with httpx.Client(timeout=_TIMEOUT_S) as http:
                resp = http.post(revoke_url, auth=(client_id, secret), json={"token": token},
                                 headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            return f"Intuit could not be reached to revoke the token ({type(exc).__name__}); it stops working " \
                   f"when it expires, or disconnect the app in QuickBooks"
        if resp.status_code == 200:
            return "Intuit revoked the refresh token"
        return f"Intuit answered HTTP {resp.status_code} to the revocation; disconnect the app in QuickBooks to be sure"
