"""API errors as JSON — `{"error": {"message", "where", "hint"}}` with the CLI's own wording (a LedgerlinkError's
fields) — and the strict readers of query parameters and JSON bodies that turn bad input into a 4xx."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from ..errors import ConfigError, LedgerlinkError, PipelineBusyError, RemoteError

__all__ = ["ApiError", "error_response", "int_param", "str_param", "read_json", "field", "MAX_BODY_BYTES"]

#: the largest JSON body the API reads (every call is a handful of ids or a form)
MAX_BODY_BYTES = 1 << 20


class ApiError(Exception):
    """An answer other than success, with its HTTP status and the CLI's wording."""

    def __init__(self, status: int, message: str, *, where: str | None = None, hint: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.where, self.hint, self.headers = status, message, where, hint, headers


def error_response(exc: Exception) -> JSONResponse:
    if isinstance(exc, ApiError):
        status, message, where, hint, headers = exc.status, exc.message, exc.where, exc.hint, exc.headers
    elif isinstance(exc, LedgerlinkError):
        where = getattr(exc, "where", None)
        message = exc.message
        if where and message.startswith(f"{where}: "):
            message = message[len(where) + 2:]
        status = (404 if isinstance(exc, ConfigError) and message.startswith("no ") else
                  400 if isinstance(exc, ConfigError) else 409 if isinstance(exc, PipelineBusyError) else
                  502 if isinstance(exc, RemoteError) else 422)
        hint, headers = exc.hint, None
    else:  # pragma: no cover - a bug; the handler logs it
        status, message, where, hint, headers = 500, "internal error; see the service log", None, None, None
    return JSONResponse({"error": {"message": message, "where": where, "hint": hint}}, status_code=status,
                        headers=headers)


def int_param(request: Request, name: str, default: int, *, low: int = 1, high: int = 1000) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{raw!r} is not a whole number", where=f"query parameter {name}",
                       hint=f"e.g. ?{name}={default}") from None
    if not low <= value <= high:
        raise ApiError(400, f"{value} is out of range ({low} to {high})", where=f"query parameter {name}")
    return value


def str_param(request: Request, name: str, *, required: bool = False, choices: tuple[str, ...] | None = None,
              default: str | None = None) -> str | None:
    raw = request.query_params.get(name, default)
    if raw is None or raw == "":
        if required:
            raise ApiError(400, "is required", where=f"query parameter {name}")
        return default
    if len(raw) > 500:
        raise ApiError(400, "is longer than 500 characters", where=f"query parameter {name}")
    if choices and raw not in choices:
        raise ApiError(400, f"{raw!r} is not one of {', '.join(choices)}", where=f"query parameter {name}")
    return raw


async def read_json(request: Request) -> dict[str, Any]:
    """The request's JSON object, or its fields when it is a form (an empty body is `{}`); malformed, oversized or
    non-object bodies are a 4xx."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
    if not body.strip():
        return {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return _form(body)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the request body is not valid JSON: {exc}", where="body",
                       hint='send a JSON object, e.g. {"ids": [1, 2]}') from None
    if not isinstance(data, dict):
        raise ApiError(400, "the request body must be a JSON object", where="body")
    return data


def _form(body: bytes) -> dict[str, Any]:
    """A plain HTML form (the console's pages without JavaScript): one value per name, a list when repeated."""
    from urllib.parse import parse_qsl

    out: dict[str, Any] = {}
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise ApiError(400, "the form is not UTF-8", where="body") from None
    for name, value in pairs:
        if name in out:
            out[name] = (out[name] if isinstance(out[name], list) else [out[name]]) + [value]
        else:
            out[name] = value
    return out


def field(body: dict[str, Any], name: str, kind: type | tuple[type, ...], *, required: bool = True,
          default: Any = None) -> Any:
    """One field of a JSON body, of the expected type (a list's items are checked by the caller)."""
    if name not in body or body[name] is None:
        if required:
            raise ApiError(400, "is required", where=f"body.{name}")
        return default
    value = body[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        wanted = " or ".join(k.__name__ for k in kinds)
        raise ApiError(400, f"must be a {wanted}, not {type(value).__name__}", where=f"body.{name}")
    return value
