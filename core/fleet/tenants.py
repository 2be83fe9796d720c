"""The fleet's register of tenants and their pipelines (rows in Postgres; the files stay in each workspace)."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ConfigError, LedgerlinkError
from .database import FleetDatabase
from .workspace import PipelineEntry, scan_workspace

__all__ = ["add_tenant", "remove_tenant", "tenant_workspace", "tenant_names", "tenant_pipelines", "check_name"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(f"tenant name {name!r} is not valid", where="NAME",
                          hint="letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100")
    return name


def add_tenant(db: FleetDatabase, name: str, workspace: Path, every: float | None = None) -> list[PipelineEntry]:
    """Register (or refresh) a tenant and every pipeline file of its workspace; a file that does not load is
    registered with its reason, so `fleet status` names it."""
    check_name(name)
    entries = scan_workspace(workspace.resolve(), every)
    with db.connect() as conn, conn.transaction():
        conn.execute("INSERT INTO tenants (name, workspace) VALUES (%s, %s) "
                     "ON CONFLICT (name) DO UPDATE SET workspace = EXCLUDED.workspace", (name, str(workspace.resolve())))
        conn.execute("DELETE FROM pipelines WHERE tenant = %s", (name,))
        for e in entries:
            conn.execute("INSERT INTO pipelines (tenant, pipeline, file, every_s, problem) VALUES (%s, %s, %s, %s, %s) "
                         "ON CONFLICT (tenant, pipeline) DO UPDATE SET file = EXCLUDED.file, "
                         "every_s = EXCLUDED.every_s, problem = EXCLUDED.problem",
                         (name, e.name, str(e.file), e.every_s, e.problem))
    return entries


def remove_tenant(db: FleetDatabase, name: str) -> bool:
    """Forget the tenant (its workspace and state files stay on disk); False when it was not registered."""
    with db.connect() as conn, conn.transaction():
        gone = conn.execute("DELETE FROM tenants WHERE name = %s RETURNING name", (name,)).fetchone()
        conn.execute("DELETE FROM leases WHERE tenant = %s", (name,))
        conn.execute("DELETE FROM vendor_sessions WHERE tenant = %s", (name,))
        conn.execute("DELETE FROM vendor_notes WHERE tenant = %s", (name,))
        if conn.execute("SELECT to_regclass('ledgerlink_fleet.notifications_seen') IS NOT NULL").fetchone()[0]:
            conn.execute("DELETE FROM notifications_seen WHERE tenant = %s", (name,))
    return gone is not None


def tenant_workspace(db: FleetDatabase, name: str) -> Path:
    rows = db.execute("SELECT workspace FROM tenants WHERE name = %s", (name,))
    if not rows:
        raise LedgerlinkError(f"tenant {name!r} is not registered", hint="`ledgerlink fleet add-tenant NAME --workspace DIR`")
    return Path(rows[0][0])


def tenant_names(db: FleetDatabase) -> list[str]:
    return [r[0] for r in db.execute("SELECT name FROM tenants ORDER BY name")]


def tenant_pipelines(db: FleetDatabase, tenant: str | None = None) -> list[tuple[str, str, str, float, str | None]]:
    """(tenant, pipeline, file, every_s, problem) rows, by tenant and pipeline."""
    if tenant is None:
        return db.execute("SELECT tenant, pipeline, file, every_s, problem FROM pipelines ORDER BY tenant, pipeline")
    return db.execute("SELECT tenant, pipeline, file, every_s, problem FROM pipelines WHERE tenant = %s "
                      "ORDER BY pipeline", (tenant,))
