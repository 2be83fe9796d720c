"""What a plugin's web app is given in the fleet: the same `ServeContext` `ledgerlink serve` gives it, built from
a tenant's workspace and interpolated pipeline file. Shared by the webhook router (`webhooks.py`) and the
per-pipeline vendor endpoints such as the Web Connector's (`sessions.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..pipeline import Pipeline
from .database import FleetDatabase

__all__ = ["tenant_context", "pipeline_location"]


def tenant_context(loaded: Pipeline, trigger_sync: Callable[[str], None], **extra: Any) -> Any:
    """The ServeContext of a tenant's loaded pipeline (`extra`: awaiting, references, state_gate, …)."""
    from ..serve import ServeContext

    return ServeContext(
        pipeline_name=loaded.name, source_connector=loaded.source.connector, source_config=loaded.source.config,
        source_streams=loaded.source.streams,
        destination_connector=loaded.destination.connector, destination_config=loaded.destination.config,
        destination_options=loaded.destination.options, trigger_sync=trigger_sync, **extra)


def pipeline_location(db: FleetDatabase, tenant: str, pipeline: str) -> tuple[Path, Path, str | None] | None:
    """(workspace, pipeline file, why it cannot run or None) of a registered pipeline; None when there is none."""
    rows = db.execute("SELECT t.workspace, p.file, p.problem FROM pipelines p JOIN tenants t ON t.name = p.tenant "
                      "WHERE p.tenant = %s AND p.pipeline = %s", (tenant, pipeline))
    if not rows:
        return None
    workspace, file, problem = rows[0]
    return Path(workspace), Path(file), problem
