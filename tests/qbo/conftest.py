"""Fixtures for the QuickBooks Online plugin: a fresh sandbox on a real loopback socket per test."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from ledgerlink.sandbox import running
from ledgerlink_qbo import QuickBooksOnlineSandbox
from qbo_helpers import Live


@pytest.fixture
def live(request: pytest.FixtureRequest) -> Iterator[Live]:
    """A fresh sandbox per test (options from `@pytest.mark.sandbox_options(...)`)."""
    marker = request.node.get_closest_marker("sandbox_options")
    sandbox = QuickBooksOnlineSandbox(**(marker.kwargs if marker else {}))
    with running(sandbox) as url, httpx.Client(base_url=url, timeout=10) as http:
        yield Live(sandbox, url, http)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sandbox_options(**options): options for the `live` QBO sandbox")
