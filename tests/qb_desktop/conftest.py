"""QuickBooks Desktop fixtures: Intuit's qbXML XSD and QBWC WSDL (test oracles, read from ../shared/reference),
and a served pipeline with the Amazon sandbox as the source and the simulated Web Connector polling it."""

from __future__ import annotations

import contextlib
import time
from importlib import resources
from pathlib import Path

import pytest

from ledgerlink.pipeline import load_pipeline
from ledgerlink.plugins import host
from ledgerlink.sandbox import running, running_app
from ledgerlink.serve import PipelineService, build_app


@pytest.fixture(scope="session")
def qbxml_xsd(reference_dir) -> Path:
    path = reference_dir / "qbxml" / "xsd-16.0" / "qbxmlops160.xsd"
    if not path.exists():
        pytest.skip("qbXML XSD not found")
    return path


@pytest.fixture(scope="session")
def qbxml_schema(qbxml_xsd):
    etree = pytest.importorskip("lxml.etree")
    return etree.XMLSchema(etree.parse(str(qbxml_xsd)))


@pytest.fixture(scope="session")
def assert_valid_qbxml(qbxml_schema):
    from lxml import etree

    def check(text: str) -> None:
        doc = etree.fromstring(text.encode("utf-8"))
        assert qbxml_schema.validate(doc), f"{qbxml_schema.error_log.last_error}\n{text[:2000]}"
    return check


def wait_for(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def qbd_world(tmp_path, qbxml_xsd):
    """`make(orders=…)` → the Amazon sandbox, a served amazon-to-qbd pipeline, and the simulator (validating every
    request against the XSD) whose Web Connector polls it when the test calls `w["poll"]()`."""
    pytest.importorskip("lxml")
    sandboxes = host().sandboxes()

    @contextlib.contextmanager
    def make(orders: int = 12, source: str = "amazon_sp"):
        with running(sandboxes[source](orders=orders, time_scale=1000)) as store_url:
            name = "amazon-to-qbd.yaml" if source == "amazon_sp" else "bigcommerce-to-qbd.yaml"
            pipeline_file = tmp_path / name
            pipeline_file.write_text(resources.files("ledgerlink").joinpath("data", name).read_text())
            env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), "AMAZON_SP_ENDPOINT": store_url,
                   "AMAZON_LWA_ENDPOINT": f"{store_url}/auth/o2/token", "BIGCOMMERCE_BASE_URL": store_url}
            amazon = store_url
            pipeline = load_pipeline(pipeline_file, env=env)
            service = PipelineService(pipeline, host(), every=None, debounce=0.05)
            service.start()
            simulator = sandboxes["qb_desktop"](xsd=str(qbxml_xsd), poll_every_s=0)
            try:
                with running_app(build_app(service)) as url:
                    qbwc = f"{url}/qbwc/"

                    def settle(max_polls: int = 30) -> list[dict]:
                        """Sync, then let the Web Connector poll until nothing waits (syncs run in between)."""
                        outcomes = []
                        for _ in range(max_polls):
                            assert wait_for(lambda: service.idle)
                            outcome = simulator.poll(qbwc)
                            outcomes.append(outcome)
                            if outcome["result"] == "none":
                                time.sleep(0.1)
                                if service.idle:
                                    outcome = simulator.poll(qbwc)
                                    if outcome["result"] == "none":
                                        return outcomes
                        raise AssertionError(f"the queue did not drain: {outcomes[-5:]}")

                    def wait_idle() -> None:
                        assert wait_for(lambda: service.idle)

                    yield {"wait_idle": wait_idle, "service": service, "simulator": simulator, "company": simulator.company, "url": url,
                           "qbwc": qbwc, "settle": settle, "pipeline": pipeline, "amazon": amazon}
            finally:
                service.stop()
    return make
