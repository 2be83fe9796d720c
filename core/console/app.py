"""The console's web app over a workspace: `/healthz` (liveness, reveals nothing), `/health` and `POST /sync`
(the first release's JSON routes, kept as signed-in aliases), the Runs page at `/runs` (JSON only for a client
that asks for nothing but JSON), the JSON API under `/api/v1`, and every pipeline's plugin apps (vendor
callbacks, which carry their own verification, so they answer without a console sign-in)."""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from .plugin_mounts import PluginApps
from . import operations as ops
from .api import Call, api_routes, endpoint
from .auth import authenticate, require
from .errors import ApiError, error_response, int_param, str_param
from .pages import page_routes, runs_page

__all__ = ["build_console_app", "mount_paths"]

log = logging.getLogger("ledgerlink.console")


def mount_paths(workspace: Any) -> list[tuple[str, Any, str]]:
    """(path, service, plugin) for every plugin app of every pipeline: at the plugin's own path when one pipeline
    claims it (what vendors are configured with today), under `/<pipeline>` when several do."""
    claims: dict[str, int] = {}
    routes = workspace.plugin_host.web_routes()
    for path, _, _ in routes:
        claims[path.rstrip("/")] = claims.get(path.rstrip("/"), 0) + len(workspace.services)
    out = []
    for service in workspace.services.values():
        for path, factory, plugin in routes:
            base = path.rstrip("/")
            mounted = base if claims[base] == 1 else f"/{service.pipeline.name}{base}"
            out.append((mounted, factory(service.context()), plugin))
    return out


class _GuardPluginStatus:
    """A plugin app's own read-outs (`GET …/status`, e.g. the Web Connector's queue) are not vendor callbacks:
    they need a signed-in viewer like the rest of the console."""

    def __init__(self, app: Any, workspace: Any):
        self.app, self.workspace = app, workspace

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and scope.get("path", "").rstrip("/").endswith("/status"):
            request = Request(scope, receive)
            try:
                require(await run_in_threadpool(authenticate, self.workspace, request), "viewer")
            except ApiError as exc:
                await error_response(exc)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _single(call: Call) -> Any:
    """The pipeline `/runs` and `/sync` mean: `?pipeline=` or the only one."""
    name = str_param(call.request, "pipeline")
    if name is None and len(call.workspace.services) == 1:
        return next(iter(call.workspace.services.values()))
    if name is None:
        raise ApiError(400, "this workspace serves several pipelines: name one", where="query parameter pipeline",
                       hint=f"pipelines: {', '.join(sorted(call.workspace.services))}")
    return call.workspace.service(name)


@endpoint("viewer")
def health(call: Call) -> Any:
    services = list(call.workspace.services.values())
    items = [{"pipeline": s.pipeline.name, "syncing": s.running, "syncs": s.syncs,
              "last_status": (s.last_report or {}).get("status"), "last_error": s.last_error, "every_s": s.every}
             for s in services]
    return items[0] if len(items) == 1 else {"pipelines": items}


@endpoint("viewer")
def legacy_runs(call: Call) -> Any:
    return ops.runs(_single(call), int_param(call.request, "limit", 20))


@endpoint("bookkeeper", status=202)
def legacy_sync(call: Call) -> Any:
    service = _single(call)
    call.workspace.audit.record(call.principal.actor, "sync requested", pipeline=service.pipeline.name)
    return ops.run_now(service, f"requested by {call.principal.actor}")


def wants_json(request: Request) -> bool:
    """A client that asks for JSON and not for a web page (`Accept: application/json`); a browser, curl's and
    httpx's `*/*` get the page."""
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept and "text/html" not in accept


async def runs(request: Request) -> Response:
    """`/runs`: the Runs page; the first release's JSON run list for `Accept: application/json` (deprecated:
    `/api/v1/pipelines/{pipeline}/runs` is the API's own)."""
    return await (legacy_runs(request) if wants_json(request) else runs_page(request))


async def healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    text = {404: "no such page or API route", 405: f"{request.method} is not allowed here"}.get(status, str(exc))
    return error_response(ApiError(status, text, where=request.url.path,
                                   hint="the API lives under /api/v1 (see the service guide)"))


def build_console_app(workspace: Any, *, cookie_secure: bool | None = None) -> Any:
    """The whole web app; `cookie_secure=None` marks session cookies Secure exactly when the request came over
    TLS (behind a reverse proxy, let uvicorn trust its X-Forwarded-Proto)."""
    routes: list[Any] = [Route("/healthz", healthz), Route("/health", health), Route("/runs", runs, methods=["GET"]),
                         Route("/sync", legacy_sync, methods=["POST"]), Mount("/api/v1", routes=api_routes())]
    routes += page_routes()  # the web console's pages at `/` (plugin apps go first, see PluginApps)
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.workspace = workspace
    app.state.cookie_secure = cookie_secure
    # every pipeline's plugin apps, found again per request: a pipeline created in the designer answers at once
    return PluginApps(app, workspace, _GuardPluginStatus)
