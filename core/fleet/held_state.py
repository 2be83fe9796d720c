"""A tenant pipeline's state file, opened for one vendor session (a QuickBooks Web Connector session) under the
pipeline's fleet lease: the same one writer a sync needs, so a session and a sync never touch the state at once.

`StateGate.open(session)` takes the lease (a keeper renews it while the session lasts) and opens the state file;
it answers the seconds to come back after when a sync (or another session) holds it, or when the fleet database
cannot be reached. `close(session)` closes the file and releases the lease. A session the vendor never closes
is let go at its `until` (the ticket's expiry) or after `idle_s` without a call; a process that dies stops
renewing, and the lease lapses after its time like a killed worker's.

`awaiting` and `references` are stand-ins the plugin's app keeps for its life: each call reaches the state file
of the session holding it. Outside a session, `references.get/put/delete` reach a small table in the fleet's
Postgres instead (what the Web Connector bridge records of refused logins, so a lockout outlives a restart) and
waiting writes are none. Each opening and closing records, in Postgres, how many
writes wait for the vendor and when it last called, for `fleet status` and the console.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import LedgerlinkError
from .database import FleetDatabase, FleetUnavailable
from .leases import DEFAULT_TTL_S, Lease, LeaseKeeper, release_lease, take_lease

__all__ = ["StateGate", "NotHeld", "record_waiting", "IDLE_S"]

log = logging.getLogger("ledgerlink.fleet.sessions")

#: a session with no call for this long is let go (its lease released), whatever its ticket says
IDLE_S = 600.0
#: a vendor told to come back while Postgres is away is told to wait this long
UNREACHABLE_WAIT_S = 60.0


class NotHeld(LedgerlinkError):
    """The pipeline's state was reached outside a session that holds its lease."""


def record_waiting(db: FleetDatabase, tenant: str, pipeline: str, *, waiting: int | None = None,
                   event: str | None = None) -> None:
    """Keep the writes waiting for the vendor and (with `event`) its last contact, for `fleet status`."""
    db.execute(
        "INSERT INTO vendor_sessions (tenant, pipeline, waiting, last_contact, last_event, updated_at) "
        "VALUES (%s, %s, %s, CASE WHEN %s::text IS NULL THEN NULL ELSE clock_timestamp() END, %s, clock_timestamp()) "
        "ON CONFLICT (tenant, pipeline) DO UPDATE SET waiting = coalesce(EXCLUDED.waiting, vendor_sessions.waiting), "
        "last_contact = coalesce(EXCLUDED.last_contact, vendor_sessions.last_contact), "
        "last_event = coalesce(EXCLUDED.last_event, vendor_sessions.last_event), updated_at = clock_timestamp()",
        (tenant, pipeline, waiting, event, event))


@dataclass
class _Hold:
    session: str
    lease: Lease
    keeper: LeaseKeeper
    store: Any
    until: float
    last_call: float


class _Held:
    """A stand-in for the held state's `awaiting` or `references` (see the module docstring)."""

    def __init__(self, gate: "StateGate", what: str):
        self._gate, self._what = gate, what

    def __getattr__(self, name: str) -> Any:
        target = self._gate._reach(self._what)
        if target is None:
            return _absent(self._gate, self._what, name)
        return getattr(target, name)


def _absent(gate: "StateGate", what: str, name: str) -> Any:
    """What a stand-in does outside a session: references are a small table of the fleet's (what a refused login
    records, so a lockout outlives a console restart as it does under `serve`); awaiting writes are not there."""
    if what == "references" and name in ("get", "put", "delete"):
        return getattr(_Notes(gate), name)
    if name == "list":
        return lambda *a, **k: []
    if name == "count":
        return lambda *a, **k: 0
    raise NotHeld(f"{gate.tenant}/{gate.pipeline}: the state file is not open outside a session",
                  hint="the vendor's next session opens it")


