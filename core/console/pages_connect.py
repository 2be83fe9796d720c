"""The Connections page: every pipeline's accounts (its source's and destination's), whether each is connected,
by whom and when, and — when a stored token stops working — which pipeline that stops and why. Connect sends the
user to the vendor's consent page (QuickBooks Online, Amazon) or takes the vendor's API token or password in a
form that is checked at once (BigCommerce, QuickBooks Desktop); Disconnect forgets the stored secrets; the
vendor's redirect comes back to `/connections/callback`, which needs the same signed-in session that left."""

from __future__ import annotations

import os
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..connect import accounts
from ..connect.states import binding_of
from .accounts import role_allows
from .auth import SESSION_COOKIE, Principal
from .errors import ApiError
from .pages import _context, _render, page

__all__ = ["connect_page_routes", "redirect_uri", "CONNECT_ROLE", "REDIRECT_URI_ENV"]

#: connecting and disconnecting accounts hands ledgerlink the keys to the books: admins only
CONNECT_ROLE = "admin"
#: the callback address the vendor apps are registered with, when the console is reached through a proxy
REDIRECT_URI_ENV = "LEDGERLINK_CONNECT_REDIRECT_URI"
CALLBACK_PATH = "/connections/callback"


def redirect_uri(request: Request) -> str:
    """Where the vendor sends the user back: LEDGERLINK_CONNECT_REDIRECT_URI, else this console's own callback."""
    return os.environ.get(REDIRECT_URI_ENV) or str(request.base_url).rstrip("/") + CALLBACK_PATH


def _binding(request: Request, principal: Principal) -> str:
    return binding_of(request.cookies.get(SESSION_COOKIE) if principal.via == "session" else None, principal.actor)


def _slot_form(form: dict[str, Any]) -> tuple[str, str]:
    pipeline, role = form.get("pipeline"), form.get("role")
    if not isinstance(pipeline, str) or not pipeline:
        raise ApiError(400, "is required", where="form.pipeline", hint="nothing was changed")
    if role not in accounts.ROLES:
        raise ApiError(400, "must be source or destination", where="form.role", hint="nothing was changed")
    return pipeline, str(role)


@page()
def connections_page(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    workspace = request.app.state.workspace
    sections: dict[str, list[dict[str, Any]]] = {}
    for s in accounts.slots(workspace):
        row = accounts.describe(workspace, s)
        row["fields"] = s.flow.form_fields(s.config)
        row["downloads"] = list(s.flow.files)
        sections.setdefault(s.pipeline, []).append(row)
    return _render(request, "connect_list.html", **_context(
        request, principal, sections=sections, can_connect=role_allows(principal.role, CONNECT_ROLE),
        callback=redirect_uri(request)))


@page(CONNECT_ROLE, action=True)
def connect(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    """OAuth: off to the vendor's consent page. Form: checked and stored now."""
    workspace = request.app.state.workspace
    pipeline, role = _slot_form(form)
    s = accounts.slot(workspace, pipeline, role)
    if s.flow.kind == "oauth":
        url = accounts.start_oauth(workspace, pipeline, role, binding=_binding(request, principal),
                                   actor=principal.actor, redirect_uri=redirect_uri(request), values=form)
        return RedirectResponse(url, status_code=303)
    done = accounts.connect_form(workspace, pipeline, role, form, actor=principal.actor)
    return _done(request, principal, done)


def _done(request: Request, principal: Principal, done: dict[str, Any]) -> Response:
    lines = [f"{done['label']} is connected.",
             f"Pipelines using it: {', '.join(done['pipelines'])}; their next run uses it."]
    return _render(request, "connect_done.html", **_context(request, principal, title="Connected", results=lines,
                                                            done=done))


@page(CONNECT_ROLE)
def _signed_in_callback(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    workspace = request.app.state.workspace
    params = {k: v[:2048] for k, v in request.query_params.items()}
    done = accounts.finish_oauth(workspace, params, binding=_binding(request, principal))
    return _done(request, principal, done)


async def callback(request: Request) -> Response:
    """The vendor's redirect back with the code (or the user's refusal). In a browser signed in to the console
    it finishes there; in one that is not (the connection was started by `ledgerlink connect`), it exchanges
    nothing and shows the address to paste into the command, which finishes it with its own binding."""
    workspace = request.app.state.workspace
    if not request.cookies.get(SESSION_COOKIE) or await run_in_threadpool(_session_gone, workspace, request):
        return _render(request, "connect_paste.html", code=401, user=None, address=str(request.url))
    return await _signed_in_callback(request)


def _session_gone(workspace: Any, request: Request) -> bool:
    return workspace.sessions.get(request.cookies.get(SESSION_COOKIE) or "") is None


@page(CONNECT_ROLE, action=True)
def disconnect(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    workspace = request.app.state.workspace
    pipeline, role = _slot_form(form)
    done = accounts.disconnect(workspace, pipeline, role, actor=principal.actor)
    lines = [f"{done['account']} is disconnected: {', '.join(done['pipelines'])} will not run until it is connected "
             "again."] + ([done["revoked"]] if done.get("revoked") else [])
    return _render(request, "connect_done.html", **_context(request, principal, title="Disconnected", results=lines,
                                                            done=done))


@page("bookkeeper", action=True)
def check(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    workspace = request.app.state.workspace
    pipeline, role = _slot_form(form)
    accounts.check(workspace, pipeline, role)
    return RedirectResponse("/connections", status_code=303)


@page(CONNECT_ROLE)
def download(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    workspace = request.app.state.workspace
    p = request.path_params
    if p["role"] not in accounts.ROLES:
        raise ApiError(404, "no such file", where="role")
    file = accounts.download(workspace, p["pipeline"], p["role"], p["name"], base_url=str(request.base_url))
    return Response(file.content, media_type=file.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{file.filename}"'})


def connect_page_routes() -> list[Route]:
    return [
        Route("/connections", connections_page, methods=["GET"]),
        Route("/connections/connect", connect, methods=["POST"]),
        Route(CALLBACK_PATH, callback, methods=["GET"]),
        Route("/connections/disconnect", disconnect, methods=["POST"]),
        Route("/connections/check", check, methods=["POST"]),
        Route("/connections/{pipeline}/{role}/files/{name}", download, methods=["GET"]),
    ]
