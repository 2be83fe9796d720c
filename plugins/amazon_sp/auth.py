"""Login with Amazon (LWA): exchange the seller's refresh token for short-lived access tokens."""

from __future__ import annotations

from typing import Callable, Generator

import httpx

from ledgerlink import OAuth2RefreshAuth

from .config import AmazonSPConfig

__all__ = ["LwaAuth", "lwa_auth"]


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
