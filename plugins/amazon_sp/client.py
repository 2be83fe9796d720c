"""The SP-API HTTP client: Amazon's usage plans, its rate-limit header and its error shape."""

from __future__ import annotations

from typing import Any

import httpx

from ledgerlink import HttpClient, Limit, RetryPolicy, json_loads

from .config import AmazonSPConfig

__all__ = ["USAGE_PLANS", "sp_client", "classify", "describe", "rate_limit_from", "read_json"]

#: Amazon's published default usage plans (requests/second, burst) per operation. Sellers may be
#: granted more; `x-amzn-RateLimit-Limit` then overrides the rate at run time.
USAGE_PLANS: dict[str, Limit] = {
    "getOrders": Limit(rate=0.0167, burst=20),
    "getOrderItems": Limit(rate=0.5, burst=30),
    "searchOrders": Limit(rate=0.0056, burst=20),  # Orders API 2026-01-01
}
#: operations not listed above: conservative until the header tells us better
DEFAULT_PLAN = Limit(rate=0.5, burst=5)


def classify(response: httpx.Response) -> str:
    """429 QuotaExceeded is throttling; 5xx is worth retrying; 400/403/404 will fail the same way again."""
    status = response.status_code
    if status < 400:
        return "ok"
    if status == 429:
        return "throttled"
    if status >= 500:
        return "transient"
    return "permanent"


def describe(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) from Amazon's `{"errors": [{"code", "message", "details"}]}` body, or LWA's shape."""
    try:
        body = read_json(response)
    except ValueError:
        return None, response.text[:300]
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        errors = [e for e in body["errors"] if isinstance(e, dict)]
        parts = []
        for e in errors:
            text = str(e.get("message") or "")
            if e.get("details"):
                text += f" ({e['details']})"
            parts.append(text)
        code = errors[0].get("code") if errors else None
        return (str(code) if code else None), "; ".join(parts)
    if isinstance(body, dict) and ("error" in body or "error_description" in body):
        return str(body.get("error")), str(body.get("error_description") or body.get("error"))
    return None, response.text[:300]


def rate_limit_from(response: httpx.Response) -> Limit | None:
    """The seller's actual rate from `x-amzn-RateLimit-Limit` (absent on throttled/unauthorised replies).
    Burst 0 means "keep the bucket's burst": Amazon only reports the rate."""
    value = response.headers.get("x-amzn-RateLimit-Limit")
    if not value:
        return None
    try:
        rate = float(value)
    except ValueError:
        return None
    return Limit(rate=rate, burst=0) if rate > 0 else None


def read_json(response: httpx.Response) -> Any:
    """Parse a body with Decimal numbers: httpx's `.json()` would turn amounts into floats."""
    return json_loads(response.content) if response.content else None


def sp_client(config: AmazonSPConfig, auth: httpx.Auth | None, *, retry: RetryPolicy | None = None,
              transport: httpx.BaseTransport | None = None) -> HttpClient:
    """One client per seller and region: buckets are keyed `seller/region/operation`."""
    return HttpClient(
        config.endpoint, rate_key=config.rate_key, limits=dict(USAGE_PLANS), default_limit=DEFAULT_PLAN,
        retry=retry, auth=auth, transport=transport, classify=classify, describe=describe,
        rate_limit_from=rate_limit_from, headers={"Accept": "application/json", "User-Agent": "ledgerlink"})
