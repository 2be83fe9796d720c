"""BigCommerce's wire format, as the sandbox writes it: JSON money as numbers, its error bodies, request bodies read
and refused as BigCommerce refuses them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from starlette.requests import Request

__all__ = ["Invalid", "dumps", "json_body", "v3_error"]

_STATUS_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return int(o) if o == o.to_integral_value() and o.as_tuple().exponent >= 0 else float(o)
    raise TypeError(type(o).__name__)


def dumps(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"), default=_default)


def v3_error(status: int, title: str, errors: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"status": status, "title": title, "type": _STATUS_TYPE}
    if errors is not None:
        out["errors"] = errors
    return out


class Invalid(Exception):
    """A request BigCommerce refuses: raised by a handler, answered in the API version's error shape."""

    def __init__(self, status: int, title: str, errors: dict[str, str] | None = None):
        super().__init__(title)
        self.status, self.title, self.errors = status, title, errors


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise Invalid(400, "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Invalid(400, "The request body must be a JSON object")
    return body
