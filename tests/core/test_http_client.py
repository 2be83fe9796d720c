"""HttpClient over httpx.MockTransport: retries, throttling, classification, rate-limit hooks, stats."""

from __future__ import annotations

import logging

import httpx
import pytest

from ledgerlink import PermanentError, ThrottledError, TransientError
from ledgerlink.http import HttpClient, Limit, RetryPolicy, describe_error


class Script:
    """A MockTransport handler that answers from a list (responses, or exceptions to raise) and keeps
    every request it saw."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def make_client(script, clock, **kwargs) -> HttpClient:
    kwargs.setdefault("retry", RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=8.0, jitter=False))
    return HttpClient("https://api.example.com", transport=httpx.MockTransport(script), sleep=clock.sleep,
                      clock=clock, **kwargs)


def test_a_200_passes_straight_through(clock):
    script = Script(httpx.Response(200, json={"orders": [1, 2]}))
    with make_client(script, clock) as client:
        response = client.get("/orders", operation="getOrders", params={"page": 2})
    assert response.json() == {"orders": [1, 2]}
    assert str(script.requests[0].url) == "https://api.example.com/orders?page=2"
    assert clock.sleeps == []
    assert client.stats == {"requests": 1, "retries": 0, "throttled": 0, "waited_s": 0.0}


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_with_backoff_then_succeed(clock, status):
    script = Script(httpx.Response(status), httpx.Response(status), httpx.Response(200, json={}))
    client = make_client(script, clock)
    assert client.get("/x", operation="op").status_code == 200
    assert len(script.requests) == 3
    assert clock.sleeps == [1.0, 2.0]
    assert client.stats["retries"] == 2
    assert client.stats["waited_s"] == 3.0


def test_429_waits_exactly_the_retry_after_the_server_gave(clock):
    script = Script(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200))
    client = make_client(script, clock)
    assert client.get("/x", operation="op").status_code == 200
    assert clock.sleeps == [7.0]
    assert client.stats["throttled"] == 1


def test_429_without_retry_after_backs_off(clock):
    script = Script(httpx.Response(429), httpx.Response(200))
    client = make_client(script, clock)
    client.get("/x", operation="op")
    assert clock.sleeps == [1.0]


def test_permanent_400_is_raised_at_once_with_the_remotes_message(clock):
    body = {"errors": [{"code": "InvalidInput", "message": "MarketplaceIds is required"}]}
    script = Script(httpx.Response(400, json=body))
    client = make_client(script, clock)
    with pytest.raises(PermanentError) as info:
        client.get("/orders", operation="getOrders")
    err = info.value
    assert len(script.requests) == 1 and clock.sleeps == []
    assert err.status == 400 and err.code == "InvalidInput" and err.operation == "getOrders"
    assert err.remote_message == "MarketplaceIds is required"
    assert "MarketplaceIds is required" in str(err) and "getOrders" in str(err)


def test_exhausted_retries_raise_transient_error(clock):
    script = Script(httpx.Response(503, text="upstream down"))
    client = make_client(script, clock)
    with pytest.raises(TransientError) as info:
        client.get("/x", operation="op")
    assert len(script.requests) == 4
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert info.value.status == 503 and info.value.remote_message == "upstream down"


def test_exhausted_throttling_raises_throttled_error_with_retry_after(clock):
    script = Script(httpx.Response(429, headers={"retry-after": "2"}))
    client = make_client(script, clock)
    with pytest.raises(ThrottledError) as info:
        client.get("/x", operation="op")
    assert info.value.retry_after == 2.0
    assert client.stats["throttled"] == 4


def test_gives_up_when_the_next_wait_would_pass_the_total_wait_budget(clock):
    script = Script(httpx.Response(429, headers={"retry-after": "50"}))
    client = make_client(script, clock, retry=RetryPolicy(max_attempts=10, max_total_wait=120))
    with pytest.raises(ThrottledError):
        client.get("/x", operation="op")
    assert clock.sleeps == [50.0, 50.0]


def test_network_errors_are_retried(clock):
    script = Script(httpx.ConnectError("connection refused"), httpx.ReadTimeout("slow"), httpx.Response(200))
    client = make_client(script, clock)
    assert client.get("/x", operation="op").status_code == 200
    assert len(script.requests) == 3


def test_network_errors_that_persist_raise_transient_error_naming_the_operation(clock):
    script = Script(httpx.ConnectError("connection refused"))
    client = make_client(script, clock)
    with pytest.raises(TransientError) as info:
        client.get("/x", operation="listItems")
    assert "listItems" in str(info.value) and "ConnectError" in str(info.value)
    assert info.value.remote_message == "connection refused"


def test_rate_limit_from_hook_adopts_the_reported_rate(clock):
    def from_headers(response: httpx.Response):
        value = response.headers.get("x-amzn-RateLimit-Limit")
        return Limit(rate=float(value), burst=0) if value else None

    script = Script(httpx.Response(200, headers={"x-amzn-RateLimit-Limit": "0.5"}))
    client = make_client(script, clock, rate_key="seller/eu", limits={"getOrders": Limit(rate=100, burst=1)},
                         rate_limit_from=from_headers)
    client.get("/orders", operation="getOrders")
    client.get("/orders", operation="getOrders")
    # The second request waited for one token at the remote's 0.5/s, not our configured 100/s.
    assert clock.sleeps == [pytest.approx(2.0)]


def test_configured_limits_pace_requests(clock):
    script = Script(httpx.Response(200))
    client = make_client(script, clock, limits={"op": Limit(rate=2, burst=1)})
    for _ in range(3):
        client.get("/x", operation="op")
    assert clock.sleeps == [pytest.approx(0.5), pytest.approx(0.5)]


def test_each_operation_has_its_own_bucket(clock):
    script = Script(httpx.Response(200))
    client = make_client(script, clock, rate_key="storeA",
                         limits={"getOrders": Limit(rate=1, burst=1), "getItems": Limit(rate=1, burst=1)})
    client.get("/orders", operation="getOrders")
    client.get("/items", operation="getItems")
    assert clock.sleeps == []
    client.get("/orders", operation="getOrders")
    assert clock.sleeps == [pytest.approx(1.0)]


def test_a_named_bucket_is_shared_by_the_operations_that_name_it(clock):
    script = Script(httpx.Response(200))
    client = make_client(script, clock, rate_key="seller1/na",
                         limits={"orders:getOrders": Limit(rate=1, burst=1), "getItems": Limit(rate=1, burst=1)})
    client.get("/orders", operation="getOrders", bucket="orders:getOrders")
    client.get("/items", operation="getItems")  # its own bucket: no wait
    assert clock.sleeps == []
    client.get("/orders/next", operation="getOrdersNextPage", bucket="orders:getOrders")
    assert clock.sleeps == [pytest.approx(1.0)]


def test_an_http_stream_requests_in_its_declared_bucket(clock):
    from typing import ClassVar

    from ledgerlink import HttpStream

    class Orders(HttpStream):
        name: ClassVar[str] = "orders"
        path: ClassVar[str] = "/orders"
        operation: ClassVar[str] = "getOrders"
        bucket: ClassVar[str | None] = "orders:getOrders"
        records_path: ClassVar[tuple[str, ...]] = ("orders",)

    script = Script(httpx.Response(200, json={"orders": [{"id": 1}]}))
    client = make_client(script, clock, rate_key="seller1/na", limits={"orders:getOrders": Limit(rate=1, burst=1)})
    client.get("/warm-up", operation="other", bucket="orders:getOrders")  # takes the bucket's only token
    assert [r for r in Orders(None, client).read_records({}) if isinstance(r, dict)] == [{"id": 1}]
    assert clock.sleeps == [pytest.approx(1.0)]  # the stream waited in the named bucket, not its operation's


def test_custom_classify_turns_a_vendor_throttle_fault_into_throttling(clock):
    def classify(response: httpx.Response) -> str:
        if response.status_code == 403 and "throttled" in response.text.lower():
            return "throttled"
        return "ok" if response.status_code < 400 else "permanent"

    script = Script(httpx.Response(403, json={"fault": {"error": [{"message": "ThrottleExceeded: throttled"}]}}),
                    httpx.Response(200))
    client = make_client(script, clock, classify=classify)
    assert client.get("/x", operation="op").status_code == 200
    assert client.stats["throttled"] == 1 and client.stats["retries"] == 1


def test_custom_classify_can_make_a_403_permanent(clock):
    script = Script(httpx.Response(403, json={"message": "forbidden"}))
    client = make_client(script, clock)
    with pytest.raises(PermanentError, match="forbidden"):
        client.get("/x", operation="op")


def test_custom_describe_and_retry_after_hooks_are_used(clock):
    script = Script(httpx.Response(429, headers={"x-wait-ms": "1500"}), httpx.Response(200))
    client = make_client(script, clock, retry_after_from=lambda r: int(r.headers["x-wait-ms"]) / 1000)
    client.get("/x", operation="op")
    assert clock.sleeps == [1.5]


def test_stats_count_every_attempt(clock):
    script = Script(httpx.Response(500), httpx.Response(429, headers={"retry-after": "3"}), httpx.Response(200))
    client = make_client(script, clock)
    client.post("/x", operation="op", json={"a": 1})
    assert client.stats == {"requests": 3, "retries": 2, "throttled": 1, "waited_s": 4.0}
    assert script.requests[0].method == "POST"


def test_registered_secrets_never_reach_the_error_message(clock, isolated_secrets):
    isolated_secrets.register_secret("sk_live_ABCDEF")
    script = Script(httpx.Response(400, json={"message": "bad key sk_live_ABCDEF"}))
    client = make_client(script, clock)
    with pytest.raises(PermanentError) as info:
        client.get("/x", operation="op")
    assert "sk_live_ABCDEF" not in str(info.value) and "sk_live_ABCDEF" not in info.value.remote_message


def test_request_log_lines_do_not_show_secrets_in_urls(clock, isolated_secrets, caplog):
    isolated_secrets.register_secret("tok_SECRET_123")
    script = Script(httpx.Response(200))
    client = make_client(script, clock)
    with caplog.at_level(logging.DEBUG, logger="ledgerlink.http"):
        client.get("/x", operation="op", params={"access_token": "tok_SECRET_123"})
    assert "/x" in caplog.text and "tok_SECRET_123" not in caplog.text


@pytest.mark.parametrize("body, expected", [
    ({"errors": [{"code": "E1", "message": "first"}, {"code": "E2", "message": "second"}]}, ("E1", "first; second")),
    ({"errors": [{"details": "only details"}]}, (None, "only details")),
    ({"title": "Not Found"}, (None, "Not Found")),
    ({"error_description": "bad grant", "error": "invalid_grant"}, (None, "bad grant")),
    ({"unexpected": 1}, (None, "{'unexpected': 1}")),
])
def test_describe_error_reads_common_json_error_shapes(body, expected):
    assert describe_error(httpx.Response(400, json=body)) == expected


def test_describe_error_falls_back_to_the_body_text():
    assert describe_error(httpx.Response(502, text="<html>Bad gateway</html>" + "x" * 500))[1] == \
        ("<html>Bad gateway</html>" + "x" * 500)[:300]


def _switching_threads_inside(module_file: str):
    """A tracer that hands the GIL to another thread between any two bytecodes run in `module_file`: a
    read-modify-write of a counter there that is not under a lock then loses counts, as it would on a
    free-threaded interpreter (CPython 3.11 with its GIL rarely switches inside one `d[k] += 1`)."""
    import time

    def local(frame, event, arg):
        if event == "opcode":
            time.sleep(0)
        return local

    def tracer(frame, event, arg):
        if frame.f_code.co_filename != module_file:
            return None
        frame.f_trace_opcodes = True
        return local

    return tracer


def test_the_counters_keep_every_count_from_threads_sending_at_once():
    """QBO posting keeps batches in flight on several threads, all on one client: no request, retry or wait
    may be lost from its stats. Each thread's every bytecode in the client yields to the others."""
    import threading

    import ledgerlink.http.client as client_module

    threads, each = 4, 60
    client = HttpClient("https://api.example.com", transport=httpx.MockTransport(lambda r: httpx.Response(200)),
                        sleep=lambda seconds: None)
    start = threading.Barrier(threads)

    def send() -> None:
        start.wait()
        for _ in range(each):
            client.get("/orders", operation="getOrders")
            client.backoff(1, retry_after=0.5)

    threading.settrace(_switching_threads_inside(client_module.__file__))
    try:
        workers = [threading.Thread(target=send) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        threading.settrace(None)
    stats = client.stats
    assert stats["requests"] == threads * each
    assert stats["waited_s"] == threads * each * 0.5
    assert stats["retries"] == 0 and stats["throttled"] == 0
