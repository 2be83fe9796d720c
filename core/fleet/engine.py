"""The fleet on DBOS: durable sync workflows on a queue partitioned per tenant, cron schedules per pipeline.

- `SYNC_WORKFLOW` (tenant, pipeline, reason) runs on `QUEUE`, partitioned by tenant with one sync per tenant at
  a time across all workers (`partition_concurrency=1`): a tenant's million-order back-fill occupies one worker
  slot, every other tenant's partition is dequeued beside it. Its one step takes the pipeline's lease, runs
  `ledgerlink.runtime.sync` in the tenant's workspace while a keeper renews the lease, and records the run.
  A lease held by someone else is waited out with `DBOS.sleep` (durable: a restarted worker does not sleep again).
  A sync that has had its time slice (or whose worker is stopping) commits its batch, ends `paused`, and the
  workflow queues the rest as a new sync at the back of the queue, so a back-fill gives its slot up in turn.
- A sync that ends `waiting` (an Amazon report not ready within the worker's `wait_in_run_s`: its id is saved in
  the stream's state) finishes its workflow, freeing the slot, and queues the next sync of the pipeline on the
  tenant's partition with DBOS's delayed enqueue (status DELAYED until the time to look again: it takes no slot,
  and any live worker's DBOS moves it to the queue on time, so a worker that dies meanwhile loses nothing). A
  sync that finds the wait over (a webhook or `fleet trigger` came first) cancels the delayed one.
- `SCHEDULED_WORKFLOW` is what each pipeline's DBOS schedule (`fleet schedule`) starts: it enqueues the sync.
- A worker silent for three lease times (no heartbeat) has its PENDING workflows resumed by a live worker through
  DBOS's public API (`list_workflows` + `resume_workflows`, see `resume_pending_workflows`); the resumed sync
  takes the expired lease and carries on from the pipeline's state file.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from ..errors import LedgerlinkError, PipelineBusyError
from .database import FleetDatabase, FleetUnavailable
from .leases import DEFAULT_TTL_S, LeaseKeeper, release_lease, take_lease
from .runs import finish_run, posted_count, record_wait, start_run

__all__ = ["APP", "QUEUE", "SYNC_WORKFLOW", "SCHEDULED_WORKFLOW", "Worker", "sync_cron", "fleet_client",
           "enqueue_sync", "apply_schedule", "drop_schedules", "init_fleet", "resume_pending_workflows"]

log = logging.getLogger("ledgerlink.fleet")

APP = "ledgerlink-fleet"
QUEUE = "ledgerlink-syncs"
SYNC_WORKFLOW = "ledgerlink.fleet.sync"
SCHEDULED_WORKFLOW = "ledgerlink.fleet.scheduled_sync"
_STEP = "ledgerlink.fleet.run_sync"
#: tries to take a lease held by another worker before the sync is reported busy
_LEASE_TRIES = 20
#: a sync stops after its batch once it has run this long and queues its rest behind the others (fairness)
DEFAULT_SLICE_S = 900.0
CONTINUE_REASON = "continue"
#: a sync waits this long in process for a report Amazon prepares before it saves the wait and frees its slot
DEFAULT_WAIT_IN_RUN_S = 10.0
#: the reason of a sync queued to look at a report again (`fleet status` shows it)
WAKE_REASON = "report-wait"


def _dbos() -> Any:
    try:
        import dbos
    except ImportError:  # pragma: no cover - the fleet extra is not installed
        raise LedgerlinkError("the fleet needs DBOS: pip install 'ledgerlink[fleet]'") from None
    return dbos


# -- the workflows (registered with DBOS at import; run only inside a launched worker) ---------------------------

_worker: "Worker | None" = None


def _register() -> None:
    dbos = _dbos()
    DBOS = dbos.DBOS

    # retried (with backoff) only when the fleet database was unreachable: the sync itself resumes from its state
    @DBOS.step(name=_STEP, retries_allowed=True, max_attempts=30, interval_seconds=1.0, backoff_rate=1.5)
    def run_sync_step(tenant: str, pipeline: str, reason: str) -> dict[str, Any]:
        if _worker is None:
            raise RuntimeError("a fleet sync ran outside a fleet worker")
        return _worker.run_sync(tenant, pipeline, reason, DBOS.workflow_id)

    @DBOS.workflow(name=SYNC_WORKFLOW, max_recovery_attempts=50)
    def sync_workflow(tenant: str, pipeline: str, reason: str = "trigger") -> dict[str, Any]:
        result: dict[str, Any] = {}
        for _ in range(_LEASE_TRIES):
            result = run_sync_step(tenant, pipeline, reason)
            if result.get("status") == "continue":
                # the sync used its time slice (a long back-fill): the rest goes to the back of the queue, so
                # the tenants queued meanwhile get this slot first; it resumes from the state file
                result["continued_by"] = enqueue_step(tenant, pipeline, CONTINUE_REASON)
                return result
            if result.get("status") == "waiting":
                # a report is not ready: the slot is freed now, a sync is queued for the time to look again
                result["wakes"] = wake_later(tenant, pipeline, float(result["wake_at"]), int(result["run_id"]))
                return result
            if result.get("status") == "succeeded":
                result["cancelled_wakes"] = unwake_step(tenant, pipeline)
            if result.get("status") != "busy":
                return result
            DBOS.sleep(result.get("retry_in_s", DEFAULT_TTL_S / 3))
        return result

    def wake_later(tenant: str, pipeline: str, wake_at: float, run_id: int) -> str:
        """(In the sync workflow.) A sync of the pipeline DELAYED until `wake_at` (epoch seconds), on the tenant's
        partition, or the one already delayed for it. Enqueued from the workflow itself, so DBOS records it as
        this workflow's child: a workflow recovered after a crash finds the same one instead of queueing another."""
        waiter = reuse_wake_step(tenant, pipeline, wake_at)
        if waiter is None:
            with dbos.SetEnqueueOptions(queue_partition_key=tenant, delay_seconds=max(0.0, wake_at - time.time())):
                waiter = DBOS.retrieve_queue(QUEUE).enqueue(sync_workflow, tenant, pipeline,
                                                            WAKE_REASON).get_workflow_id()
        record_wake_step(run_id, waiter)
        return waiter

    @DBOS.step(name="ledgerlink.fleet.reuse_wake")
    def reuse_wake_step(tenant: str, pipeline: str, wake_at: float) -> str | None:
        return _reuse_wake(DBOS, tenant, pipeline, wake_at)

    @DBOS.step(name="ledgerlink.fleet.record_wake")
    def record_wake_step(run_id: int, waiter: str) -> None:
        if _worker is not None:
            record_wait(_worker.db, run_id, waiter)

    @DBOS.step(name="ledgerlink.fleet.unwake")
    def unwake_step(tenant: str, pipeline: str) -> list[str]:
        return _cancel_wakes(DBOS, tenant, pipeline)

    @DBOS.step(name="ledgerlink.fleet.enqueue")
    def enqueue_step(tenant: str, pipeline: str, reason: str = "schedule") -> str:
        queue = DBOS.retrieve_queue(QUEUE)
        with dbos.SetEnqueueOptions(queue_partition_key=tenant):
            return queue.enqueue(sync_workflow, tenant, pipeline, reason).get_workflow_id()

    @DBOS.workflow(name=SCHEDULED_WORKFLOW)
    def scheduled_sync(scheduled_at: datetime, context: Any) -> None:
        enqueue_step(context["tenant"], context["pipeline"])


