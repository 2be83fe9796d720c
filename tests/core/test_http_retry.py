"""RetryPolicy delays, Retry-After parsing and default error classification."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerlink.http import RetryPolicy, default_classify, parse_retry_after


@settings(max_examples=200, deadline=None, database=None)
@given(attempt=st.integers(min_value=1, max_value=40), seed=st.integers(0, 2**32))
def test_equal_jitter_stays_between_half_the_ceiling_and_the_ceiling(attempt, seed):
    policy = RetryPolicy(base_delay=0.5, max_delay=60.0)
    ceiling = min(60.0, 0.5 * 2 ** (attempt - 1))
    delay = policy.delay(attempt, rng=random.Random(seed))
    assert ceiling / 2 <= delay <= ceiling


def test_backoff_doubles_per_attempt_without_jitter():
    policy = RetryPolicy(base_delay=0.5, max_delay=60.0, jitter=False)
    assert [policy.delay(a) for a in range(1, 10)] == [0.5, 1, 2, 4, 8, 16, 32, 60, 60]


def test_jitter_actually_varies_the_delay():
    policy = RetryPolicy(base_delay=1.0, max_delay=60.0)
    rng = random.Random(7)
    assert len({policy.delay(5, rng=rng) for _ in range(20)}) > 1


def test_retry_after_wins_over_backoff():
    policy = RetryPolicy(base_delay=0.5, max_delay=60.0)
    assert policy.delay(1, retry_after=7.0) == 7.0
    assert policy.delay(10, retry_after=0.25) == 0.25


def test_retry_after_is_capped_at_the_total_wait_and_never_negative():
    policy = RetryPolicy(max_total_wait=120.0)
    assert policy.delay(1, retry_after=10_000) == 120.0
    assert policy.delay(1, retry_after=-5) == 0.0


@pytest.mark.parametrize("headers, expected", [
    ({"retry-after": "5"}, 5.0),
    ({"Retry-After": "2.5"}, 2.5),          # a plain dict keeps the server's casing
    (httpx.Headers({"Retry-After": " 3 "}), 3.0),
    ({"retry-after": "-4"}, 0.0),
    ({}, None),
    ({"retry-after": ""}, None),
    ({"retry-after": "soon"}, None),
])
def test_parse_retry_after_seconds(headers, expected):
    assert parse_retry_after(headers) == expected


def test_parse_retry_after_http_date():
    now = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after({"retry-after": "Fri, 01 Mar 2024 12:00:30 GMT"}, now=now) == 30.0


def test_parse_retry_after_http_date_in_the_past_is_zero():
    now = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after({"retry-after": "Fri, 01 Mar 2024 11:00:00 GMT"}, now=now) == 0.0


def test_parse_retry_after_http_date_defaults_to_the_current_time():
    when = datetime.now(timezone.utc) + timedelta(hours=1)
    value = parse_retry_after({"retry-after": when.strftime("%a, %d %b %Y %H:%M:%S GMT")})
    assert 3000 < value <= 3600


@pytest.mark.parametrize("status, kind", [
    (200, "ok"), (204, "ok"), (302, "ok"), (429, "throttled"), (408, "transient"), (500, "transient"),
    (502, "transient"), (503, "transient"), (504, "transient"), (400, "permanent"), (401, "permanent"),
    (403, "permanent"), (404, "permanent"), (422, "permanent"),
])
def test_default_classify_by_status(status, kind):
    assert default_classify(httpx.Response(status)) == kind
