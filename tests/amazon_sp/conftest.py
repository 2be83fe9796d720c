"""Fixtures for the Amazon SP-API plugin tests: a sandbox on loopback, a config pointing at it, a source."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from ledgerlink import RetryPolicy, protocol
from ledgerlink_amazon_sp import AmazonSellingPartnerSource
from sandbox_helpers import sandbox_running

#: retries exactly as the client makes them, minus the waiting, so fault tests stay fast
FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01)


@pytest.fixture(scope="session")
def orders_model(reference_dir: Path) -> dict[str, Any]:
    """Amazon's official Orders v0 Swagger model (a test oracle, read from ../shared/reference)."""
    return json.loads((reference_dir / "amazon-sp-api" / "models" / "ordersV0.json").read_text())


@pytest.fixture
def make_config() -> Callable[..., dict[str, Any]]:
    def make(url: str, **overrides: Any) -> dict[str, Any]:
        config = {
            "endpoint": url, "lwa_endpoint": f"{url}/auth/o2/token",
            "client_id": "amzn1.application-oa2-client.test", "client_secret": "amzn1.oa2-cs.v1.sandbox-secret",
            "refresh_token": "Atzr|sandbox-refresh-token", "marketplace_ids": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"],
            "start_date": (datetime.now(timezone.utc) - timedelta(days=90)).isoformat(),
        }
        config.update(overrides)
        return config

    return make


@pytest.fixture
def sandbox() -> Callable[..., Any]:
    """`with sandbox(orders=50) as (url, sb):` runs the Amazon sandbox (time_scale 1000) on a loopback port."""
    return lambda **options: sandbox_running("amazon_sp", **options)


class RecordingTransport(httpx.HTTPTransport):
    """A real transport that remembers every request, to check what the client sent."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return super().handle_request(request)


@pytest.fixture
def recording_transport() -> RecordingTransport:
    return RecordingTransport()


ORDER_STREAMS = ("orders", "order_items", "orders_2026")


class _OrdersByDefault(AmazonSellingPartnerSource):
    """Reads only the orders streams when given no catalog: the tests using it are about orders, and a
    catalog-less read also reads every other family (inventory, finances, reports, settlements)."""

    def read(self, config: dict[str, Any], catalog: Any = None, state: Any = None) -> Any:
        if catalog is None:
            streams = [s for s in self.discover(config).streams if s.name in ORDER_STREAMS]
            catalog = protocol.ConfiguredCatalog(streams=[
                protocol.ConfiguredStream(stream=s, sync_mode=protocol.SyncMode.incremental,
                                          destination_sync_mode=protocol.DestinationSyncMode.append)
                for s in streams])
        return super().read(config, catalog, state)


@pytest.fixture
def make_source() -> Callable[..., AmazonSellingPartnerSource]:
    def make(transport: httpx.BaseTransport | None = None, *, orders_only: bool = True) -> AmazonSellingPartnerSource:
        cls = _OrdersByDefault if orders_only else AmazonSellingPartnerSource
        return cls(retry=FAST_RETRY, transport=transport)

    return make
