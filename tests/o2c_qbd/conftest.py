"""Order-to-cash in QuickBooks Desktop, end to end: a store sandbox → a served pipeline (the shipped
`*-to-qbd.yaml`, with options changed per test) → the simulated Web Connector and company file, which
validates every request against Intuit's qbXML XSD (read from ../shared/reference, never shipped)."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import pytest
import yaml

from sandbox_helpers import amazon_env, bigcommerce_env, load_shipped, sandbox_running, web_connector


@pytest.fixture
def o2c(tmp_path, qbxml_xsd):
    """`make(source, orders=…, options={…}, source_config={…}, multicurrency=False)` → a dict with the store
    sandbox URL, the service, the simulated company file, `sync()` (sync, then poll until nothing waits) and
    `store_call(method, path, json)` for the sandbox's own API."""
    pytest.importorskip("lxml")

    @contextlib.contextmanager
    def make(source: str = "bigcommerce", orders: int = 3, options: dict[str, Any] | None = None,
             source_config: dict[str, Any] | None = None, multicurrency: bool = False):
        def edit(text: str) -> str:
            spec = yaml.safe_load(text)
            spec["destination"]["options"].update(options or {})
            spec["source"]["config"].update(source_config or {})
            return yaml.safe_dump(spec, sort_keys=False)

        with sandbox_running(source, orders=orders) as (store_url, _):
            name = "amazon-to-qbd.yaml" if source == "amazon_sp" else "bigcommerce-to-qbd.yaml"
            env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(store_url),
                   **bigcommerce_env(store_url)}
            pipeline = load_shipped(tmp_path, name, env, edit)
            with httpx.Client(base_url=store_url, timeout=10, headers={
                    "X-Auth-Token": "sandbox-bigcommerce-token", "Accept": "application/json"}) as http, \
                    web_connector(pipeline, qbxml_xsd, multicurrency=multicurrency) as bridge:

                def sync() -> list[dict]:
                    bridge.service.trigger("test")
                    return bridge.settle(expect=("done", "none", "lost_response"))

                def store_call(method: str, path: str, json: Any = None) -> Any:
                    response = http.request(method, path, json=json)
                    assert response.status_code < 300, response.text
                    return response.json()

                yield {"service": bridge.service, "store": bridge.service.store, "company": bridge.company,
                       "sync": sync, "simulator": bridge.simulator, "store_call": store_call, "url": store_url}
    return make
