"""Returns and refunds end to end: a store sandbox (Amazon or BigCommerce) and a QuickBooks sandbox over real
loopback sockets, driven by the shipped *returns* pipeline files; and the same for QuickBooks Desktop through
`ledgerlink serve` and the simulated Web Connector."""

from __future__ import annotations

import contextlib
import time
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import pytest

from ledgerlink.pipeline import load_pipeline
from ledgerlink.plugins import host
from ledgerlink.sandbox import running, running_app
from ledgerlink.serve import PipelineService, build_app
from returns_helpers import AMAZON_START



def shipped(name: str) -> str:
    return resources.files("ledgerlink").joinpath("data", name).read_text()


@pytest.fixture
def qbo_world(tmp_path: Path):
    """`make(source, orders)` → {store, qbo (sandbox objects), pipeline(edit=None), state}: the shipped
    `<source>-returns-to-qbo.yaml` pointed at both sandboxes; `edit` rewrites the file's text first."""
    sandboxes = host().sandboxes()

    @contextlib.contextmanager
    def make(source: str = "amazon_sp", orders: int = 60):
        store = sandboxes[source](orders=orders, time_scale=1000)
        qbo = sandboxes["qbo"](time_scale=1000)
        with running(store) as store_url, running(qbo) as qbo_url:
            name = "amazon-returns-to-qbo.yaml" if source == "amazon_sp" else "bigcommerce-returns-to-qbo.yaml"
            env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), "AMAZON_SP_ENDPOINT": store_url,
                   "AMAZON_LWA_ENDPOINT": f"{store_url}/auth/o2/token", "BIGCOMMERCE_BASE_URL": store_url,
                   "AMAZON_START_DATE": AMAZON_START, "QBO_BASE_URL": qbo_url,
                   "QBO_TOKEN_URL": f"{qbo_url}/oauth2/v1/tokens/bearer", "QBO_REQUESTS_PER_MINUTE": "500000",
                   "QBO_BATCH_REQUESTS_PER_MINUTE": "40000"}

            def pipeline(edit: Callable[[str], str] | None = None) -> Any:
                text = shipped(name)
                path = tmp_path / name
                path.write_text(edit(text) if edit else text)
                return load_pipeline(path, env=env)

            yield {"store": store, "qbo": qbo, "company": qbo.company, "pipeline": pipeline,
                   "state": tmp_path / "state.duckdb", "store_url": store_url}
    return make


def wait_for(predicate: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def qbd_world(tmp_path: Path, reference_dir: Path):
    """`make(orders, edit)` → the Amazon sandbox, the served amazon-returns-to-qbd pipeline (its text rewritten by
    `edit`), and the simulator (every request checked against Intuit's qbXML XSD) whose Web Connector polls it on
    `settle()`."""
    pytest.importorskip("lxml")
    xsd = reference_dir / "qbxml" / "xsd-16.0" / "qbxmlops160.xsd"
    if not xsd.exists():
        pytest.skip("qbXML XSD not found")
    sandboxes = host().sandboxes()

    @contextlib.contextmanager
    def make(orders: int = 60, edit: Callable[[str], str] | None = None):
        amazon = sandboxes["amazon_sp"](orders=orders, time_scale=1000)
        with running(amazon) as store_url:
            path = tmp_path / "amazon-returns-to-qbd.yaml"
            text = shipped("amazon-returns-to-qbd.yaml")
            path.write_text(edit(text) if edit else text)
            env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), "AMAZON_SP_ENDPOINT": store_url,
                   "AMAZON_LWA_ENDPOINT": f"{store_url}/auth/o2/token", "AMAZON_START_DATE": AMAZON_START}
            service = PipelineService(load_pipeline(path, env=env), host(), every=None, debounce=0.05)
            service.start()
            simulator = sandboxes["qb_desktop"](xsd=str(xsd), poll_every_s=0)
            try:
                with running_app(build_app(service)) as url:
                    qbwc = f"{url}/qbwc/"

                    def settle(max_polls: int = 40) -> None:
                        """Sync, then let the Web Connector poll until nothing waits."""
                        service.trigger("test")
                        for _ in range(max_polls):
                            assert wait_for(lambda: service.idle)
                            if simulator.poll(qbwc)["result"] == "none":
                                time.sleep(0.1)
                                if service.idle and simulator.poll(qbwc)["result"] == "none":
                                    return
                        raise AssertionError("the Web Connector queue did not drain")

                    yield {"amazon": amazon, "service": service, "company": simulator.company, "settle": settle}
            finally:
                service.stop()
    return make
