"""One writer per pipeline: the lease row in Postgres."""

from __future__ import annotations

import time

from ledgerlink.fleet import LeaseKeeper, release_lease, renew_lease, take_lease

from fleet_helpers import lease_overlaps


def test_a_held_lease_is_refused_to_another_worker_until_released(fleet_db):
    first = take_lease(fleet_db, "acme", "orders", "w1", ttl_s=30)
    assert first is not None
    assert take_lease(fleet_db, "acme", "orders", "w2", ttl_s=30) is None
    assert take_lease(fleet_db, "acme", "payouts", "w2", ttl_s=30) is not None  # another pipeline is free
    assert take_lease(fleet_db, "globex", "orders", "w2", ttl_s=30) is not None  # another tenant too
    release_lease(fleet_db, first)
    second = take_lease(fleet_db, "acme", "orders", "w2", ttl_s=30)
    assert second is not None and second.holder == "w2"
    assert lease_overlaps(fleet_db) == []


def test_a_lease_whose_holder_stopped_renewing_passes_to_the_next_worker(fleet_db):
    dead = take_lease(fleet_db, "acme", "orders", "killed", ttl_s=1)
    assert dead is not None
    deadline = time.monotonic() + 10
    taken = None
    while taken is None and time.monotonic() < deadline:
        taken = take_lease(fleet_db, "acme", "orders", "survivor", ttl_s=30)
        time.sleep(0.1)
    assert taken is not None
    # the killed holder finds out on its next renewal and must stop writing
    assert renew_lease(fleet_db, dead) is False
    assert renew_lease(fleet_db, taken) is True
    assert lease_overlaps(fleet_db) == []


def test_the_keeper_renews_while_the_sync_runs(fleet_db):
    lease = take_lease(fleet_db, "acme", "orders", "w1", ttl_s=1.5)
    with LeaseKeeper(fleet_db, lease) as keeper:
        time.sleep(2.5)  # longer than the lease: only renewals keep it
        assert take_lease(fleet_db, "acme", "orders", "w2", ttl_s=30) is None
        assert not keeper.lost.is_set()
    release_lease(fleet_db, lease)
    rows = fleet_db.execute("SELECT holder, released FROM lease_log ORDER BY id")
    assert rows == [("w1", True)]
