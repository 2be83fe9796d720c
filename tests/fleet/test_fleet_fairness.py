"""Fair scheduling: a tenant with a long backlog of syncs holds one slot; another tenant's sync runs beside it
instead of waiting behind the backlog (the queue is partitioned per tenant, one sync per tenant at a time)."""

from __future__ import annotations

import time

import pytest

from ledgerlink.fleet import add_tenant
from ledgerlink.fleet.engine import enqueue_sync

from fleet_helpers import WorkerPool, write_workspace

PIPELINE = "bigcommerce-two-stores-a-to-qbo"


@pytest.mark.slow
def test_a_backlog_of_one_tenant_does_not_starve_another(tmp_path, fleet_db, fleet_url):
    for name in ("backfill", "small"):
        # an invalid pipeline file: each sync fails at once, which is all the queue needs to show its order
        add_tenant(fleet_db, name, write_workspace(tmp_path / "tenants", name, bc="http://127.0.0.1:9", store="s1",
                                                   qbo="http://127.0.0.1:9", realm="1", broken_file=True))
    backlog = 8
    for _ in range(backlog):
        enqueue_sync(fleet_db, "backfill", PIPELINE)
    enqueue_sync(fleet_db, "small", PIPELINE)  # queued last

    pool = WorkerPool(fleet_url, tmp_path, concurrency=2)
    try:
        pool.start("w1")
        deadline = time.monotonic() + 300
        while fleet_db.execute("SELECT count(*) FROM runs WHERE status <> 'running'")[0][0] < backlog + 1:
            assert time.monotonic() < deadline, pool.log("w1")
            time.sleep(0.2)
    finally:
        pool.stop_all()
    order = [t for (t,) in fleet_db.execute("SELECT tenant FROM runs ORDER BY started_at, id")]
    # the small tenant's one sync ran among the first two, not after the back-fill's eight
    assert "small" in order[:2], order
    # and the back-fill never ran two syncs at once (one slot per tenant across the fleet)
    spans = fleet_db.execute("SELECT started_at, finished_at FROM runs WHERE tenant = 'backfill' ORDER BY started_at")
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), spans
