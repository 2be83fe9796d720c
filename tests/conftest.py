"""Shared fixtures: where the vendor reference files are, and a clean plugin host per test (the set-ups several
folders share, sandboxes and the Web Connector, are in `sandbox_helpers`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox_helpers import qbxml_xsd_path

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """../shared/reference: vendor schemas and samples, read as test oracles (never copied into the package)."""
    if not REFERENCE.exists():
        pytest.skip(f"vendor reference files not found at {REFERENCE}")
    return REFERENCE


@pytest.fixture(scope="session")
def qbxml_xsd(reference_dir: Path) -> Path:
    """Intuit's qbXML XSD, which the QuickBooks Desktop simulator validates every request against."""
    return qbxml_xsd_path(reference_dir)


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


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch):
    """Real backoff waits are seconds; the suite keeps the same behaviour with millisecond waits."""
    monkeypatch.setenv("LEDGERLINK_RETRY_BASE_DELAY", "0.01")
    monkeypatch.setenv("LEDGERLINK_RETRY_MAX_DELAY", "0.05")


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where the browser tests write their screenshots for a person to look at ($LEDGERLINK_SCREENSHOTS, or the
    test's tmp folder)."""
    import os

    folder = Path(os.environ.get("LEDGERLINK_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
