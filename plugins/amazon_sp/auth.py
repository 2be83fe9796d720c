"""Login with Amazon (LWA): exchange the seller's refresh token for short-lived access tokens, and connect a
seller from the console through Seller Central's consent page (the SP-API website authorization workflow)."""

from __future__ import annotations

import time
from typing import Any, Callable, Generator, Mapping
from urllib.parse import urlencode, urlsplit

import httpx

from ledgerlink import (authorised_name, ConnectedAccount, ConnectRefused, FormField, OAuth2RefreshAuth, OAuthConnect, mask,
                        register_secret)

from .config import AmazonSPConfig

__all__ = ["LwaAuth", "lwa_auth", "AmazonConnect", "SELLER_CENTRAL"]


class LwaAuth(OAuth2RefreshAuth):
    """OAuth2 refresh that also retries once on 403: SP-API answers an expired or revoked access token
    with 403 Unauthorized (not 401), so one forced refresh tells "expired" apart from "not allowed"."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = self.prefix + self.access_token()
        response = yield request
        if response.status_code in (401, 403):
            request.headers[self.header] = self.prefix + self.access_token(force=True)
            yield request


def lwa_auth(config: AmazonSPConfig, *, on_rotate: Callable[[str], None] | None = None,
             transport: httpx.BaseTransport | None = None) -> LwaAuth:
    """SP-API sends the LWA access token bare in `x-amz-access-token` (no `Bearer`)."""
    return LwaAuth(config.lwa_endpoint, config.client_id, config.client_secret, config.refresh_token,
                   header="x-amz-access-token", prefix="", on_rotate=on_rotate, transport=transport)


# -- connecting a seller: the SP-API website authorization workflow -------------------------------------------------

#: Seller Central per region (the consent page's host); Amazon's own sandbox endpoints use the same ones
SELLER_CENTRAL = {"na": "https://sellercentral.amazon.com", "eu": "https://sellercentral-europe.amazon.com",
                  "fe": "https://sellercentral.amazon.co.jp"}
SANDBOX_APPLICATION_ID = "amzn1.sp.solution.sandbox"


def _parsed(config: Mapping[str, Any]) -> AmazonSPConfig:
    """The connection part of a source's config (endpoints filled in from environment and region)."""
    try:
        return AmazonSPConfig.model_validate({k: v for k, v in config.items() if k in AmazonSPConfig.model_fields})
    except ValueError as exc:
        raise ConnectRefused(f"the pipeline's Amazon config is not valid: {str(exc).splitlines()[0]}",
                             where="source.config", hint="run `ledgerlink check` on the pipeline file") from None


def _region(config: Mapping[str, Any]) -> str:
    region = str(config.get("region") or "na").lower()
    return region if region in SELLER_CENTRAL else "na"


def _local(config: AmazonSPConfig) -> bool:
    return config.environment == "local" or (urlsplit(str(config.endpoint)).hostname or "") in (
        "127.0.0.1", "localhost", "::1")


