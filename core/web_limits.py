"""Limits on what a web caller can send: a body size cap enforced while the body streams in, JSON and XML read
with a nesting limit (XML also without DTDs or entities), and query parameters checked by type and range.

Every vendor callback `ledgerlink serve` hosts takes untrusted input before it can verify anything expensive.
These helpers turn oversized, overly deep or ill-typed input into a `WebInputError` carrying the HTTP status
(413 or 400) and a message that names what was wrong, so a handler answers a clear 4xx and keeps serving,
instead of buffering 50 MB or recursing into a 500.
"""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["WebInputError", "BodyLimit", "read_body", "parse_untrusted_json", "parse_untrusted_xml", "query_int",
           "WEBHOOK_MAX_BYTES", "MAX_JSON_DEPTH", "MAX_XML_DEPTH"]

#: a webhook callback carries ids, not documents: a few KB in practice
WEBHOOK_MAX_BYTES = 1_000_000
#: real payloads nest a handful of levels; a recursive parser or walker must never see thousands
MAX_JSON_DEPTH = 32
MAX_XML_DEPTH = 64


class WebInputError(ValueError):
    """Input a web caller sent that is refused: `status` is the HTTP answer (400 or 413)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


def _too_large(max_bytes: int, what: str) -> WebInputError:
    return WebInputError(f"{what} is larger than the {max_bytes:,}-byte limit", 413)


async def read_body(request: Request, max_bytes: int, *, what: str = "the request body") -> bytes:
    """The request body, refused with 413 as soon as it passes `max_bytes` (a declared Content-Length over the
    limit is refused before a byte is read), so an oversized body is never buffered whole."""
    length = request.headers.get("content-length", "")
    if length.strip().isdigit() and int(length) > max_bytes:
        raise _too_large(max_bytes, what)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes, what)
        chunks.append(chunk)
    return b"".join(chunks)


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, walked without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_untrusted_json(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH, what: str = "the body") -> Any:
    """JSON from a web caller (numbers as Decimal, as `ledgerlink.json_loads`), refused with a 400
    `WebInputError` when it is not UTF-8, not JSON, or nested deeper than `max_depth`."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WebInputError(f"{what} is not UTF-8 (invalid byte at position {exc.start})") from None
    try:
        value = json.loads(data, parse_float=Decimal, parse_constant=_no_constant)
    except RecursionError:
        raise WebInputError(f"{what} is JSON nested deeper than {max_depth} levels") from None
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise WebInputError(f"{what} is not JSON: {reason}") from None
    if _depth(value) > max_depth:
        raise WebInputError(f"{what} is JSON nested deeper than {max_depth} levels")
    return value


def parse_untrusted_xml(data: bytes | str, *, max_depth: int = MAX_XML_DEPTH, what: str = "the XML") -> ET.Element:
    """The root element of untrusted XML: no DTD, no entities (defusedxml), and no element deeper than
    `max_depth` (parsing stops at the first one, before anything walks the tree). 400 `WebInputError` otherwise."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    depth, root = 0, None
    try:
        for event, element in SafeET.iterparse(io.BytesIO(raw), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                depth += 1
                root = element if root is None else root
                if depth > max_depth:
                    raise WebInputError(f"{what} nests elements deeper than {max_depth} levels "
                                        f"(<{element.tag.rsplit('}', 1)[-1][:60]}> at depth {depth})")
            else:
                depth -= 1
    except DefusedXmlException as exc:
        raise WebInputError(f"{what} was refused: {type(exc).__name__} (DTDs and entities are not accepted)") from None
    except ET.ParseError as exc:
        raise WebInputError(f"{what} is malformed XML: {exc}") from None
    except WebInputError:
        raise
    except (LookupError, UnicodeError, ValueError, TypeError) as exc:  # e.g. encoding="klingon" or "rot13"
        raise WebInputError(f"{what} declares an encoding that cannot be read: {str(exc)[:100]}") from None
    if root is None:
        raise WebInputError(f"{what} is empty")
    return root


def query_int(request: Request, name: str, default: int, *, minimum: int = 0, maximum: int = 10_000) -> int:
    """An integer query parameter, or a 400 `WebInputError` naming it when it is not a whole number in range."""
    text = request.query_params.get(name)
    if text is None:
        return default
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", text.strip()):  # ASCII digits only: int() also reads "٣" and "1_0"
        raise WebInputError(f"query parameter {name!r} must be a whole number, not {text[:40]!r}")
    value = int(text.strip())
    if not minimum <= value <= maximum:
        raise WebInputError(f"query parameter {name!r} must be between {minimum} and {maximum}, not {value}")
    return value


class _BodyTooLarge(HTTPException):
    """Raised from `receive` when a body passes the cap: Starlette apps answer it as a 413."""

    def __init__(self, max_bytes: int):
        super().__init__(413, f"the request body is larger than the {max_bytes:,}-byte limit")


class BodyLimit:
    """ASGI guard: no request body through it may pass `max_bytes`. A declared Content-Length over it is answered
    413 before the app runs; a streamed body is cut off (413) as it passes the limit, so nothing buffers it."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"").strip()
        if length.isdigit() and int(length) > self.max_bytes:
            await _answer_413(send, self.max_bytes)
            return
        size, started = 0, False

        async def limited_receive() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > self.max_bytes:
                    raise _BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _answer_413(send, self.max_bytes)


async def _answer_413(send: Send, max_bytes: int) -> None:
    body = json.dumps({"error": f"the request body is larger than the {max_bytes:,}-byte limit"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
