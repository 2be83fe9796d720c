"""Fixtures for the order-to-cash tests (QuickBooks Online): a fresh QBO sandbox per test, and the QBO plugin
tests' helpers (orders, plan context, outbox round trip)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "qbo"))

from ledgerlink.sandbox import running  # noqa: E402
from ledgerlink_qbo import QuickBooksOnlineSandbox  # noqa: E402
from qbo_helpers import Live  # noqa: E402


@pytest.fixture
def live(request: pytest.FixtureRequest) -> Iterator[Live]:
    """A fresh sandbox per test (options from `@pytest.mark.sandbox_options(...)`)."""
    marker = request.node.get_closest_marker("sandbox_options")
    sandbox = QuickBooksOnlineSandbox(**(marker.kwargs if marker else {}))
    with running(sandbox) as url, httpx.Client(base_url=url, timeout=10) as http:
        yield Live(sandbox, url, http)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sandbox_options(**options): options for the `live` QBO sandbox")
