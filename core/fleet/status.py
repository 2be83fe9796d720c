"""Fleet status: per tenant and pipeline, the last run, the next one, failures in a row, open dead letters, and
why a broken tenant cannot run (its pipeline file, its credentials). Read by `fleet status` and the console."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .database import FleetDatabase

__all__ = ["PipelineStatus", "TenantStatus", "fleet_status", "workers_status"]


@dataclass
class PipelineStatus:
    pipeline: str
    every_s: float | None
    last_run_at: str | None = None
    last_status: str | None = None
    next_run_at: str | None = None
    failures: int = 0
    dead_letters: int = 0
    running_on: str | None = None
    #: why it cannot run (an invalid pipeline file) or why its last run failed (revoked credentials, ...)
    problem: str | None = None
    #: writes waiting for a vendor session to take them (QuickBooks Desktop's Web Connector); None: no such session
    waiting_writes: int | None = None
    #: when the vendor's session endpoint was last called, and what happened then
    last_contact_at: str | None = None
    last_contact: str | None = None
    #: its last run ended waiting: "waiting for Amazon report 123 (…) until 2026-…Z" (a sync is queued for then)
    waiting: str | None = None


@dataclass
class TenantStatus:
    tenant: str
    workspace: str
    pipelines: list[PipelineStatus] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(p.problem is None and p.failures == 0 for p in self.pipelines)

    def to_dict(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "workspace": self.workspace, "ok": self.ok,
                "pipelines": [asdict(p) for p in self.pipelines]}


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds") if value else None


_QUERY = """
SELECT t.name, t.workspace, p.pipeline, p.every_s, p.problem,
       last.started_at, last.finished_at, last.status, last.error, last.dead_letters, last.waiting_for, last.wake_at,
       (SELECT count(*) FROM runs f WHERE f.tenant = p.tenant AND f.pipeline = p.pipeline AND f.status = 'failed'
          AND f.started_at > coalesce((SELECT max(s.started_at) FROM runs s WHERE s.tenant = p.tenant
                                       AND s.pipeline = p.pipeline AND s.status = 'succeeded'), '-infinity')),
       (SELECT l.holder FROM leases l WHERE l.tenant = p.tenant AND l.pipeline = p.pipeline
          AND l.expires_at > clock_timestamp()),
       v.waiting, v.last_contact, v.last_event
FROM tenants t LEFT JOIN pipelines p ON p.tenant = t.name
LEFT JOIN vendor_sessions v ON v.tenant = p.tenant AND v.pipeline = p.pipeline
LEFT JOIN LATERAL (SELECT r.* FROM runs r WHERE r.tenant = p.tenant AND r.pipeline = p.pipeline
                   AND r.status <> 'running' ORDER BY r.started_at DESC LIMIT 1) last ON true
{where}
ORDER BY t.name, p.pipeline
"""


def fleet_status(db: FleetDatabase, tenant: str | None = None) -> list[TenantStatus]:
    rows = db.execute(_QUERY.format(where="WHERE t.name = %s" if tenant else ""), (tenant,) if tenant else ())
    out: dict[str, TenantStatus] = {}
    now = datetime.now(timezone.utc)
    for (name, workspace, pipeline, every_s, problem, started, finished, status, error, dead, waiting_for, wake_at,
         failures, holder, waiting_writes, contact_at, contact) in rows:
        entry = out.setdefault(name, TenantStatus(name, workspace))
        if pipeline is None:
            continue
        next_at = None
        waiting = None
        if problem is None and status == "paused":  # its rest is queued already (a time slice, a stopping worker)
            next_at = now
        elif problem is None and status == "waiting" and wake_at is not None:  # a sync is queued for then
            next_at = wake_at if every_s is None else min(wake_at, max(now, (started or now) + timedelta(
                seconds=every_s)))
            waiting = f"waiting for {waiting_for} until {_iso(wake_at)}"
        elif problem is None and every_s:
            next_at = max(now, (started or now) + timedelta(seconds=every_s)) if started else now
        entry.pipelines.append(PipelineStatus(
            pipeline=pipeline, every_s=every_s, last_run_at=_iso(finished or started), last_status=status,
            next_run_at=_iso(next_at), failures=int(failures or 0), dead_letters=int(dead or 0),
            running_on=holder, problem=problem or (error if status == "failed" else None), waiting=waiting,
            waiting_writes=waiting_writes, last_contact_at=_iso(contact_at), last_contact=contact))
    return list(out.values())


def workers_status(db: FleetDatabase) -> list[dict[str, Any]]:
    return [{"worker": w, "host": h, "pid": pid, "last_seen": _iso(seen)}
            for w, h, pid, seen in db.execute("SELECT id, host, pid, last_seen FROM workers ORDER BY id")]
