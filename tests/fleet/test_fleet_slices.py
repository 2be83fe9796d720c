"""Fairness for a big back-fill: a sync that has had its time slice (or whose worker is stopping) commits the
batch in hand and ends `paused`; the workflow queues its rest behind the other tenants, and the next sync resumes
from the state file, so every order is still posted exactly once."""

from __future__ import annotations

from collections import Counter

from ledgerlink.fleet import add_tenant, fleet_status
from ledgerlink.fleet.engine import Worker

from fleet_helpers import company_documents, document_keys, write_workspace
from sandbox_helpers import sandbox_running
from test_fleet_loopback import posting_orders

PIPELINE = "bigcommerce-two-stores-a-to-qbo"
REALM = "9341455000000101"


def test_a_sync_out_of_time_pauses_after_its_batch_and_the_next_one_finishes_it_exactly_once(tmp_path, fleet_db):
    with sandbox_running("bigcommerce", orders=12, store_hash="s1") as (bc, bc_sb), \
            sandbox_running("qbo", realm_id=REALM, rotate_refresh_tokens=False) as (qbo, qbo_sb):
        add_tenant(fleet_db, "backfill", write_workspace(tmp_path, "backfill", bc=bc, store="s1", qbo=qbo,
                                                         realm=REALM))
        worker = Worker(fleet_db, worker_id="w-test", slice_s=0.0)  # every check after a batch says: time is up
        first = worker.run_sync("backfill", PIPELINE, "schedule", None)
        assert first["status"] == "continue"
        paused = fleet_db.execute("SELECT status, error FROM runs WHERE id = %s", (first["run_id"],))
        assert paused == [("paused", None)]
        assert fleet_db.execute("SELECT count(*) FROM leases")[0][0] == 0  # the lease is free for whoever is next
        paused_with = len(document_keys(company_documents(qbo_sb)))
        [shown] = fleet_status(fleet_db, "backfill")[0].pipelines
        assert (shown.last_status, shown.failures, shown.problem) == ("paused", 0, None)
        assert shown.next_run_at is not None  # its rest is queued: next is now, not an interval away

        worker.slice_s = None
        second = worker.run_sync("backfill", PIPELINE, "continue", None)
        assert second["status"] == "succeeded", second
        keys = document_keys(company_documents(qbo_sb))
        assert len(keys) == len(set(keys)), Counter(k for k in keys if keys.count(k) > 1)
        assert {k.rsplit("/", 1)[1] for k in keys if "@s1/" in k} == posting_orders(bc_sb, "s1")
        assert paused_with < len(keys)  # the paused run left work for the next one, which did it
        statuses = [s for (s,) in fleet_db.execute("SELECT status FROM runs ORDER BY id")]
        assert statuses == ["paused", "succeeded"]


def test_a_stopping_worker_pauses_its_syncs_instead_of_running_them_to_the_end(fleet_db):
    worker = Worker(fleet_db, worker_id="w-stop", slice_s=None)
    check = worker._stop_check(0.0)
    assert check() is False
    worker.stop.set()  # SIGTERM
    assert check() is True
