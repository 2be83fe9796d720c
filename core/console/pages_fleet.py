"""The console's Fleet page: per tenant, each pipeline's last run, next run, failures in a row, open dead letters,
the worker holding it and what is wrong (an invalid file, revoked credentials); a bookkeeper can queue a sync.
The nav link shows only when the console is pointed at a fleet database (LEDGERLINK_FLEET_DATABASE_URL)."""

from __future__ import annotations

import logging
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .api_fleet import fleet_database_url, fleet_view
from .auth import Principal
from .errors import ApiError
from .pages import _context, _env, _render, page

__all__ = ["fleet_page_routes", "close_fleet_endpoints"]

log = logging.getLogger("ledgerlink.console.fleet")

# the base template's nav asks this, so the link appears only on a console that has a fleet to show
_env.globals["fleet_console"] = lambda: fleet_database_url() is not None


@page("viewer")
def fleet_page(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    return _render(request, "fleet_status.html", **_context(request, principal, fleet=fleet_view()))


@page("bookkeeper", action=True)
def fleet_trigger(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    from ..fleet import FleetDatabase
    from ..fleet.engine import enqueue_sync

    tenant, pipeline = str(form.get("tenant") or ""), str(form.get("pipeline") or "")
    if not tenant or not pipeline:
        raise ApiError(400, "name the tenant and the pipeline", where="form.tenant")
    url = fleet_database_url()
    if not url:
        raise ApiError(404, "this console is not pointed at a fleet database")
    db = FleetDatabase(url)
    try:
        workflow = enqueue_sync(db, tenant, pipeline, reason=f"console:{principal.actor}")
    finally:
        db.close()
    request.app.state.workspace.audit.record(principal.actor, "fleet.trigger", target=f"{tenant}/{pipeline}",
                                             detail={"workflow_id": workflow})
    return _render(request, "fleet_status.html", **_context(
        request, principal, fleet=fleet_view(), queued=f"{tenant}/{pipeline}"))


_routers: dict[tuple[str, int], Any] = {}
_sessions: dict[tuple[str, int], Any] = {}


class _FleetEndpoint:
    """An ASGI app that hands each request to the fleet's `make(db, host)` app for this console's fleet database,
    made once per database and plugin host and kept in `table` (closed by `close_fleet_endpoints`). No console
    sign-in: what it hosts verifies the vendor itself."""

    def __init__(self, table: dict[tuple[str, int], Any], make: Callable[[Any, Any], Any]):
        self.table, self.make = table, make

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from ..fleet import FleetDatabase

        url = fleet_database_url()
        if not url:
            from .errors import error_response

            await error_response(ApiError(404, "this console is not pointed at a fleet database",
                                          hint="start `ledgerlink serve` with LEDGERLINK_FLEET_DATABASE_URL set"))(
                scope, receive, send)
            return
        from ..plugins import host as plugin_host

        # the installed plugins, as the fleet's workers load them (not this console's own workspace's host)
        host = plugin_host()
        endpoint = self.table.get((url, id(host)))
        if endpoint is None:
            endpoint = self.table[(url, id(host))] = self.make(FleetDatabase(url), host)
        await endpoint(scope, receive, send)


def _webhooks(db: Any, host: Any) -> Any:
    """`POST /fleet/webhooks/<receiver>`: a vendor callback routed to the tenant's pipeline and queued in the fleet
    (ledgerlink.fleet.webhooks); each tenant's receiver verifies the vendor's signature."""
    from ..fleet.webhooks import FleetWebhooks

    return FleetWebhooks(db, host)


def _vendor_sessions(db: Any, host: Any) -> Any:
    """`/fleet/<service>/<tenant>/<pipeline>`: a vendor endpoint that holds the pipeline's state for a session (the
    QuickBooks Web Connector's, `/fleet/qbwc/…`; ledgerlink.fleet.sessions); the plugin checks the vendor's own
    credentials (the pipeline's Web Connector user and password)."""
    from ..fleet.sessions import FleetSessions

    return FleetSessions(db, host)


def close_fleet_endpoints() -> int:
    """Close the fleet's webhook routers and vendor-session endpoints this process opened (their Postgres pools;
    a Web Connector session still holding a pipeline's state lets it go and releases the lease at once, instead of
    leaving it to lapse): what `serve` does when it stops. How many were closed."""
    closed = 0
    for table in (_routers, _sessions):
        while table:
            _, endpoint = table.popitem()
            try:
                endpoint.close()
                closed += 1
            except Exception as exc:  # one that cannot close must not keep the others open
                log.warning("could not close a fleet endpoint: %s", exc)
    return closed


def fleet_page_routes() -> list[Route]:
    sessions = _FleetEndpoint(_sessions, _vendor_sessions)
    return [Route("/fleet", fleet_page, methods=["GET"]), Route("/fleet/sync", fleet_trigger, methods=["POST"]),
            Route("/fleet/webhooks/{receiver}", _FleetEndpoint(_routers, _webhooks), methods=["POST", "GET"]),
            Route("/fleet/{service}/{tenant}/{pipeline}", sessions, methods=["POST", "GET"]),
            Route("/fleet/{service}/{tenant}/{pipeline}/", sessions, methods=["POST", "GET"])]
