"""One writer per pipeline state: a lease row in Postgres, taken when free or expired, renewed while a sync runs.

A worker killed with kill -9 stops renewing; once `expires_at` passes, the next worker takes the lease and the
sync resumes from the state file (staged records and the outbox are durable, posting is idempotent). Every
taking is logged with how long it was valid, so a test (or an auditor) can check that no two holders' times
overlapped.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from .database import FleetDatabase

__all__ = ["Lease", "LeaseLost", "take_lease", "renew_lease", "release_lease", "LeaseKeeper"]

#: seconds a lease lasts without renewal (a killed worker's pipelines wait this long for another worker)
DEFAULT_TTL_S = 30.0


class LeaseLost(Exception):
    """The lease expired and someone else may hold it now: stop writing."""


@dataclass(frozen=True)
class Lease:
    tenant: str
    pipeline: str
    holder: str
    log_id: int
    ttl_s: float


def take_lease(db: FleetDatabase, tenant: str, pipeline: str, holder: str, ttl_s: float = DEFAULT_TTL_S
               ) -> Lease | None:
    """The lease, if nobody holds it now (free, or its holder stopped renewing); None while another holds it."""
    with db.connect() as conn, conn.transaction():
        row = conn.execute(
            "INSERT INTO leases (tenant, pipeline, holder, expires_at) "
            "VALUES (%s, %s, %s, clock_timestamp() + make_interval(secs => %s)) "
            "ON CONFLICT (tenant, pipeline) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at "
            "WHERE leases.expires_at < clock_timestamp() OR leases.holder = EXCLUDED.holder "
            "RETURNING expires_at", (tenant, pipeline, holder, ttl_s)).fetchone()
        if row is None:
            return None
        log_id = conn.execute(
            "INSERT INTO lease_log (tenant, pipeline, holder, acquired_at, valid_until) "
            "VALUES (%s, %s, %s, clock_timestamp(), %s) RETURNING id", (tenant, pipeline, holder, row[0])).fetchone()[0]
    return Lease(tenant, pipeline, holder, log_id, ttl_s)


def renew_lease(db: FleetDatabase, lease: Lease) -> bool:
    """Push the expiry on; False when the lease is no longer ours (it expired and was taken)."""
    with db.connect() as conn, conn.transaction():
        row = conn.execute(
            "UPDATE leases SET expires_at = clock_timestamp() + make_interval(secs => %s) "
            "WHERE tenant = %s AND pipeline = %s AND holder = %s AND expires_at >= clock_timestamp() "
            "RETURNING expires_at", (lease.ttl_s, lease.tenant, lease.pipeline, lease.holder)).fetchone()
        if row is None:
            return False
        conn.execute("UPDATE lease_log SET valid_until = %s WHERE id = %s", (row[0], lease.log_id))
    return True


def release_lease(db: FleetDatabase, lease: Lease) -> None:
    with db.connect() as conn, conn.transaction():
        conn.execute("DELETE FROM leases WHERE tenant = %s AND pipeline = %s AND holder = %s",
                     (lease.tenant, lease.pipeline, lease.holder))
        conn.execute("UPDATE lease_log SET valid_until = least(valid_until, clock_timestamp()), released = true "
                     "WHERE id = %s", (lease.log_id,))


class LeaseKeeper:
    """Renews a lease every third of its time on a background thread while the sync runs. If a renewal finds
    the lease gone, `lost` is set and `on_lost` is called; if Postgres is briefly unreachable the keeper keeps
    trying until the lease would have expired."""

    def __init__(self, db: FleetDatabase, lease: Lease, on_lost: Callable[[], None] | None = None):
        self.db, self.lease, self.on_lost = db, lease, on_lost
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{lease.tenant}/{lease.pipeline}",
                                        daemon=True)

    def __enter__(self) -> "LeaseKeeper":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        import time

        interval = self.lease.ttl_s / 3
        renewed_at = time.monotonic()
        while not self._stop.wait(interval):
            try:
                if renew_lease(self.db, self.lease):
                    renewed_at = time.monotonic()
                    continue
            except Exception:  # Postgres restarting: try again until the lease would have run out
                if time.monotonic() - renewed_at < self.lease.ttl_s:
                    continue
            self.lost.set()
            if self.on_lost:
                self.on_lost()
            return
