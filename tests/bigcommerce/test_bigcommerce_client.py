"""The client against httpx.MockTransport: 429 waits for X-Rate-Limit-Time-Reset-Ms, errors read title/errors."""

from __future__ import annotations

import httpx
import pytest

from ledgerlink import PermanentError, RetryPolicy
from ledgerlink_bigcommerce.client import bc_client, describe, rate_limit_from, retry_after_from
from ledgerlink_bigcommerce.config import BigCommerceConfig


def _config(**kw):
    return BigCommerceConfig(base_url="https://api.example", store_hash="abc123", access_token="tok", **kw)


def test_429_waits_for_the_reset_and_sends_the_token():
    calls, slept = [], []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(429, headers={"X-Rate-Limit-Time-Reset-Ms": "1500",
                                                "X-Rate-Limit-Requests-Left": "0"}, json={"status": 429, "title": "Too many"})
        return httpx.Response(200, json={"id": "abc123"})

    client = bc_client(_config(), transport=httpx.MockTransport(handler))
    client._sleep = slept.append  # type: ignore[attr-defined]
    assert client.get("/v2/store", operation="getStore").json() == {"id": "abc123"}
    assert slept == [1.5]
    assert calls[0].headers["X-Auth-Token"] == "tok" and str(calls[0].url) == "https://api.example/stores/abc123/v2/store"


def test_errors_surface_title_and_errors():
    def handler(request):
        return httpx.Response(422, json={"status": 422, "title": "JSON data is missing or invalid",
                                         "type": "x", "errors": {"destination": "error.path.missing."}})

    client = bc_client(_config(), retry=RetryPolicy(max_attempts=1), transport=httpx.MockTransport(handler))
    with pytest.raises(PermanentError) as err:
        client.post("/v3/hooks", operation="createWebhook", json={})
    assert "JSON data is missing or invalid (destination: error.path.missing.)" in str(err.value)
    v2 = httpx.Response(400, json=[{"status": 400, "message": "The field 'status_id' is invalid"}])
    assert describe(v2) == (None, "The field 'status_id' is invalid")


def test_quota_headers_become_a_rate():
    reply = httpx.Response(200, headers={"X-Rate-Limit-Requests-Quota": "150", "X-Rate-Limit-Time-Window-Ms": "30000"})
    limit = rate_limit_from(reply)
    assert limit is not None and limit.rate == 5 and limit.burst == 150
    assert retry_after_from(httpx.Response(429, headers={"Retry-After": "3"})) == 3


def test_the_token_is_a_masked_secret():
    schema = BigCommerceConfig.model_json_schema()
    assert schema["properties"]["access_token"]["airbyte_secret"] is True
    assert schema["properties"]["webhook_secret"]["airbyte_secret"] is True
