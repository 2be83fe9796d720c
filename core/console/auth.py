"""Who is asking: a session cookie (with its CSRF token on unsafe calls), an API token (`Authorization: Bearer`),
or this machine's CLI (the local token from the endpoint note). Every API route names the least role it needs."""

from __future__ import annotations

import getpass
import hmac
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from .accounts import role_allows
from .errors import ApiError

__all__ = ["Principal", "authenticate", "require", "check_csrf", "SESSION_COOKIE", "CSRF_HEADER", "UNSAFE"]

SESSION_COOKIE = "ledgerlink_session"
CSRF_HEADER = "x-csrf-token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    #: how they proved it: "session" (cookie; needs CSRF on unsafe calls), "token" or "local"
    via: str
    csrf_token: str | None = None

    @property
    def actor(self) -> str:
        """The name the audit log records."""
        return {"token": f"token:{self.name}", "local": f"cli:{self.name}"}.get(self.via, self.name)


def authenticate(workspace: Any, request: Request) -> Principal:
    """The signed-in principal; 401 when there is none or its credentials are wrong or expired."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            raise ApiError(401, "the Authorization header must be `Bearer TOKEN`", where="Authorization",
                           headers={"WWW-Authenticate": "Bearer"})
        if workspace.is_local_token(secret):
            return Principal(getpass.getuser(), "bookkeeper", "local")
        token = workspace.tokens.verify(secret)
        if token is None:
            raise ApiError(401, "the API token is not valid (mistyped, revoked or from another workspace)",
                           where="Authorization", hint="`ledgerlink tokens create` makes a new one",
                           headers={"WWW-Authenticate": "Bearer"})
        return Principal(token.name, token.role, "token")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        session = workspace.sessions.get(cookie)
        user = workspace.accounts.get(session.user_name) if session else None
        if session is None or user is None:
            raise ApiError(401, "your session has expired or was signed out", hint="sign in again")
        return Principal(user.name, user.role, "session", session.csrf_token)
    raise ApiError(401, "sign in or send an API token", hint="POST /api/v1/session with your name and password, "
                   "or send `Authorization: Bearer TOKEN`", headers={"WWW-Authenticate": "Bearer"})


def require(principal: Principal, role: str) -> None:
    if not role_allows(principal.role, role):
        raise ApiError(403, f"{principal.name} is a {principal.role}; this needs the {role} role",
                       hint="ask an admin for the role, or use an account that has it")


def check_csrf(principal: Principal, request: Request, body: dict[str, Any] | None = None) -> None:
    """A cookie is sent by the browser on its own, so an unsafe call made with one must also prove it comes from
    our page: the session's CSRF token in the X-CSRF-Token header (or a `csrf_token` form/body field). API tokens
    are never ambient, so they need none."""
    if principal.via != "session" or request.method not in UNSAFE:
        return
    sent = request.headers.get(CSRF_HEADER) or (body or {}).get("csrf_token")
    if not isinstance(sent, str) or not principal.csrf_token or not hmac.compare_digest(sent, principal.csrf_token):
        raise ApiError(403, "the CSRF token is missing or wrong", where=CSRF_HEADER,
                       hint="send the csrf_token from GET /api/v1/session in the X-CSRF-Token header")
