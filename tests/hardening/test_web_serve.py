"""`ledgerlink serve`'s own routes and the plugin apps it mounts, with bad query parameters and bodies over a real
loopback server: a 400 naming the parameter (or a 413), never a 500, and the next good request is answered."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parents[1] / "runtime"))

import fakes  # noqa: E402

from ledgerlink.pipeline import Pipeline  # noqa: E402
from ledgerlink.sandbox import running_app  # noqa: E402
from ledgerlink.serve import MAX_RUNS_LISTED, SERVE_MAX_BODY, PipelineService, build_app  # noqa: E402

SECRET = "bc-secret-1"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    import ledgerlink_bigcommerce.plugin
    import ledgerlink_qb_desktop.plugin
    import ledgerlink_qbo.plugin

    tmp = tmp_path_factory.mktemp("serve")
    host = fakes.fresh_host(tmp)
    for name, module in (("bigcommerce", ledgerlink_bigcommerce.plugin), ("qbo", ledgerlink_qbo.plugin),
                         ("qb_desktop", ledgerlink_qb_desktop.plugin)):
        host.register(module, name=name)
    pipeline = Pipeline.model_validate({
        "name": "served", "state": str(tmp / "served.duckdb"),
        "source": {"connector": "fake_source", "config": {"orders": 1}},
        "destination": {"connector": "fake_dest", "config": {}}, "base_dir": str(tmp)})
    service = PipelineService(pipeline, host, every=None, debounce=0)  # not started: requests only
    service.pipeline.source.config.update({"webhook_secret": SECRET, "store_hash": "s1"})
    try:
        with running_app(build_app(service)) as url, httpx.Client(base_url=url, timeout=30) as http:
            yield http, service
    finally:
        service.stop()


def good_request_works(http):
    answer = http.get("/runs", params={"limit": "5"})
    assert answer.status_code == 200 and isinstance(answer.json(), list)
    assert http.get("/health").json()["pipeline"] == "served"


BAD_LIMITS = ["abc", "", " ", "-1", "0", "1e3", "1.5", "99999999999999999999", "\uff12", "\u0663", "0x10", "nan",
              "inf", str(MAX_RUNS_LISTED + 1), "1;DROP TABLE runs", "%00", "'", "[]", "{}", "true", "2 3", "+-1",
              "1" * 5000]


@pytest.mark.parametrize("limit", BAD_LIMITS, ids=range(len(BAD_LIMITS)))
def test_a_bad_limit_on_runs_is_a_400_naming_it(served, limit):
    http, _ = served
    answer = http.get("/runs", params={"limit": limit})
    assert answer.status_code == 400, answer.text[:300]
    assert "'limit'" in answer.json()["error"] and len(answer.text) < 500
    good_request_works(http)


@pytest.mark.parametrize("query", ["limit=5&limit=abc", "limit", "limit=", "LIMIT=abc", "limit[]=3", "&&&", "=",
                                   "limit=%ff%fe", "limit=%zz"])
def test_odd_query_strings_on_runs_never_get_a_5xx(served, query):
    http, _ = served
    answer = http.get(f"/runs?{query}")
    assert answer.status_code in (200, 400), answer.text[:300]
    good_request_works(http)


ROUTES = ["/health", "/runs", "/webhooks/bigcommerce", "/webhooks/bigcommerce/", "/webhooks/qbo", "/qbwc",
          "/qbwc/", "/nothing-here"]


@settings(max_examples=60, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(route=st.sampled_from(ROUTES), params=st.dictionaries(
    st.sampled_from(["limit", "wsdl", "WSDL", "x", "ticket", "scope"]) | st.text(min_size=1, max_size=8),
    st.text(max_size=40) | st.integers().map(str), max_size=3))
def test_random_query_parameters_on_every_route_never_get_a_5xx(served, route, params):
    http, _ = served
    answer = http.get(route, params=params)
    assert answer.status_code < 500, (route, params, answer.status_code, answer.text[:300])
    if route == "/runs" and answer.status_code == 400:
        assert "'limit'" in answer.json()["error"]
    good_request_works(http)


def test_webhooks_mounted_under_serve_refuse_deep_and_oversized_bodies(served):
    http, service = served
    headers = {"X-Ledgerlink-Webhook-Secret": SECRET}
    deep = http.post("/webhooks/bigcommerce", content=b"[" * 50_000 + b"]" * 50_000, headers=headers)
    assert deep.status_code == 400 and "nested deeper than" in deep.json()["error"]
    big = http.post("/webhooks/bigcommerce", content=b" " * 1_000_001, headers=headers)
    assert big.status_code == 413 and "limit" in big.json()["error"]
    clean = {"scope": "store/order/created", "producer": "stores/s1", "hash": "h1", "created_at": 1,
             "data": {"type": "order", "id": 1}}
    assert http.post("/webhooks/bigcommerce", content=json.dumps(clean), headers=headers).json() == {
        "status": "accepted"}
    good_request_works(http)


def test_the_serve_wide_cap_refuses_any_route_before_reading(served):
    _, service = served
    app = build_app(service)
    pulled = 0

    async def receive():
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 65536, "more_body": pulled < 5_000}

    sent = []

    async def send(message):
        sent.append(message)

    for path in ("/sync", "/webhooks/qbo", "/qbwc"):
        pulled, sent = 0, []
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
                 "client": ("127.0.0.1", 5), "server": ("127.0.0.1", 80),
                 "headers": [(b"content-length", str(SERVE_MAX_BODY + 1).encode())]}
        asyncio.run(app(scope, receive, send))
        assert sent[0]["status"] == 413 and pulled == 0