_registered = False


def _waiting_wake(DBOS: Any, tenant: str, pipeline: str) -> tuple[str, Any] | None:
    """The delayed sync queued for the pipeline's last wait, if it is still DELAYED or ENQUEUED (not yet run)."""
    if _worker is None:
        return None
    rows = _worker.db.execute("SELECT waiter FROM runs WHERE tenant = %s AND pipeline = %s AND waiter IS NOT NULL "
                              "ORDER BY started_at DESC LIMIT 1", (tenant, pipeline))
    if not rows or rows[0][0] == DBOS.workflow_id:
        return None
    status = DBOS.get_workflow_status(rows[0][0])
    return (rows[0][0], status) if status is not None and status.status in ("DELAYED", "ENQUEUED") else None


def _reuse_wake(DBOS: Any, tenant: str, pipeline: str, wake_at: float) -> str | None:
    """The sync already delayed for the pipeline's wait (a trigger's sync ended waiting again before it was due),
    moved earlier if `wake_at` is; None when there is none."""
    found = _waiting_wake(DBOS, tenant, pipeline)
    if found is None:
        return None
    waiter, status = found
    delayed_until = getattr(status, "delay_until_epoch_ms", None)
    if status.status == "DELAYED" and delayed_until and wake_at * 1000 < delayed_until:
        DBOS.set_workflow_delay(waiter, delay_until_epoch_ms=int(wake_at * 1000))
    return waiter


