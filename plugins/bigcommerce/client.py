"""The BigCommerce HTTP client: `X-Auth-Token`, the store's quota headers, 429 resets and its error shape.

Also the two readers every BigCommerce record needs: money strings ("12.5000") to Decimal, and RFC 2822
dates ("Tue, 05 Mar 2024 14:01:02 +0000") to aware datetimes, each refusing what it cannot read.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import httpx

from ledgerlink import HttpClient, Limit, RecordError, RetryPolicy, json_loads, parse_retry_after

from .config import BigCommerceConfig

__all__ = ["bc_client", "classify", "describe", "retry_after_from", "rate_limit_from", "read_json", "money",
           "rfc2822", "format_rfc2822", "BUCKET"]

#: every call to a store shares one quota ("All apps accessing the store share the store's quota")
BUCKET = "store"
_MONEY = re.compile(r"^-?\d+(\.\d+)?$")


def classify(response: httpx.Response) -> str:
    status = response.status_code
    if status < 400:
        return "ok"
    if status == 429:
        return "throttled"
    if status >= 500 or status == 408:
        return "transient"
    return "permanent"


def describe(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) from BigCommerce's errors: v3 `{"status", "title", "type", "errors": {field: msg}}`,
    v2 `[{"status", "message", "details"}]`."""
    try:
        body = read_json(response)
    except ValueError:
        return None, response.text[:300]
    if isinstance(body, list) and body and isinstance(body[0], dict):  # v2
        parts = [str(e.get("message") or e) + (f" ({e['details']})" if e.get("details") else "") for e in body]
        return None, "; ".join(parts)
    if isinstance(body, dict):
        title = str(body.get("title") or body.get("message") or "")
        errors = body.get("errors")
        if isinstance(errors, dict) and errors:
            title += " (" + "; ".join(f"{k}: {v}" for k, v in errors.items()) + ")"
        elif isinstance(errors, list) and errors:
            title += " (" + "; ".join(str(e) for e in errors) + ")"
        if title:
            code = body.get("code")
            return (str(code) if code is not None else None), title
    return None, response.text[:300]


def _ms(response: httpx.Response, name: str) -> float | None:
    value = response.headers.get(name)
    try:
        return max(0.0, float(value) / 1000.0) if value is not None else None
    except ValueError:
        return None


def retry_after_from(response: httpx.Response) -> float | None:
    """A 429 waits for the quota window to reset (`X-Rate-Limit-Time-Reset-Ms`), else `Retry-After`."""
    reset = _ms(response, "X-Rate-Limit-Time-Reset-Ms")
    return reset if reset is not None else parse_retry_after(response.headers)


def rate_limit_from(response: httpx.Response) -> Limit | None:
    """The store's quota: `X-Rate-Limit-Requests-Quota` per `X-Rate-Limit-Time-Window-Ms`, as a rate."""
    quota, window = response.headers.get("X-Rate-Limit-Requests-Quota"), _ms(response, "X-Rate-Limit-Time-Window-Ms")
    try:
        q = int(quota) if quota is not None else 0
    except ValueError:
        return None
    if q <= 0 or not window:
        return None
    return Limit(rate=q / window, burst=q)


def read_json(response: httpx.Response) -> Any:
    """Decimal numbers (v3 amounts are JSON numbers); an empty body (204) is None."""
    return json_loads(response.content) if response.content else None


def money(value: Any, *, stream: str, key: str, field: str) -> Decimal:
    """A BigCommerce amount ("12.5000", or a v3 JSON number read as Decimal) → Decimal; anything else is a
    RecordError naming the record and the field."""
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        return Decimal(value)
    if isinstance(value, str) and _MONEY.match(value.strip()):
        return Decimal(value.strip())
    raise RecordError(f"{value!r} is not an amount", stream=stream, key=key, field=field,
                      hint="BigCommerce sends money as decimal strings such as \"12.5000\"")


def rfc2822(value: Any, *, stream: str, key: str, field: str) -> datetime:
    """An RFC 2822 date ("Tue, 05 Mar 2024 14:01:02 +0000") → an aware datetime."""
    try:
        when = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        when = None
    if when is None:
        raise RecordError(f"{value!r} is not an RFC 2822 date", stream=stream, key=key, field=field)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def format_rfc2822(when: datetime) -> str:
    return format_datetime(when.astimezone(timezone.utc).replace(microsecond=0))


def bc_client(config: BigCommerceConfig, *, retry: RetryPolicy | None = None,
              transport: httpx.BaseTransport | None = None) -> HttpClient:
    """One client per store: one bucket (`store_hash/store`) paced by the store's quota headers."""
    return HttpClient(
        config.root, rate_key=config.store_hash, default_limit=Limit(rate=config.requests_per_second,
                                                                     burst=max(1, int(config.requests_per_second))),
        retry=retry, timeout=config.timeout_s, transport=transport, classify=classify, describe=describe,
        rate_limit_from=rate_limit_from, retry_after_from=retry_after_from,
        headers={"X-Auth-Token": config.access_token, "Accept": "application/json",
                 "Content-Type": "application/json", "User-Agent": "ledgerlink"})
