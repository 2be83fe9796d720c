"""Order-to-cash in QuickBooks Desktop, end to end: a store sandbox → a served pipeline (the shipped
`*-to-qbd.yaml`, with options changed per test) → the simulated Web Connector and company file, which
validates every request against Intuit's qbXML XSD (read from ../shared/reference, never shipped)."""

from __future__ import annotations

import contextlib
import time
from importlib import resources
from typing import Any

import httpx
import pytest
import yaml

from ledgerlink.pipeline import load_pipeline
from ledgerlink.plugins import host
from ledgerlink.sandbox import running, running_app
from ledgerlink.serve import PipelineService, build_app


def wait_for(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="session")
def qbxml_xsd(reference_dir):
    path = reference_dir / "qbxml" / "xsd-16.0" / "qbxmlops160.xsd"
    if not path.exists():
        pytest.skip("qbXML XSD not found")
    return path


@pytest.fixture
def o2c(tmp_path, qbxml_xsd):
    """`make(source, orders=…, options={…}, source_config={…}, multicurrency=False)` → a dict with the store
    sandbox URL, the service, the simulated company file, `sync()` (sync, then poll until nothing waits) and
    `store_call(method, path, json)` for the sandbox's own API."""
    pytest.importorskip("lxml")
    sandboxes = host().sandboxes()

    @contextlib.contextmanager
    def make(source: str = "bigcommerce", orders: int = 3, options: dict[str, Any] | None = None,
             source_config: dict[str, Any] | None = None, multicurrency: bool = False):
        with running(sandboxes[source](orders=orders, time_scale=1000)) as store_url:
            name = "amazon-to-qbd.yaml" if source == "amazon_sp" else "bigcommerce-to-qbd.yaml"
            spec = yaml.safe_load(resources.files("ledgerlink").joinpath("data", name).read_text())
            spec["destination"]["options"].update(options or {})
            spec["source"]["config"].update(source_config or {})
            pipeline_file = tmp_path / name
            pipeline_file.write_text(yaml.safe_dump(spec, sort_keys=False))
            env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), "AMAZON_SP_ENDPOINT": store_url,
                   "AMAZON_LWA_ENDPOINT": f"{store_url}/auth/o2/token", "BIGCOMMERCE_BASE_URL": store_url}
            pipeline = load_pipeline(pipeline_file, env=env)
            service = PipelineService(pipeline, host(), every=None, debounce=0.05)
            service.start()
            simulator = sandboxes["qb_desktop"](xsd=str(qbxml_xsd), poll_every_s=0, multicurrency=multicurrency)
            http = httpx.Client(base_url=store_url, timeout=10,
                                headers={"X-Auth-Token": "sandbox-bigcommerce-token", "Accept": "application/json"})
            try:
                with running_app(build_app(service)) as url:
                    qbwc = f"{url}/qbwc/"

                    def settle(max_polls: int = 30) -> list[dict]:
                        outcomes = []
                        for _ in range(max_polls):
                            assert wait_for(lambda: service.idle)
                            outcome = simulator.poll(qbwc)
                            outcomes.append(outcome)
                            assert outcome["result"] in ("done", "none", "lost_response"), outcome
                            if outcome["result"] == "none":
                                time.sleep(0.1)
                                if service.idle and simulator.poll(qbwc)["result"] == "none":
                                    return outcomes
                        raise AssertionError(f"the queue did not drain: {outcomes[-5:]}")

                    def sync() -> list[dict]:
                        service.trigger("test")
                        return settle()

                    def store_call(method: str, path: str, json: Any = None) -> Any:
                        response = http.request(method, path, json=json)
                        assert response.status_code < 300, response.text
                        return response.json()

                    yield {"service": service, "store": service.store, "company": simulator.company, "sync": sync,
                           "simulator": simulator,
                           "store_call": store_call, "url": store_url}
            finally:
                http.close()
                service.stop()
    return make
