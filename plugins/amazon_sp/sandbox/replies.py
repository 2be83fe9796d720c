"""What every part of the Amazon sandbox answers with: JSON replies, Amazon's error body, and its time check."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from starlette.responses import Response

from ledgerlink import json_dumps

__all__ = ["Invalid", "reply", "refuse", "parse_time"]


class Invalid(Exception):
    """A request Amazon refuses with 400 InvalidInput."""


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON as Amazon sends it (exact numbers, a request id); `None` is an empty body."""
    text = "" if body is None else json_dumps(body)
    return Response(text, status_code=status, media_type="application/json",
                    headers={"x-amzn-RequestId": str(uuid.uuid4()), **(headers or {})})


def refuse(status: int, code: str, message: str, details: str = "") -> Response:
    """Amazon's error body: `{"errors": [{"code", "message", "details"}]}`."""
    return reply({"errors": [{"code": code, "message": message, "details": details}]}, status)


def parse_time(name: str, text: str) -> int:
    """An ISO 8601 query parameter as epoch seconds (UTC when it has no zone), or Invalid naming it."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"Invalid {name}: {text!r} is not an ISO 8601 date-time.") from None
    return int((when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp())