class _Notes:
    """`get`/`put`/`delete` as a reference cache's, in Postgres (`vendor_notes`), for calls outside a session."""

    def __init__(self, gate: "StateGate"):
        self.gate = gate

    def get(self, kind: str, name: str) -> str | None:
        rows = self.gate.db.execute("SELECT value FROM vendor_notes WHERE tenant = %s AND pipeline = %s AND "
                                    "kind = %s AND name = %s", (self.gate.tenant, self.gate.pipeline, kind, name))
        return rows[0][0] if rows else None

    def put(self, kind: str, name: str, ref_id: str, version: str | None = None) -> None:
        self.gate.db.execute(
            "INSERT INTO vendor_notes (tenant, pipeline, kind, name, value) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (tenant, pipeline, kind, name) DO UPDATE SET value = EXCLUDED.value, "
            "updated_at = clock_timestamp()", (self.gate.tenant, self.gate.pipeline, kind, name, ref_id))

    def delete(self, kind: str, name: str) -> None:
        self.gate.db.execute("DELETE FROM vendor_notes WHERE tenant = %s AND pipeline = %s AND kind = %s AND "
                             "name = %s", (self.gate.tenant, self.gate.pipeline, kind, name))


class StateGate:
    """One tenant pipeline's state, for the sessions of one vendor endpoint (thread-safe)."""

    def __init__(self, db: FleetDatabase, tenant: str, pipeline: str, state_path: Path, destination: str, *,
                 lease_ttl_s: float = DEFAULT_TTL_S, idle_s: float = IDLE_S,
                 after_settled: Callable[[], None] | None = None):
        self.db, self.tenant, self.pipeline = db, tenant, pipeline
        #: called once a session that settled writes ends (a confirmation can unblock documents: sync again)
        self.after_settled = after_settled
        self._settled = False
        self.state_path, self.destination = Path(state_path), destination
        self.lease_ttl_s, self.idle_s = lease_ttl_s, idle_s
        self._lock = threading.RLock()
        self._hold: _Hold | None = None
        self.awaiting = _Held(self, "awaiting")
        self.references = _Held(self, "references")
        self._reaper: threading.Thread | None = None
        self._closed = threading.Event()

    # -- sessions ---------------------------------------------------------------------------------------------
    def open(self, session: str, until_s: float) -> float | None:
        """Hold the state for `session` (at most `until_s` seconds): None when held, else the seconds to come
        back after (a sync or another session holds the lease, or the fleet database cannot be reached)."""
        with self._lock:
            self._let_go_if_stale()
            if self._hold is not None and self._hold.session != session:
                self._contact("busy: another Web Connector session is open")
                return self.lease_ttl_s
            if self._hold is not None:
                return None
            # never the session's own id (a Web Connector ticket is a credential): the holder shows in `fleet status`
            holder = f"session:{socket.gethostname()}-{os.getpid()}:{uuid.uuid4().hex[:12]}"
            try:
                lease = take_lease(self.db, self.tenant, self.pipeline, holder, self.lease_ttl_s)
            except FleetUnavailable as exc:
                log.warning("%s/%s: a vendor session is told to come back: %s", self.tenant, self.pipeline,
                            exc.message)
                return UNREACHABLE_WAIT_S
            if lease is None:
                self._contact("busy: a sync holds the pipeline")
                return self.lease_ttl_s
            try:
                store = self._open_store()
            except Exception as exc:  # e.g. the file is still open in a process whose lease lapsed
                release_lease(self.db, lease)
                log.warning("%s/%s: the state file could not be opened for a vendor session: %s", self.tenant,
                            self.pipeline, exc)
                return self.lease_ttl_s
            keeper = LeaseKeeper(self.db, lease, on_lost=lambda: self._lost(session))
            keeper.__enter__()
            now = time.monotonic()
            self._hold = _Hold(session, lease, keeper, store, now + until_s, now)
            self._start_reaper()
        self._record(event="authenticate")
        return None

    def holds(self, session: str) -> bool:
        with self._lock:
            self._let_go_if_stale()
            return self._hold is not None and self._hold.session == session and not self._hold.keeper.lost.is_set()

    def close(self, session: str, event: str = "closeConnection") -> None:
        """End `session`'s hold (a no-op for a session that holds nothing)."""
        with self._lock:
            if self._hold is None or self._hold.session != session:
                return
            self._record(event=event)
            self._let_go()
            settled, self._settled = self._settled, False
        if settled and self.after_settled is not None:
            try:
                self.after_settled()
            except Exception as exc:  # the next scheduled sync picks them up all the same
                log.warning("%s/%s: could not queue a sync after the session: %s", self.tenant, self.pipeline, exc)

    def shutdown(self) -> None:
        """Let go of any hold (the console is stopping)."""
        self._closed.set()
        with self._lock:
            if self._hold is not None:
                self._let_go()

    # -- inside ---------------------------------------------------------------------------------------------
    def _open_store(self) -> Any:
        from ..store import Store

        return Store(self.state_path)

    def _reach(self, what: str) -> Any:
        with self._lock:
            hold = self._hold
            if hold is None or hold.keeper.lost.is_set():
                return None
            hold.last_call = time.monotonic()
            if what == "awaiting":
                return hold.store.awaiting(self.destination, on_settled=self._on_settled)
            return hold.store.references(self.destination)

    def _on_settled(self) -> None:
        self._settled = True

    def _record(self, event: str | None) -> None:
        """Writes waiting and last contact into Postgres (never breaks the session)."""
        try:
            waiting = None
            hold = self._hold
            if hold is not None:
                waiting = hold.store.awaiting(self.destination).count()
            record_waiting(self.db, self.tenant, self.pipeline, waiting=waiting, event=event)
        except Exception as exc:
            log.warning("%s/%s: could not record the vendor session's status: %s", self.tenant, self.pipeline, exc)

    def _contact(self, event: str) -> None:
        try:
            record_waiting(self.db, self.tenant, self.pipeline, event=event)
        except Exception as exc:
            log.warning("%s/%s: could not record the vendor's contact: %s", self.tenant, self.pipeline, exc)

    def _let_go(self) -> None:
        hold, self._hold = self._hold, None
        if hold is None:
            return
        hold.keeper.__exit__(None, None, None)
        try:
            hold.store.close()
        finally:
            if not hold.keeper.lost.is_set():
                try:
                    release_lease(self.db, hold.lease)
                except FleetUnavailable as exc:  # it lapses on its own after its time
                    log.warning("%s/%s: the lease could not be released: %s", self.tenant, self.pipeline, exc)

    def _let_go_if_stale(self) -> None:
        hold = self._hold
        if hold is None:
            return
        now = time.monotonic()
        why = ("its ticket expired" if now > hold.until else
               f"no call for {self.idle_s:.0f} s" if now - hold.last_call > self.idle_s else
               "its lease was lost" if hold.keeper.lost.is_set() else None)
        if why:
            log.warning("%s/%s: the vendor session is let go: %s", self.tenant, self.pipeline, why)
            self._record(event=f"session let go: {why}")
            self._let_go()

    def _lost(self, session: str) -> None:
        log.error("%s/%s: the lease of a vendor session was lost (the fleet database was away too long); the "
                  "session stops writing", self.tenant, self.pipeline)
        with self._lock:
            hold = self._hold
            if hold is not None and hold.session == session:
                self._hold = None
                try:
                    hold.store.close()
                except Exception:
                    pass

    def _start_reaper(self) -> None:
        if self._reaper is not None and self._reaper.is_alive():
            return

        def reap() -> None:
            while not self._closed.wait(min(5.0, max(0.2, self.idle_s / 4))):
                with self._lock:
                    self._let_go_if_stale()
                    if self._hold is None:
                        return

        self._reaper = threading.Thread(target=reap, name=f"session-{self.tenant}/{self.pipeline}", daemon=True)
        self._reaper.start()
