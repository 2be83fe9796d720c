"""Amazon report waits in the fleet: a sync whose report is not ready saves it in the stream's state, ends
`waiting` and frees its worker slot; a sync is queued with DBOS's delayed enqueue for the time to look again (no
slot held meanwhile, nothing lost when the worker dies); a trigger that comes first reads the report and the
delayed sync is cancelled. Each report is requested once and its orders posted once.

Real parts throughout: `ledgerlink fleet worker` processes on the test Postgres, Amazon and QBO sandboxes on
loopback; the Amazon sandbox holds a report IN_PROGRESS until the test releases it (`HOLD`), so nothing depends
on timing: the tests wait on conditions with generous bounds."""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import httpx

from ledgerlink.fleet import FleetDatabase, add_tenant, fleet_status
from ledgerlink.fleet.engine import enqueue_sync

from fleet_helpers import WorkerPool, company_documents, document_keys
from sandbox_helpers import sandbox_running, shipped
from test_fleet_loopback import wait_until

PIPELINE = "amazon-report-to-qbo"
REALMS = {"tenant-a": "9341455000000301", "tenant-b": "9341455000000302"}


def write_amazon_workspace(root: Path, tenant: str, *, amazon: str, qbo: str, realm: str,
                           look_again_s: float) -> Path:
    """A seller's folder: the shipped amazon-to-qbo pipeline back-filling orders from the all-orders report."""
    folder = root / tenant
    folder.mkdir(parents=True)
    start = (datetime.now(timezone.utc) - timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = shipped("amazon-to-qbo.yaml").replace("name: amazon-to-qbo", f"name: {PIPELINE}")
    text = text.replace("  streams: [orders, order_items]", "  streams: [all_orders_report]")
    text = text.replace("    start_date: ${AMAZON_START_DATE:-2026-01-01T00:00:00Z}\n",
                        f"    start_date: {start}\n    backfill: reports\n    report_poll_seconds: 0.05\n"
                        f"    report_look_again_seconds: {look_again_s}\n")
    assert "all_orders_report" in text and "backfill: reports" in text
    (folder / f"{PIPELINE}.yaml").write_text(text)
    env = {"AMAZON_SP_ENDPOINT": amazon, "AMAZON_LWA_ENDPOINT": f"{amazon}/auth/o2/token", "QBO_BASE_URL": qbo,
           "QBO_TOKEN_URL": f"{qbo}/oauth2/v1/tokens/bearer", "QBO_REALM_ID": realm,
           "QBO_REQUESTS_PER_MINUTE": "500000", "QBO_BATCH_REQUESTS_PER_MINUTE": "500000"}
    (folder / "tenant.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return folder


@contextlib.contextmanager
def sellers(tmp_path: Path, db: FleetDatabase, tenants: list[str], *, look_again_s: float,
            held: set[str]) -> Iterator[dict[str, dict[str, Any]]]:
    """Each tenant an Amazon seller (its own sandbox) posting to its own QBO company; the first report of the
    tenants in `held` stays IN_PROGRESS until `release`."""
    with contextlib.ExitStack() as stack:
        out: dict[str, dict[str, Any]] = {}
        for i, tenant in enumerate(tenants):
            amazon, amazon_sb = stack.enter_context(sandbox_running("amazon_sp", orders=30 + 10 * i))
            qbo, qbo_sb = stack.enter_context(sandbox_running("qbo", realm_id=REALMS[tenant]))
            if tenant in held:
                response = httpx.post(f"{amazon}/_sandbox/reports/next", json={"outcome": "HOLD"})
                assert response.status_code == 200, response.text
            add_tenant(db, tenant, write_amazon_workspace(tmp_path, tenant, amazon=amazon, qbo=qbo,
                                                          realm=REALMS[tenant], look_again_s=look_again_s))
            out[tenant] = {"amazon": amazon, "amazon_sb": amazon_sb, "qbo_sb": qbo_sb}
        yield out


def release(seller: dict[str, Any]) -> None:
    assert httpx.post(f"{seller['amazon']}/_sandbox/reports/release").status_code == 200


def runs(db: FleetDatabase, tenant: str, status: str | None = None) -> list[tuple[Any, ...]]:
    return db.execute("SELECT id, status, reason, worker, waiting_for, wake_at, waiter, started_at FROM runs "
                      "WHERE tenant = %s" + (" AND status = %s" if status else "") + " ORDER BY id",
                      (tenant, status) if status else (tenant,))


def workflows(db: FleetDatabase, tenant: str, status: str) -> list[str]:
    return [r[0] for r in db.execute("SELECT workflow_uuid FROM dbos.workflow_status WHERE queue_partition_key = %s "
                                     "AND status = %s", (tenant, status))]


def posted_once(seller: dict[str, Any]) -> list[str]:
    keys = document_keys(company_documents(seller["qbo_sb"]))
    assert len(keys) == len(set(keys)), Counter(k for k in keys if keys.count(k) > 1)
    return keys


def one_report_per_window(seller: dict[str, Any]) -> int:
    windows = Counter((r.start, r.end) for r in seller["amazon_sb"].api.reports.reports.values())
    assert windows and all(n == 1 for n in windows.values()), windows
    return sum(windows.values())


def quiet(db: FleetDatabase) -> bool:
    return db.execute("SELECT count(*) FROM dbos.workflow_status WHERE status IN ('ENQUEUED', 'PENDING', "
                      "'DELAYED')")[0][0] == 0


def quiet_but_delayed(db: FleetDatabase) -> bool:
    return db.execute("SELECT count(*) FROM dbos.workflow_status WHERE status IN ('ENQUEUED', 'PENDING')")[0][0] == 0


def test_a_slow_report_frees_the_slot_for_another_tenant_and_posts_once(tmp_path, fleet_url):
    db = FleetDatabase(fleet_url)
    with sellers(tmp_path, db, ["tenant-a", "tenant-b"], look_again_s=2, held={"tenant-a"}) as world:
        pool = WorkerPool(fleet_url, tmp_path, concurrency=1, extra_args=("--wait-in-run-seconds", "1"))
        try:
            pool.start("w1", max_seconds=900)
            enqueue_sync(db, "tenant-a", PIPELINE)
            wait_until(lambda: runs(db, "tenant-a", "waiting"), 300, "tenant A's sync to end waiting", pool)
            enqueue_sync(db, "tenant-b", PIPELINE)
            # one slot: B's sync can only run because A's gave its slot up while A's report is still held
            wait_until(lambda: runs(db, "tenant-b", "succeeded"), 300, "tenant B's sync", pool)
            assert not runs(db, "tenant-a", "succeeded") and posted_once(world["tenant-b"])
            held_id = next(iter(world["tenant-a"]["amazon_sb"].api.reports.reports))
            [a] = [t for t in fleet_status(db, "tenant-a")]
            shown = a.pipelines[0]
            assert a.ok and shown.last_status == "waiting", shown
            assert shown.waiting.startswith(f"waiting for Amazon report {held_id} ") and " until 20" in shown.waiting
            # A is looked at again and again (each time a short sync, the slot freed in between) until it is ready
            wait_until(lambda: len(runs(db, "tenant-a", "waiting")) >= 2, 300, "A's report looked at again", pool)
            release(world["tenant-a"])
            wait_until(lambda: runs(db, "tenant-a", "succeeded") and quiet(db), 300, "A's report to post", pool)
        finally:
            pool.stop_all()
        posted_a = posted_once(world["tenant-a"])
        assert posted_a and posted_once(world["tenant-b"])  # each seller's orders in its own company, once
        assert one_report_per_window(world["tenant-a"]) == 1  # asked about in every run, requested once
        waits = runs(db, "tenant-a", "waiting")
        assert all(r[6] for r in waits)  # every waiting run queued (or reused) a delayed sync
        [done] = runs(db, "tenant-a", "succeeded")
        assert done[2] == "report-wait"  # the delayed sync read it
        # nothing was posted while the report was awaited: its orders went in the one run that read it
        assert db.execute("SELECT count(*) FROM runs WHERE tenant = 'tenant-a' AND status = 'waiting' "
                          "AND posted > 0") == [(0,)]


def test_a_waiting_sync_survives_its_worker_being_killed(tmp_path, fleet_url):
    db = FleetDatabase(fleet_url)
    with sellers(tmp_path, db, ["tenant-a"], look_again_s=6, held={"tenant-a"}) as world:
        pool = WorkerPool(fleet_url, tmp_path, concurrency=1, lease_seconds=3,
                          extra_args=("--wait-in-run-seconds", "1"))
        try:
            pool.start("w1", max_seconds=900)
            enqueue_sync(db, "tenant-a", PIPELINE)
            wait_until(lambda: runs(db, "tenant-a", "waiting") and workflows(db, "tenant-a", "DELAYED"), 300,
                       "A's sync to end waiting with a delayed sync queued", pool)
            pool.kill("w1")  # while the delayed sync is not due yet
            [delayed] = workflows(db, "tenant-a", "DELAYED")
            release(world["tenant-a"])
            pool.start("w2", max_seconds=900)
            wait_until(lambda: runs(db, "tenant-a", "succeeded") and quiet(db), 300, "w2 to read A's report", pool)
        finally:
            pool.stop_all()
        [done] = runs(db, "tenant-a", "succeeded")
        assert done[3] == "w2" and done[2] == "report-wait"
        assert db.execute("SELECT status FROM dbos.workflow_status WHERE workflow_uuid = %s", (delayed,)) == \
            [("SUCCESS",)]
        wake_at = runs(db, "tenant-a", "waiting")[-1][5]
        assert done[7] >= wake_at - timedelta(seconds=1)  # woken when due, not before
        assert posted_once(world["tenant-a"]) and one_report_per_window(world["tenant-a"]) == 1


def test_a_trigger_before_the_wake_reads_the_report_and_the_delayed_sync_is_cancelled(tmp_path, fleet_url):
    """(And a trigger while the report is still not ready asks again and reuses the delayed sync.)"""
    db = FleetDatabase(fleet_url)
    with sellers(tmp_path, db, ["tenant-a"], look_again_s=3600, held={"tenant-a"}) as world:
        pool = WorkerPool(fleet_url, tmp_path, concurrency=1, extra_args=("--wait-in-run-seconds", "1"))
        try:
            pool.start("w1", max_seconds=900)
            enqueue_sync(db, "tenant-a", PIPELINE)
            wait_until(lambda: workflows(db, "tenant-a", "DELAYED"), 300, "A's delayed sync", pool)
            [delayed] = workflows(db, "tenant-a", "DELAYED")
            # a trigger while the report is still held: it asks again, ends waiting, and reuses the delayed sync
            enqueue_sync(db, "tenant-a", PIPELINE, "webhook")
            wait_until(lambda: len(runs(db, "tenant-a", "waiting")) == 2 and quiet_but_delayed(db), 300,
                       "the trigger's sync to end waiting", pool)
            assert workflows(db, "tenant-a", "DELAYED") == [delayed]
            assert [r[6] for r in runs(db, "tenant-a", "waiting")] == [delayed, delayed]
            release(world["tenant-a"])
            enqueue_sync(db, "tenant-a", PIPELINE, "webhook")  # a trigger, an hour before the delayed sync
            wait_until(lambda: runs(db, "tenant-a", "succeeded") and quiet(db), 300, "the trigger's sync", pool)
            assert db.execute("SELECT status FROM dbos.workflow_status WHERE workflow_uuid = %s", (delayed,)) == \
                [("CANCELLED",)]
            posted = posted_once(world["tenant-a"])
            # had the delayed sync run anyway, it would find nothing to do: no report, nothing posted
            enqueue_sync(db, "tenant-a", PIPELINE, "report-wait")
            wait_until(lambda: len(runs(db, "tenant-a", "succeeded")) == 2 and quiet(db), 300, "a late sync", pool)
        finally:
            pool.stop_all()
        assert posted and posted_once(world["tenant-a"]) == posted
        assert one_report_per_window(world["tenant-a"]) == 1
        assert [r[2] for r in runs(db, "tenant-a", "succeeded")] == ["webhook", "report-wait"]
        assert len(runs(db, "tenant-a", "waiting")) == 2
