"""Token buckets: refill, burst, drain, per-key independence and adopting a remote's reported rate."""

from __future__ import annotations

import pytest

from ledgerlink.http import Limit, RateLimiter, TokenBucket


def test_a_full_bucket_allows_a_burst_without_waiting(clock):
    bucket = TokenBucket(Limit(rate=1, burst=3), clock)
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]


def test_an_empty_bucket_makes_each_caller_wait_one_more_token_interval(clock):
    bucket = TokenBucket(Limit(rate=2, burst=1), clock)
    assert bucket.reserve() == 0.0
    # Reservations queue up: the second waits 0.5 s, the third 1.0 s (both taken at the same instant).
    assert bucket.reserve() == pytest.approx(0.5)
    assert bucket.reserve() == pytest.approx(1.0)


def test_tokens_refill_continuously_at_the_rate(clock):
    bucket = TokenBucket(Limit(rate=4, burst=4), clock)
    for _ in range(4):
        bucket.reserve()
    clock.advance(0.5)  # 2 tokens back
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(0.25)


def test_refill_never_exceeds_the_burst(clock):
    bucket = TokenBucket(Limit(rate=10, burst=2), clock)
    clock.advance(3600)
    assert [bucket.reserve() for _ in range(2)] == [0.0, 0.0]
    assert bucket.reserve() == pytest.approx(0.1)


def test_drain_empties_the_bucket_when_the_remote_says_throttled(clock):
    bucket = TokenBucket(Limit(rate=1, burst=5), clock)
    bucket.drain()
    assert bucket.reserve() == pytest.approx(1.0)


def test_drain_keeps_a_debt_already_owed(clock):
    bucket = TokenBucket(Limit(rate=1, burst=1), clock)
    bucket.reserve()
    bucket.reserve()  # one token owed
    bucket.drain()
    assert bucket.reserve() == pytest.approx(2.0)


def test_set_limit_caps_the_tokens_at_the_new_burst(clock):
    bucket = TokenBucket(Limit(rate=1, burst=10), clock)
    bucket.set_limit(Limit(rate=5, burst=2))
    assert [bucket.reserve() for _ in range(2)] == [0.0, 0.0]
    assert bucket.reserve() == pytest.approx(0.2)


def test_limiter_sleeps_the_reserved_wait_and_reports_it(clock):
    limiter = RateLimiter({"getOrders": Limit(rate=0.5, burst=1)}, clock=clock, sleep=clock.sleep)
    assert limiter.acquire("seller/eu/getOrders", "getOrders") == 0.0
    assert limiter.acquire("seller/eu/getOrders", "getOrders") == pytest.approx(2.0)
    assert clock.sleeps == [pytest.approx(2.0)]
    assert limiter.waited == pytest.approx(2.0)


def test_keyed_buckets_are_independent_per_key(clock):
    limiter = RateLimiter({"getOrders": Limit(rate=1, burst=1)}, clock=clock, sleep=clock.sleep)
    limiter.acquire("sellerA/eu/getOrders", "getOrders")
    # Seller B has its own bucket, untouched by A's request.
    assert limiter.acquire("sellerB/eu/getOrders", "getOrders") == 0.0
    assert limiter.acquire("sellerA/eu/getOrders", "getOrders") == pytest.approx(1.0)


def test_limits_are_chosen_by_operation_and_unknown_operations_use_the_default(clock):
    limiter = RateLimiter({"slow": Limit(rate=0.1, burst=1)}, default=Limit(rate=10, burst=1), clock=clock,
                          sleep=clock.sleep)
    limiter.acquire("k/slow", "slow")
    limiter.acquire("k/fast", "fast")
    assert limiter.acquire("k/fast", "fast") == pytest.approx(0.1)
    assert limiter.acquire("k/slow", "slow") == pytest.approx(9.9)  # 0.1 s already slept


def test_no_limit_and_no_default_means_unlimited(clock):
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    assert [limiter.acquire("k", "op") for _ in range(100)] == [0.0] * 100
    assert clock.sleeps == []


def test_update_adopts_the_rate_the_remote_reported(clock):
    limiter = RateLimiter({"op": Limit(rate=10, burst=1)}, clock=clock, sleep=clock.sleep)
    limiter.acquire("k", "op")
    limiter.update("k", "op", Limit(rate=0.5, burst=0))  # burst 0: keep ours
    assert limiter.acquire("k", "op") == pytest.approx(2.0)


def test_update_creates_a_bucket_for_an_unlimited_key(clock):
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    limiter.update("k", "op", Limit(rate=1, burst=1))
    assert limiter.acquire("k", "op") == 0.0
    assert limiter.acquire("k", "op") == pytest.approx(1.0)


def test_throttled_drains_only_that_keys_bucket(clock):
    limiter = RateLimiter({"op": Limit(rate=1, burst=3)}, clock=clock, sleep=clock.sleep)
    limiter.throttled("a", "op")
    assert limiter.acquire("a", "op") == pytest.approx(1.0)
    assert limiter.acquire("b", "op") == 0.0
