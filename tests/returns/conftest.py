"""Returns and refunds end to end: a store sandbox (Amazon or BigCommerce) and a QuickBooks sandbox over real
loopback sockets, driven by the shipped *returns* pipeline files; and the same for QuickBooks Desktop through
`ledgerlink serve` and the simulated Web Connector."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable

import pytest

from returns_helpers import AMAZON_START
from sandbox_helpers import amazon_env, bigcommerce_env, load_shipped, qbo_env, sandbox_running, web_connector


@pytest.fixture
def qbo_world(tmp_path: Path):
    """`make(source, orders)` → {store, qbo (sandbox objects), pipeline(edit=None), state}: the shipped
    `<source>-returns-to-qbo.yaml` pointed at both sandboxes; `edit` rewrites the file's text first."""

    @contextlib.contextmanager
    def make(source: str = "amazon_sp", orders: int = 60):
        with sandbox_running(source, orders=orders) as (store_url, store), sandbox_running("qbo") as (qbo_url, qbo):
            name = "amazon-returns-to-qbo.yaml" if source == "amazon_sp" else "bigcommerce-returns-to-qbo.yaml"
            env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(store_url),
                   **bigcommerce_env(store_url), "AMAZON_START_DATE": AMAZON_START,
                   **qbo_env(qbo_url, batch_per_minute="40000")}

            def pipeline(edit: Callable[[str], str] | None = None) -> Any:
                return load_shipped(tmp_path, name, env, edit)

            yield {"store": store, "qbo": qbo, "company": qbo.company, "pipeline": pipeline,
                   "state": tmp_path / "state.duckdb", "store_url": store_url}
    return make


@pytest.fixture
def qbd_world(tmp_path: Path, qbxml_xsd: Path):
    """`make(orders, edit)` → the Amazon sandbox, the served amazon-returns-to-qbd pipeline (its text rewritten by
    `edit`), and the simulator (every request checked against Intuit's qbXML XSD) whose Web Connector polls it on
    `settle()`."""

    @contextlib.contextmanager
    def make(orders: int = 60, edit: Callable[[str], str] | None = None):
        with sandbox_running("amazon_sp", orders=orders) as (store_url, amazon):
            env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(store_url),
                   "AMAZON_START_DATE": AMAZON_START}
            with web_connector(load_shipped(tmp_path, "amazon-returns-to-qbd.yaml", env, edit), qbxml_xsd) as bridge:

                def settle(max_polls: int = 40) -> None:
                    """Sync, then let the Web Connector poll until nothing waits."""
                    bridge.service.trigger("test")
                    bridge.settle(max_polls)

                yield {"amazon": amazon, "service": bridge.service, "company": bridge.company, "settle": settle}
    return make