def _cancel_wakes(DBOS: Any, tenant: str, pipeline: str) -> list[str]:
    """A sync that found the pipeline's wait over (a trigger came before the delayed sync): the delayed sync has
    nothing left to do and is cancelled. (It cannot be running: the tenant's partition runs one sync at a time.)"""
    found = _waiting_wake(DBOS, tenant, pipeline)
    if found is None:
        return []
    DBOS.cancel_workflow(found[0])
    log.info("%s/%s: the wait is over, the sync queued to look again (%s) is cancelled", tenant, pipeline, found[0])
    return [found[0]]


def _ensure_registered() -> None:
    global _registered
    if not _registered:
        _register()
        _registered = True


def init_fleet(db: FleetDatabase) -> None:
    """The fleet's tables and DBOS's system tables (both idempotent: safe after an upgrade)."""
    db.create_schema()
    try:
        _dbos().DBOS.migrate(db.url)
    except Exception as exc:
        raise FleetUnavailable(f"could not create DBOS's tables at {db.where}: {str(exc).splitlines()[0]}") from None


# -- clients: the CLI and the console enqueue and schedule without running a worker -------------------------------

def fleet_client(db: FleetDatabase) -> Any:
    """A DBOS client on the fleet database (no worker threads)."""
    dbos = _dbos()
    try:
        return dbos.DBOSClient(system_database_url=db.url, application_name=APP)
    except Exception as exc:
        raise FleetUnavailable(f"cannot reach the fleet database at {db.where}: {str(exc).splitlines()[0]}",
                               hint="start Postgres or check the database URL") from None


