"""An Amazon seller's per-operation usage plans hold across the fleet's workers: each worker's HTTP client asks
the Postgres limiter with the seller's bucket (`seller/region/operation`) and the plan of that operation, so a
second worker finds the burst the first one used, while other operations and other sellers keep their own."""

from __future__ import annotations

import pytest

from ledgerlink.errors import ThrottledError
from ledgerlink.fleet import PostgresAccountLimiter
from ledgerlink_amazon_sp.client import USAGE_PLANS


def test_a_sellers_get_orders_burst_is_shared_by_every_worker(fleet_db):
    plan = USAGE_PLANS["getOrders"]  # burst 20, one more every minute
    key = "A1SELLER/na/getOrders"
    first = PostgresAccountLimiter(fleet_db, holder="worker-1")
    for _ in range(int(plan.burst)):
        first.acquire("A1SELLER/na", key, plan, None)()
    waits: list[float] = []
    second = PostgresAccountLimiter(fleet_db, holder="worker-2", sleep=waits.append, max_wait_s=5)
    # the burst is spent fleet-wide: worker 2 would have to wait about a minute, longer than it may: throttled
    with pytest.raises(ThrottledError) as raised:
        second.acquire("A1SELLER/na", key, plan, None)
    assert "A1SELLER/na/getOrders" in str(raised.value)
    assert fleet_db.execute("SELECT count(*) FROM account_calls WHERE key = %s", (key,)) == [(plan.burst,)]
    # getOrder has its own plan, and another seller its own buckets
    second.acquire("A1SELLER/na", "A1SELLER/na/getOrder", USAGE_PLANS["getOrder"], None)()
    second.acquire("A2OTHER/na", "A2OTHER/na/getOrders", plan, None)()
    assert waits == []
