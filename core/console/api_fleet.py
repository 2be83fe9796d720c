"""The fleet API, when the console is pointed at a fleet database (LEDGERLINK_FLEET_DATABASE_URL): every
tenant's status (`GET /api/v1/fleet`), and one sync of a tenant's pipeline queued now (`POST
/api/v1/fleet/tenants/{tenant}/pipelines/{pipeline}/sync`), which needs a signed-in bookkeeper or an API token
and is audited: what a script calls (vendor webhooks reach `/fleet/webhooks/<receiver>` directly)."""

from __future__ import annotations

import os
from typing import Any

from starlette.routing import Route

from .api import Call, endpoint
from .errors import ApiError

__all__ = ["fleet_api_routes", "fleet_database_url", "fleet_view"]


def fleet_database_url() -> str | None:
    """The fleet database this console shows, if any."""
    return os.environ.get("LEDGERLINK_FLEET_DATABASE_URL") or None


def _db() -> Any:
    from ..fleet import FleetDatabase

    url = fleet_database_url()
    if not url:
        raise ApiError(404, "this console is not pointed at a fleet database",
                       hint="start `ledgerlink serve` with LEDGERLINK_FLEET_DATABASE_URL set")
    return FleetDatabase(url)


def fleet_view() -> dict[str, Any]:
    """Tenants (each pipeline's last run, next run, failures, dead letters, problem) and the workers seen."""
    from ..fleet import fleet_status, workers_status

    db = _db()
    try:
        tenants = [t.to_dict() for t in fleet_status(db)]
        return {"tenants": tenants, "workers": workers_status(db),
                "problems": sum(1 for t in tenants if not t["ok"])}
    finally:
        db.close()


@endpoint("viewer")
def show_fleet(call: Call) -> Any:
    return fleet_view()


@endpoint("bookkeeper", status=202)
def trigger_sync(call: Call) -> Any:
    from ..fleet.engine import enqueue_sync

    tenant, pipeline = call.request.path_params["tenant"], call.request.path_params["pipeline"]
    db = _db()
    try:
        workflow = enqueue_sync(db, tenant, pipeline, reason=f"api:{call.principal.actor}")
    finally:
        db.close()
    call.audit("fleet.trigger", target=f"{tenant}/{pipeline}", detail={"workflow_id": workflow})
    return {"tenant": tenant, "pipeline": pipeline, "workflow_id": workflow, "queued": True}


def fleet_api_routes() -> list[Route]:
    return [
        Route("/fleet", show_fleet, methods=["GET"]),
        Route("/fleet/tenants/{tenant}/pipelines/{pipeline}/sync", trigger_sync, methods=["POST"]),
    ]
