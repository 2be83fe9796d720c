"""The fleet's memory of the notification ids a pipeline's receiver accepted, in Postgres: shared by every
console behind a load balancer, so a vendor's redelivery reaching another console is still a duplicate.

`INSERT … ON CONFLICT` decides "first time" atomically across processes: a row is inserted (first time), or an
expired one (older than the receiver's dedupe time, not pruned yet) is taken over, or nothing happens (a
duplicate). Rows older than the dedupe time are deleted now and then (at most every `PRUNE_EVERY_S` per
console). The table comes from `ledgerlink fleet init`; on a database made before it the router gives receivers
none of these and they keep their in-process memory (logged once).
"""

from __future__ import annotations

import logging
import threading
import time

from .database import FleetDatabase

__all__ = ["SeenNotifications", "table_ready", "PRUNE_EVERY_S"]

log = logging.getLogger("ledgerlink.fleet.seen_notifications")

#: a console deletes expired rows at most this often
PRUNE_EVERY_S = 300.0
_TABLE = "ledgerlink_fleet.notifications_seen"


def table_ready(db: FleetDatabase) -> bool:
    """Whether `fleet init` made the table (a fleet database made before this release has none)."""
    return bool(db.execute("SELECT to_regclass(%s) IS NOT NULL", (_TABLE,))[0][0])


class _Pruner:
    """When this console last pruned, per database (one prune per interval, whichever pipeline asks)."""

    def __init__(self) -> None:
        self.last: dict[str, float] = {}
        self.lock = threading.Lock()

    def due(self, url: str, clock: float) -> bool:
        with self.lock:
            if clock - self.last.get(url, float("-inf")) < PRUNE_EVERY_S:
                return False
            self.last[url] = clock
            return True


_PRUNER = _Pruner()


class SeenNotifications:
    """One tenant's pipeline's notification ids, as a receiver's dedupe memory (`first_time`, `forget`).
    Blocking calls: a receiver runs them off the event loop."""

    def __init__(self, db: FleetDatabase, tenant: str, pipeline: str):
        self.db, self.tenant, self.pipeline = db, tenant, pipeline

    def first_time(self, notification_id: str, ttl_s: float) -> bool:
        """True for the one call, across every console, that first sees this id within `ttl_s` seconds."""
        if _PRUNER.due(self.db.url, time.monotonic()):
            self.prune(ttl_s)
        rows = self.db.execute(
            "INSERT INTO notifications_seen (tenant, pipeline, notification_id) VALUES (%s, %s, %s) "
            "ON CONFLICT (tenant, pipeline, notification_id) DO UPDATE SET seen_at = now() "
            "WHERE notifications_seen.seen_at < now() - make_interval(secs => %s) RETURNING 1",
            (self.tenant, self.pipeline, notification_id, float(ttl_s)))
        return bool(rows)

    def forget(self, notification_id: str) -> None:
        """The sync this notification asked for could not be queued: its redelivery is a first time again."""
        self.db.execute("DELETE FROM notifications_seen WHERE tenant = %s AND pipeline = %s AND notification_id = %s",
                        (self.tenant, self.pipeline, notification_id))

    def prune(self, ttl_s: float) -> int:
        """Delete every pipeline's ids older than `ttl_s` seconds; how many went."""
        rows = self.db.execute("DELETE FROM notifications_seen WHERE seen_at < now() - make_interval(secs => %s) "
                               "RETURNING 1", (float(ttl_s),))
        if rows:
            log.debug("pruned %d notification ids older than %.0f s", len(rows), ttl_s)
        return len(rows)
