"""A remote account's limits counted in Postgres for every worker together."""

from __future__ import annotations

import threading
import time

from ledgerlink.fleet import PostgresAccountLimiter
from ledgerlink.http import Limit


def test_requests_at_once_never_exceed_the_accounts_slots_across_limiters(fleet_db):
    # two "workers" (two limiters, as two processes would have), 6 threads each, one account with 3 slots
    limiters = [PostgresAccountLimiter(fleet_db, holder=f"w{i}") for i in (1, 2)]
    lock, now, peak, done = threading.Lock(), [0], [0], []

    def call(limiter: PostgresAccountLimiter) -> None:
        for _ in range(3):
            finish = limiter.acquire("realm-1", "realm-1/qbo", Limit(rate=1e6, burst=1e6), 3)
            with lock:
                now[0] += 1
                peak[0] = max(peak[0], now[0])
            time.sleep(0.02)
            with lock:
                now[0] -= 1
            finish()
        done.append(1)

    threads = [threading.Thread(target=call, args=(limiters[i % 2],)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(done) == 12
    assert 1 <= peak[0] <= 3
    assert fleet_db.execute("SELECT count(*) FROM account_slots WHERE account = 'realm-1' AND holder IS NOT NULL") \
        == [(0,)]


def test_the_sliding_window_is_shared_so_two_workers_wait_for_each_other(fleet_db):
    waits: list[float] = []
    slept: list[float] = []
    a = PostgresAccountLimiter(fleet_db, holder="a")
    b = PostgresAccountLimiter(fleet_db, holder="b", sleep=lambda s: (slept.append(s), time.sleep(s)))
    plan = Limit(rate=5, burst=5)  # 5 requests in any second
    for _ in range(5):
        a.acquire("realm-2", "realm-2/qbo", plan, None)()
    # the window is full from a's requests: b must wait, not send a sixth
    b.acquire("realm-2", "realm-2/qbo", plan, None)()
    assert slept and b.waited_s > 0
    rows = fleet_db.execute("SELECT count(*) FROM account_calls WHERE key = 'realm-2/qbo'")
    assert rows == [(6,)]
    # another account's window is its own
    other = PostgresAccountLimiter(fleet_db, holder="c", sleep=lambda s: waits.append(s))
    other.acquire("realm-3", "realm-3/qbo", plan, None)()
    assert waits == []


def test_the_http_client_asks_the_installed_limiter_with_its_account_and_in_flight_limit():
    import httpx

    from ledgerlink.http import HttpClient, install_account_limiter

    asked: list[tuple[str, str, float, int | None]] = []
    ended: list[str] = []

    class Recorder:
        def acquire(self, account, key, limit, in_flight):
            asked.append((account, key, limit.burst, in_flight))
            return lambda: ended.append(key)

    install_account_limiter(Recorder())
    try:
        client = HttpClient("http://qbo.test", rate_key="9341", limits={"qbo": Limit(rate=500 / 60, burst=10)},
                            max_in_flight=10, transport=httpx.MockTransport(lambda r: httpx.Response(200, json={})))
        client.get("/x", operation="read", bucket="qbo")
    finally:
        install_account_limiter(None)
    assert asked == [("9341", "9341/qbo", 10, 10)] and ended == ["9341/qbo"]