class AmazonConnect(OAuthConnect):
    """A seller authorises the SP-API application on Seller Central's consent page (`/apps/authorize/consent` with
    `application_id`, `state`, `redirect_uri` and, for a draft application, `version=beta`); Amazon sends them
    back with `spapi_oauth_code` and `selling_partner_id`, and the code (valid five minutes) is exchanged at Login
    with Amazon for the seller's refresh token, stored per seller and region (a seller authorises an application
    per region) as `amazon_sp:{seller_id}:{region}:refresh_token`: the account is `{seller_id}:{region}`."""

    family = "amazon_sp"
    title = "Amazon Seller Central"
    #: Login with Amazon refresh tokens do not expire, but a seller's authorisation of an application lasts 365 days
    authorisation_valid_days = 365

    def account(self, config: Mapping[str, Any]) -> str | None:
        seller = str(config.get("seller_id") or "")
        return f"{seller}:{_region(config)}" if seller else None

    def legacy_accounts(self, config: Mapping[str, Any]) -> list[str]:
        """The account as it was recorded before tokens were kept per region (the seller alone)."""
        seller = str(config.get("seller_id") or "")
        return [seller] if seller else []

    def credential_names(self, config: Mapping[str, Any]) -> list[str]:
        account = self.account(config)
        return [f"amazon_sp:{account}:refresh_token"] if account else []

    def form_fields(self, config: Mapping[str, Any]) -> list[FormField]:
        local = _local(_parsed(config))
        return [FormField("application_id", "SP-API application id", default=SANDBOX_APPLICATION_ID if local else "",
                          help="Seller Central > Develop Apps (amzn1.sp.solution.…)"),
                FormField("version", "Draft application", default="beta", required=False,
                          help="beta while the application is a draft; empty once it is published")]

    def _seller_central(self, config: AmazonSPConfig) -> str:
        if _local(config):
            parts = urlsplit(str(config.endpoint))
            return f"{parts.scheme}://{parts.netloc}"
        return SELLER_CENTRAL[config.region]

    def authorize_url(self, config: Mapping[str, Any], *, state: str, redirect_uri: str,
                      values: Mapping[str, str]) -> str:
        parsed = _parsed(config)
        if not parsed.seller_id:
            raise ConnectRefused("the pipeline names no seller: its refresh token is kept per seller", where=
                                 "source.config.seller_id", hint="add `seller_id: YOUR_MERCHANT_TOKEN` (Seller "
                                 "Central > Settings > Account Info > Merchant Token) to the pipeline file and "
                                 "serve it again; nothing was stored")
        params = {"application_id": values.get("application_id", ""), "state": state, "redirect_uri": redirect_uri}
        if values.get("version"):
            params["version"] = values["version"]
        return f"{self._seller_central(parsed)}/apps/authorize/consent?{urlencode(params)}"

    def finish(self, config: Mapping[str, Any], params: Mapping[str, str], *, redirect_uri: str) -> ConnectedAccount:
        code, seller = params.get("spapi_oauth_code") or "", params.get("selling_partner_id") or ""
        if not code or not seller:
            missing = "spapi_oauth_code" if not code else "selling_partner_id"
            raise ConnectRefused(f"Amazon's answer carries no {missing}", where=f"query parameter {missing}",
                                 hint="start again from the Connections page; nothing was stored")
        register_secret(code)
        parsed = _parsed(config)
        register_secret(parsed.client_secret)
        try:
            with httpx.Client(timeout=30.0) as http:
                resp = http.post(str(parsed.lwa_endpoint), headers={"Accept": "application/json"}, data={
                    "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                    "client_id": parsed.client_id, "client_secret": parsed.client_secret})
        except httpx.HTTPError as exc:
            raise ConnectRefused(f"could not reach Login with Amazon at {parsed.lwa_endpoint}: {type(exc).__name__}",
                                 where="source.config.lwa_endpoint",
                                 hint="check the address and the network, then Connect again; nothing was stored") from None
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status_code != 200 or not isinstance(body, dict) or not body.get("refresh_token"):
            error = str(body.get("error") if isinstance(body, dict) else "") or f"HTTP {resp.status_code}"
            described = str(body.get("error_description") or "") if isinstance(body, dict) else ""
            raise ConnectRefused(f"Login with Amazon refused the authorization code: {mask(error)}"
                                 + (f" ({mask(described)[:160]})" if described else ""), where="token exchange",
                                 hint="Connect again (a code works once, for five minutes); check the application's "
                                      "client id and secret in the pipeline file; nothing was stored")
        refresh = str(body["refresh_token"])
        register_secret(refresh)
        return ConnectedAccount(account=f"{seller}:{parsed.region}",
                                label=f"Amazon seller {seller} ({parsed.region.upper()})",
                                secrets={f"amazon_sp:{seller}:{parsed.region}:refresh_token": refresh,
                                         authorised_name(f"amazon_sp:{seller}:{parsed.region}:refresh_token"):
                                             f"{time.time():.0f}"},
                                details={"region": parsed.region})

    def revoke(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> str | None:
        return ("Login with Amazon has no revocation endpoint: to withdraw the authorisation, remove the application "
                "in Seller Central > Apps and Services > Manage Your Apps")