def enqueue_sync(db: FleetDatabase, tenant: str, pipeline: str, reason: str = "trigger", *,
                 client: Any = None) -> str:
    """Queue one sync of the tenant's pipeline (what a webhook or `fleet trigger` does); its workflow id.
    `client`: a `fleet_client` to reuse (a webhook router keeps one); otherwise one is made for this call."""
    rows = db.execute("SELECT problem FROM pipelines WHERE tenant = %s AND pipeline = %s", (tenant, pipeline))
    if not rows:
        raise LedgerlinkError(f"tenant {tenant!r} has no pipeline {pipeline!r}",
                              hint="`ledgerlink fleet status` lists them; `fleet add-tenant` again after adding a file")
    own = client is None
    client = client or fleet_client(db)
    try:
        handle = client.enqueue({"queue_name": QUEUE, "workflow_name": SYNC_WORKFLOW, "queue_partition_key": tenant},
                                tenant, pipeline, reason)
        return handle.get_workflow_id()
    except Exception as exc:
        if isinstance(exc, LedgerlinkError):
            raise
        raise FleetUnavailable(f"could not queue the sync of {tenant}/{pipeline} at {db.where}: "
                               f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    finally:
        if own:
            client.destroy()


def sync_cron(every_s: float) -> tuple[str, float]:
    """A DBOS cron (seconds first) that fires every `every_s`, rounded down to an interval cron can say
    (a divisor of a minute, an hour or a day); the interval it really uses."""
    s = max(1, int(every_s))
    if s < 60:
        step = max(d for d in (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30) if d <= s)
        return f"*/{step} * * * * *", float(step)
    if s < 3600:
        step = max(d for d in (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30) if d <= s // 60)
        return f"0 */{step} * * * *", step * 60.0
    if s < 86400:
        step = max(d for d in (1, 2, 3, 4, 6, 8, 12) if d <= s // 3600)
        return f"0 0 */{step} * * *", step * 3600.0
    return "0 0 0 * * *", 86400.0


def _schedule_name(tenant: str, pipeline: str) -> str:
    return f"ledgerlink/{tenant}/{pipeline}"


def apply_schedule(db: FleetDatabase, rows: list[tuple[str, str, float]]) -> list[tuple[str, str, str, float]]:
    """A DBOS schedule for each (tenant, pipeline, every_s), replacing the pipeline's old one; what was set."""
    client = fleet_client(db)
    done = []
    try:
        for tenant, pipeline, every_s in rows:
            cron, real = sync_cron(every_s)
            name = _schedule_name(tenant, pipeline)
            if client.get_schedule(name) is not None:
                client.delete_schedule(name)
            client.create_schedule(schedule_name=name, workflow_name=SCHEDULED_WORKFLOW, schedule=cron,
                                   context={"tenant": tenant, "pipeline": pipeline})
            db.execute("UPDATE pipelines SET every_s = %s WHERE tenant = %s AND pipeline = %s", (real, tenant, pipeline))
            done.append((tenant, pipeline, cron, real))
    finally:
        client.destroy()
    return done


def drop_schedules(db: FleetDatabase, tenant: str) -> int:
    client = fleet_client(db)
    try:
        names = [s["schedule_name"] for s in client.list_schedules()
                 if str(s["schedule_name"]).startswith(_schedule_name(tenant, ""))]
        for name in names:
            client.delete_schedule(name)
        return len(names)
    finally:
        client.destroy()


# -- recovery of a stopped worker's work (DBOS's public API only) -------------------------------------------------

def resume_pending_workflows(executors: list[str]) -> list[str]:
    """Put every workflow the stopped `executors` left PENDING back on the queue it came from; their ids.

    DBOS's public `list_workflows(status="PENDING", executor_id=…)` finds them and `resume_workflows(ids,
    queue_name=…)` sets them ENQUEUED again (only if they are not finished: a no-op on one that completed
    meanwhile), keeping their partition key, so a tenant's resumed sync still runs one at a time across the
    fleet. The workflow then starts through the queue's atomic dequeue and replays its recorded steps: the sync
    step that was cut off runs again, takes the expired lease and resumes the pipeline from its state file.
    (DBOS's own private `_recover_pending_workflows` does the same, onto its internal queue, which would skip the
    per-tenant partition limit.)"""
    if not executors:
        return []
    DBOS = _dbos().DBOS
    pending = DBOS.list_workflows(status="PENDING", executor_id=list(executors), load_input=False,
                                  load_output=False)
    by_queue: dict[str | None, list[str]] = {}
    for wf in pending:
        by_queue.setdefault(wf.queue_name, []).append(wf.workflow_id)
    resumed: list[str] = []
    for queue, ids in by_queue.items():
        try:
            # a workflow that was on no queue goes to DBOS's internal one (queue_name=None), as DBOS's recovery does
            DBOS.resume_workflows(ids, queue_name=queue)
            resumed.extend(ids)
        except Exception as exc:  # one queue's failure must not keep the others' work from resuming
            log.error("could not resume %d workflow(s) of stopped workers on queue %s: %s", len(ids), queue, exc)
    if resumed:
        log.warning("resumed %d sync workflow(s) of stopped workers %s", len(resumed), ", ".join(executors))
    return resumed


# -- the worker ---------------------------------------------------------------------------------------------------

def _count_waiting(db: FleetDatabase, tenant: str, pipeline: str, loaded: Any, report: Any) -> None:
    """After a sync (still under the lease): how many writes wait for a vendor session (the Web Connector), for
    `fleet status`; only for pipelines that queued such writes or whose vendor endpoint was ever called."""
    from ..store import PipelineState
    from .held_state import record_waiting

    try:
        if not report.counts.get("awaiting_confirmation") and not db.execute(
                "SELECT 1 FROM vendor_sessions WHERE tenant = %s AND pipeline = %s", (tenant, pipeline)):
            return
        with PipelineState(loaded.state_path) as state:
            waiting = state.awaiting(loaded.destination.connector).count()
        record_waiting(db, tenant, pipeline, waiting=waiting)
    except Exception as exc:  # a status figure must never fail the sync
        log.warning("could not count the writes of %s/%s waiting for the vendor: %s", tenant, pipeline, exc)


def _waiting_result(run_id: int, waits: list[dict[str, str]]) -> dict[str, Any]:
    """The step's answer for a sync that ends waiting: when to look again (epoch seconds) and what for."""
    wake_at = min(datetime.fromisoformat(w["until"].replace("Z", "+00:00")).timestamp() for w in waits)
    return {"status": "waiting", "run_id": run_id, "wake_at": wake_at,
            "waiting": "; ".join(f"{w['for']} ({w['stream']})" for w in waits)}


class Worker:
    """One fleet worker process: DBOS's queue threads run syncs; this object runs each sync under its lease,
    beats the worker's heartbeat, and recovers the workflows of workers that stopped beating."""

    def __init__(self, db: FleetDatabase, *, worker_id: str | None = None, concurrency: int = 4,
                 lease_ttl_s: float = DEFAULT_TTL_S, poll_s: float = 0.5, scheduler_poll_s: float = 5.0,
                 drain_s: float = 30.0, slice_s: float | None = DEFAULT_SLICE_S,
                 wait_in_run_s: float | None = DEFAULT_WAIT_IN_RUN_S):
        self.db = db
        self.id = worker_id or f"{socket.gethostname()}-{os.getpid()}"
        self.concurrency, self.lease_ttl_s = concurrency, lease_ttl_s
        #: a worker silent this long is taken for dead and its syncs re-enqueued: well beyond a lease, so a live
        #: worker whose heartbeat is late (a loaded machine) is not recovered under its feet
        self.dead_after_s = max(3 * lease_ttl_s, 15.0)
        self.poll_s, self.scheduler_poll_s = poll_s, scheduler_poll_s
        #: on stop, how long syncs under way may take to finish before the process leaves them to recovery
        self.drain_s = drain_s
        #: a sync that has run this long stops after its batch and is queued again (None: never)
        self.slice_s = slice_s
        #: how long a sync waits in process for a report a remote prepares before it frees its slot (None: as
        #: long as the pipeline's own settings say, as `ledgerlink sync` does)
        self.wait_in_run_s = wait_in_run_s
        self.stop = threading.Event()
        self.synced = 0

    # a sync, inside the DBOS step ---------------------------------------------------------------------------
    def run_sync(self, tenant: str, pipeline: str, reason: str, workflow_id: str | None) -> dict[str, Any]:
        from ..runtime.sync import sync
        from .workspace import load_tenant_pipeline

        step_started = time.time()
        rows = self.db.execute("SELECT t.workspace, p.file FROM pipelines p JOIN tenants t ON t.name = p.tenant "
                               "WHERE p.tenant = %s AND p.pipeline = %s", (tenant, pipeline))
        if not rows:
            return {"status": "gone", "error": f"tenant {tenant!r} has no pipeline {pipeline!r} any more"}
        workspace, file = Path(rows[0][0]), Path(rows[0][1])
        lease = take_lease(self.db, tenant, pipeline, self.id, self.lease_ttl_s)
        if lease is None:
            return {"status": "busy", "retry_in_s": self.lease_ttl_s / 3}
        run_id = start_run(self.db, tenant, pipeline, self.id, reason, workflow_id)
        status, error, report, unreachable = "failed", None, None, None
        sync_started = sync_ended = None
        try:
            with LeaseKeeper(self.db, lease):
                try:
                    loaded = load_tenant_pipeline(workspace, file)
                    self.db.execute("UPDATE pipelines SET problem = NULL WHERE tenant = %s AND pipeline = %s",
                                    (tenant, pipeline))
                except LedgerlinkError as exc:
                    self.db.execute("UPDATE pipelines SET problem = %s WHERE tenant = %s AND pipeline = %s",
                                    (str(exc), tenant, pipeline))
                    raise
                sync_started = time.time()
                try:
                    report = sync(loaded, should_stop=self._stop_check(time.monotonic()),
                                  wait_in_run_s=self.wait_in_run_s)
                finally:
                    sync_ended = time.time()
                _count_waiting(self.db, tenant, pipeline, loaded, report)
                status = ("succeeded" if report.status == "succeeded" else "waiting" if report.status == "waiting" else
                          "paused" if report.status == "stopped" and not report.errors else "failed")
                error = "; ".join(report.errors) or None
        except FleetUnavailable as exc:  # the shared rate limit could not be counted: try the sync again
            error, unreachable = str(exc), exc
        except PipelineBusyError as exc:  # the state file is still open elsewhere (a lease that lapsed under load)
            status, error = "busy", str(exc)
        except LedgerlinkError as exc:
            error = str(exc)
        except Exception as exc:  # a bug or an outage: reported with the tenant, the worker carries on
            log.exception("sync %s/%s failed", tenant, pipeline)
            error = f"{type(exc).__name__}: {exc}"
        if report is not None and unreachable is None and any("fleet database" in e for e in report.errors):
            unreachable = FleetUnavailable(error or "the fleet database went away")
        counts = report.counts if report else {}
        sync_s = (sync_ended - sync_started) if sync_started and sync_ended else 0.0
        timings = (step_started, sync_s, time.time() - step_started - sync_s)
        # both raise FleetUnavailable while Postgres is away: DBOS retries the step, which resumes the sync
        waits = report.waiting if report is not None and status == "waiting" else []
        finish_run(self.db, run_id, "interrupted" if unreachable else status, posted=posted_count(counts),
                   dead_letters=int(counts.get("dead_letters_open") or 0), error=error, timings=timings,
                   waiting=waits)
        release_lease(self.db, lease)
        if unreachable is not None:
            raise unreachable
        if status == "busy":  # waited out like a held lease (durably), never reported as the tenant's failure
            return {"status": "busy", "retry_in_s": self.lease_ttl_s / 3, "error": error}
        if status == "paused":  # its batch committed; the workflow queues the rest behind the other tenants
            return {"status": "continue", "run_id": run_id}
        if waits:  # everything else posted; the workflow queues a sync for the time to look again
            return _waiting_result(run_id, waits)
        self.synced += 1
        return {"status": status, "error": error, "run_id": run_id}

    def _stop_check(self, started: float) -> Callable[[], bool]:
        """What the sync asks between batches: stop when this worker is stopping (SIGTERM: the batch in hand
        commits, the rest is queued for any worker) or when the sync has had its time slice."""
        def should_stop() -> bool:
            if self.stop.is_set():
                return True
            return self.slice_s is not None and time.monotonic() - started >= self.slice_s
        return should_stop

    # the process --------------------------------------------------------------------------------------------
    def _beat(self) -> None:
        self.db.execute("INSERT INTO workers (id, host, pid) VALUES (%s, %s, %s) ON CONFLICT (id) DO UPDATE "
                        "SET last_seen = clock_timestamp(), host = EXCLUDED.host, pid = EXCLUDED.pid",
                        (self.id, socket.gethostname(), os.getpid()))

    def _recover_dead(self) -> list[str]:
        """Workers silent for `dead_after_s`: whoever deletes a dead worker's row re-enqueues its work."""
        dead = [r[0] for r in self.db.execute(
            "DELETE FROM workers WHERE id <> %s AND last_seen < clock_timestamp() - make_interval(secs => %s) "
            "RETURNING id", (self.id, self.dead_after_s))]
        if dead:
            self.db.execute("UPDATE runs SET status = 'abandoned', finished_at = clock_timestamp(), "
                            "error = 'the worker stopped mid-sync (its lease ran out; the sync resumes elsewhere)' "
                            "WHERE worker = ANY(%s) AND status = 'running'", (dead,))
            log.warning("recovering the syncs of stopped workers %s", ", ".join(dead))
            resume_pending_workflows(dead)
        return dead

    def run(self, *, max_seconds: float | None = None) -> None:
        """Work until `stop` is set (or `max_seconds` pass)."""
        global _worker
        from ..http.shared import install_account_limiter
        from .limiter import PostgresAccountLimiter

        dbos = _dbos()
        _ensure_registered()
        if not self.db.schema_ready():
            raise LedgerlinkError(f"the fleet database at {self.db.where} has no fleet tables",
                                  hint="run `ledgerlink fleet init --database-url …` once")
        _worker = self
        install_account_limiter(PostgresAccountLimiter(self.db, holder=self.id))
        dbos.DBOS(config={"name": APP, "system_database_url": self.db.url, "executor_id": self.id,
                          "log_level": os.environ.get("LEDGERLINK_FLEET_DBOS_LOG_LEVEL", "WARNING"),
                          "scheduler_polling_interval_sec": self.scheduler_poll_s,
                          "notification_listener_polling_interval_sec": 0.5})
        dbos.DBOS.launch()
        dbos.DBOS.register_queue(QUEUE, worker_concurrency=self.concurrency, partition_concurrency=1,
                                 polling_interval_sec=self.poll_s, on_conflict="always_update")
        deadline = time.monotonic() + max_seconds if max_seconds else None
        try:
            while not self.stop.is_set() and (deadline is None or time.monotonic() < deadline):
                try:
                    self._beat()
                    self._recover_dead()
                except FleetUnavailable as exc:  # Postgres restarting: DBOS retries too; keep beating
                    log.warning("%s", exc.message)
                except Exception as exc:
                    log.warning("heartbeat failed: %s", exc)
                self.stop.wait(min(self.lease_ttl_s / 3, 2.0))
        finally:
            # syncs under way get `drain_s` to finish; one cut off is resumed by another worker after its lease
            dbos.DBOS.destroy(workflow_completion_timeout_sec=int(self.drain_s))
            install_account_limiter(None)
            _worker = None
