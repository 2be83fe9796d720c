"""Fixtures for the QuickBooks Online plugin: a fresh sandbox on a real loopback socket per test (`live`, shared
with the order-to-cash tests through qbo_helpers)."""

from __future__ import annotations

import pytest

from qbo_helpers import live  # noqa: F401  (a fixture)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sandbox_options(**options): options for the `live` QBO sandbox")
