"""The connections API: the same operations as the Connections page, for scripts and `ledgerlink connect`.

`POST …/connections/{role}/start` answers the vendor's consent URL, with a state bound to the caller (its session,
or its API token's name); after consent the vendor's redirect parameters (`state`, `code`, `realmId` or
`spapi_oauth_code`, `selling_partner_id`) go to `POST /connections/finish` from the same caller."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ..connect import accounts
from ..connect.states import binding_of
from .api import Call, endpoint
from .auth import SESSION_COOKIE
from .errors import ApiError
from .pages_connect import CONNECT_ROLE, redirect_uri

__all__ = ["connect_api_routes"]


def _binding(call: Call) -> str:
    cookie = call.request.cookies.get(SESSION_COOKIE) if call.principal.via == "session" else None
    return binding_of(cookie, call.principal.actor)


def _role(call: Call) -> str:
    role = call.request.path_params["role"]
    if role not in accounts.ROLES:
        raise ApiError(404, f"{role[:40]!r} is not a role", where="role", hint="source or destination")
    return role


def _values(call: Call) -> dict[str, Any]:
    values = call.body.get("values", {})
    if not isinstance(values, dict) or not all(isinstance(v, str) and len(v) <= 4096 for v in values.values()):
        raise ApiError(400, "must be an object of text fields", where="body.values",
                       hint='e.g. {"values": {"store_hash": "abc123", "access_token": "…"}}')
    return values


@endpoint("viewer")
def list_connections(call: Call) -> Any:
    return [accounts.describe(call.workspace, s) for s in accounts.slots(call.workspace)]


@endpoint(CONNECT_ROLE)
def start(call: Call) -> Any:
    pipeline = call.request.path_params["pipeline"]
    url = accounts.start_oauth(call.workspace, pipeline, _role(call), binding=_binding(call),
                               actor=call.principal.actor, redirect_uri=redirect_uri(call.request),
                               values=_values(call))
    call.audit("connection started", target=f"{pipeline}.{call.request.path_params['role']}")
    return {"authorize_url": url, "redirect_uri": redirect_uri(call.request)}


@endpoint(CONNECT_ROLE)
def finish(call: Call) -> Any:
    params = call.body.get("params", call.body)
    if not isinstance(params, dict) or not all(isinstance(v, str) and len(v) <= 2048 for v in params.values()):
        raise ApiError(400, "must be the callback's query parameters, as text", where="body.params")
    return accounts.finish_oauth(call.workspace, params, binding=_binding(call))


@endpoint(CONNECT_ROLE, status=201)
def connect_form(call: Call) -> Any:
    return accounts.connect_form(call.workspace, call.request.path_params["pipeline"], _role(call), _values(call),
                                 actor=call.principal.actor)


@endpoint(CONNECT_ROLE)
def disconnect(call: Call) -> Any:
    return accounts.disconnect(call.workspace, call.request.path_params["pipeline"], _role(call),
                               actor=call.principal.actor)


@endpoint("bookkeeper")
def check(call: Call) -> Any:
    return accounts.check(call.workspace, call.request.path_params["pipeline"], _role(call))


def connect_api_routes() -> list[Route]:
    p = "/pipelines/{pipeline}/connections/{role}"
    return [
        Route("/connections", list_connections, methods=["GET"]),
        Route("/connections/finish", finish, methods=["POST"]),
        Route(p, connect_form, methods=["POST"]),
        Route(p, disconnect, methods=["DELETE"]),
        Route(f"{p}/start", start, methods=["POST"]),
        Route(f"{p}/check", check, methods=["POST"]),
    ]
