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
from .auth import SESSION_COOKIE, require
from .errors import ApiError
from .pages_connect import CONNECT_ROLE, redirect_uri

__all__ = ["connect_api_routes"]


def _binding(call: Call) -> str:
    cookie = call.request.cookies.get(SESSION_COOKIE) if call.principal.via == "session" else None
    return binding_of(cookie, call.principal.actor)


def _may_connect(call: Call) -> None:
    """Admins connect; so does this machine's CLI (the local token of the user who runs serve and owns the
    workspace's files and key anyway)."""
    if call.principal.via != "local":
        require(call.principal, CONNECT_ROLE)


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


@endpoint("bookkeeper")
def start(call: Call) -> Any:
    _may_connect(call)
    pipeline = call.request.path_params["pipeline"]
    back = call.body.get("redirect_uri") or redirect_uri(call.request)
    if not isinstance(back, str) or not back.startswith(("http://", "https://")) or len(back) > 500:
        raise ApiError(400, "must be an http(s) address registered with the vendor's app", where="body.redirect_uri")
    url = accounts.start_oauth(call.workspace, pipeline, _role(call), binding=_binding(call),
                               actor=call.principal.actor, redirect_uri=back, values=_values(call))
    call.audit("connection started", target=f"{pipeline}.{call.request.path_params['role']}")
    return {"authorize_url": url, "redirect_uri": back}


@endpoint("bookkeeper")
def finish(call: Call) -> Any:
    _may_connect(call)
    params = call.body.get("params", call.body)
    if not isinstance(params, dict) or not all(isinstance(v, str) and len(v) <= 2048 for v in params.values()):
        raise ApiError(400, "must be the callback's query parameters, as text", where="body.params")
    return accounts.finish_oauth(call.workspace, params, binding=_binding(call))


@endpoint("bookkeeper", status=201)
def connect_form(call: Call) -> Any:
    _may_connect(call)
    return accounts.connect_form(call.workspace, call.request.path_params["pipeline"], _role(call), _values(call),
                                 actor=call.principal.actor)


@endpoint("bookkeeper")
def disconnect(call: Call) -> Any:
    _may_connect(call)
    return accounts.disconnect(call.workspace, call.request.path_params["pipeline"], _role(call),
                               actor=call.principal.actor)


@endpoint("bookkeeper")
def check(call: Call) -> Any:
    return accounts.check(call.workspace, call.request.path_params["pipeline"], _role(call))


@endpoint("viewer")
def pipeline_connections(call: Call) -> Any:
    name = call.service().pipeline.name
    return [accounts.describe(call.workspace, s) for s in accounts.slots(call.workspace) if s.pipeline == name]


def connect_api_routes() -> list[Route]:
    p = "/pipelines/{pipeline}/connections/{role}"
    return [
        Route("/connections", list_connections, methods=["GET"]),
        Route("/connections/finish", finish, methods=["POST"]),
        # the same, under a pipeline: what `ledgerlink connect` (a client of one served pipeline) calls
        Route("/pipelines/{pipeline}/connections", pipeline_connections, methods=["GET"]),
        Route("/pipelines/{pipeline}/connections/finish", finish, methods=["POST"]),
        Route(p, connect_form, methods=["POST"]),
        Route(p, disconnect, methods=["DELETE"]),
        Route(f"{p}/start", start, methods=["POST"]),
        Route(f"{p}/check", check, methods=["POST"]),
    ]
