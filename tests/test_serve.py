"""`ledgerlink serve`: scheduled and webhook-triggered syncs on one thread, plugin web apps, /health and /runs."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent / "runtime"))

import fakes  # noqa: E402

from ledgerlink.pipeline import Pipeline  # noqa: E402
from ledgerlink.sandbox import running_app  # noqa: E402
from ledgerlink.serve import PipelineService, build_app  # noqa: E402
from sandbox_helpers import wait_for as _wait_for  # noqa: E402


def wait_for(predicate, seconds: float = 20.0) -> bool:
    return _wait_for(predicate, seconds)


def test_webhooks_trigger_one_sync_per_burst_and_runs_are_served(tmp_path):
    host = fakes.fresh_host(tmp_path)
    host.register(fakes.web_plugin, name="fake_web")
    pipeline = Pipeline.model_validate({
        "name": "served", "state": str(tmp_path / "served.duckdb"),
        "source": {"connector": "fake_source", "config": {"orders": 3}},
        "destination": {"connector": "fake_dest", "config": {}}, "base_dir": str(tmp_path)})
    # the debounce is long enough that a loaded machine still sends the burst inside it
    service = PipelineService(pipeline, host, every=None, debounce=1.5)
    service.start()
    try:
        with running_app(build_app(service)) as url:
            for _ in range(5):  # a burst of webhooks
                assert httpx.post(f"{url}/webhooks/fake/event").json() == {"ok": True, "pipeline": "served"}
            assert wait_for(lambda: service.syncs >= 1 and not service.running)
            assert service.syncs == 1  # the burst collapsed into one sync
            assert len(fakes.REMOTE["Receipt"]) == 3
            health = httpx.get(f"{url}/health").json()
            assert health["last_status"] == "succeeded" and health["syncs"] == 1
            assert httpx.post(f"{url}/sync").status_code == 202
            assert wait_for(lambda: service.syncs >= 2 and not service.running)
            runs = httpx.get(f"{url}/runs").json()
            assert [r["status"] for r in runs] == ["succeeded", "succeeded"]
            assert runs[0]["counts"]["read_total"] == 0  # the second sync had nothing new
    finally:
        service.stop()


def test_scheduled_syncs_run_without_triggers(tmp_path):
    host = fakes.fresh_host(tmp_path)
    pipeline = Pipeline.model_validate({
        "name": "scheduled", "state": str(tmp_path / "s.duckdb"),
        "source": {"connector": "fake_source", "config": {"orders": 2}},
        "destination": {"connector": "fake_dest", "config": {}}, "base_dir": str(tmp_path)})
    service = PipelineService(pipeline, host, every=0.05, debounce=0)
    service.start()
    try:
        assert wait_for(lambda: service.syncs >= 2)
    finally:
        service.stop()
    assert len(fakes.REMOTE["Receipt"]) == 2


def test_plugins_list_their_web_routes(tmp_path):
    host = fakes.fresh_host(tmp_path)
    host.register(fakes.web_plugin, name="fake_web")
    [info] = [i for i in host.plugins() if i.name == "fake_web"]
    assert info.web_routes == ["/webhooks/fake"]


def test_a_query_parameter_of_the_wrong_type_is_a_400_and_the_service_keeps_serving(tmp_path):
    host = fakes.fresh_host(tmp_path)
    pipeline = Pipeline.model_validate({
        "name": "served", "state": str(tmp_path / "q.duckdb"),
        "source": {"connector": "fake_source", "config": {"orders": 1}},
        "destination": {"connector": "fake_dest", "config": {}}, "base_dir": str(tmp_path)})
    service = PipelineService(pipeline, host, every=None, debounce=0)
    service.start()
    try:
        with running_app(build_app(service)) as url:
            for bad in ("abc", "-5", "0", "1e3", "99999999999999999999"):
                answer = httpx.get(f"{url}/runs", params={"limit": bad})
                assert answer.status_code == 400 and "'limit'" in answer.json()["error"]
                assert httpx.get(f"{url}/runs", params={"limit": "3"}).status_code == 200
            assert httpx.get(f"{url}/health").json()["pipeline"] == "served"
    finally:
        service.stop()
