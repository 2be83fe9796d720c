"""Many tenants on one Postgres: DBOS runs each pipeline's syncs on any number of workers, a lease per pipeline
keeps its state to one writer, and remote accounts' rate limits are counted for all workers together.

Modules: `database` (the Postgres), `workspace` (a tenant's folder), `tenants` (the register), `leases` (one
writer), `limiter` (shared account limits), `engine` (DBOS workflows, schedules and the worker), `runs` and
`status` (what happened), `webhooks` (vendor callbacks routed to a tenant's pipeline and queued)."""

from .database import FleetDatabase, FleetUnavailable, fleet_database
from .leases import Lease, LeaseKeeper, release_lease, renew_lease, take_lease
from .limiter import PostgresAccountLimiter
from .status import PipelineStatus, TenantStatus, fleet_status, workers_status
from .tenants import add_tenant, remove_tenant, tenant_names, tenant_pipelines
from .workspace import PipelineEntry, load_tenant_pipeline, parse_every, scan_workspace

__all__ = ["FleetDatabase", "FleetUnavailable", "fleet_database", "Lease", "LeaseKeeper", "take_lease",
           "renew_lease", "release_lease", "PostgresAccountLimiter", "PipelineStatus", "TenantStatus",
           "fleet_status", "workers_status", "add_tenant", "remove_tenant", "tenant_names", "tenant_pipelines",
           "PipelineEntry", "load_tenant_pipeline", "parse_every", "scan_workspace"]
