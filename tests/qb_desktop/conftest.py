"""QuickBooks Desktop fixtures: Intuit's qbXML XSD and QBWC WSDL (test oracles, read from ../shared/reference),
and a served pipeline with the Amazon sandbox as the source and the simulated Web Connector polling it."""

from __future__ import annotations

import contextlib

import pytest

from sandbox_helpers import amazon_env, bigcommerce_env, load_shipped, sandbox_running, web_connector


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


@pytest.fixture
def qbd_world(tmp_path, qbxml_xsd):
    """`make(orders=…)` → the Amazon sandbox, a served amazon-to-qbd pipeline, and the simulator (validating every
    request against the XSD) whose Web Connector polls it when the test calls `w["poll"]()`."""
    pytest.importorskip("lxml")

    @contextlib.contextmanager
    def make(orders: int = 12, source: str = "amazon_sp"):
        with sandbox_running(source, orders=orders) as (store_url, _):
            name = "amazon-to-qbd.yaml" if source == "amazon_sp" else "bigcommerce-to-qbd.yaml"
            env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(store_url),
                   **bigcommerce_env(store_url)}
            pipeline = load_shipped(tmp_path, name, env)
            with web_connector(pipeline, qbxml_xsd) as bridge:
                yield {"wait_idle": bridge.wait_idle, "service": bridge.service, "simulator": bridge.simulator,
                       "company": bridge.company, "url": bridge.url, "qbwc": bridge.qbwc, "settle": bridge.settle,
                       "pipeline": pipeline, "amazon": store_url}
    return make
