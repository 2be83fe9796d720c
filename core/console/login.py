"""Signing in and out: a name and password become a session cookie (Secure when configured or behind TLS,
HttpOnly, SameSite=Lax, with an expiry) and a CSRF token; failures are throttled per user and per address."""

from __future__ import annotations

import math
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .auth import SESSION_COOKIE, Principal
from .errors import ApiError, error_response, field, read_json

__all__ = ["login", "logout", "whoami"]


def whoami(principal: Principal) -> dict[str, Any]:
    return {"user": principal.name, "role": principal.role, "via": principal.via, "csrf_token": principal.csrf_token}


def _secure(request: Request) -> bool:
    setting = request.app.state.cookie_secure
    return request.url.scheme == "https" if setting is None else bool(setting)


def _attempt(workspace: Any, name: str, password: str, address: str) -> tuple[str, Any, Any]:
    """Check the throttle, then the password; (cookie value, session, user) when both pass."""
    keys = (f"user:{name}", f"address:{address}")
    wait = workspace.throttle.locked_for(*keys)
    if wait:
        workspace.audit.record(name, "sign-in refused (locked out)", detail={"address": address})
        raise ApiError(429, f"too many failed sign-ins: try again in {math.ceil(wait / 60)} minute(s)",
                       hint="an admin can reset a forgotten password with `ledgerlink users`",
                       headers={"Retry-After": str(math.ceil(wait))})
    user = workspace.accounts.verify(name, password)
    if user is None:
        workspace.throttle.failed(*keys)
        workspace.audit.record(name, "sign-in failed", detail={"address": address})
        raise ApiError(401, "wrong user name or password")
    workspace.throttle.succeeded(*keys)
    workspace.audit.record(name, "signed in", detail={"address": address})
    session_id, session = workspace.sessions.start(user.name)
    return session_id, session, user


async def login(request: Request) -> Response:
    workspace = request.app.state.workspace
    try:
        body = await read_json(request)
        name, password = field(body, "name", str), field(body, "password", str)
        if len(name) > 64 or len(password) > 1024:
            raise ApiError(400, "the name or password is too long", where="body")
        address = request.client.host if request.client else "unknown"
        session_id, session, user = await run_in_threadpool(_attempt, workspace, name, password, address)
    except ApiError as exc:
        return error_response(exc)
    response = JSONResponse({"user": user.name, "role": user.role, "csrf_token": session.csrf_token,
                             "expires_in_s": int(workspace.sessions.lifetime)})
    response.set_cookie(SESSION_COOKIE, session_id, max_age=int(workspace.sessions.lifetime), path="/",
                        secure=_secure(request), httponly=True, samesite="lax")
    return response


def logout(call: Any) -> dict[str, Any]:
    cookie = call.request.cookies.get(SESSION_COOKIE)
    if cookie:
        call.workspace.sessions.end(cookie)
    call.workspace.audit.record(call.principal.actor, "signed out")
    return {"signed_out": call.principal.name}
