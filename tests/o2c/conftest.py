"""Fixtures for the order-to-cash tests (QuickBooks Online): a fresh QBO sandbox per test, and the QBO plugin
tests' helpers (orders, plan context, outbox round trip)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "qbo"))

from qbo_helpers import live  # noqa: E402,F401  (a fixture)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sandbox_options(**options): options for the `live` QBO sandbox")
