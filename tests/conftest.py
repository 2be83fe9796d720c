"""Shared fixtures: where the vendor reference files are, and a clean plugin host per test."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """../shared/reference: vendor schemas and samples, read as test oracles (never copied into the package)."""
    if not REFERENCE.exists():
        pytest.skip(f"vendor reference files not found at {REFERENCE}")
    return REFERENCE


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(autouse=True)
def _fresh_plugin_host(monkeypatch):
    """Tests that change LEDGERLINK_* plugin variables must not leak a cached host into others."""
    from ledgerlink import plugins

    plugins.reset_host()
    yield
    plugins.reset_host()
