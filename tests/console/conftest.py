"""The console's test set-up: a workspace of fake pipelines already synced once, with a clock the tests move, a
user of each role and a TestClient over the console app (see console_helpers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from console_helpers import PASSWORD, Clock, Console, fakes, write_pipeline
from ledgerlink.console import Workspace


@pytest.fixture
def console(tmp_path: Path) -> Any:
    host = fakes.fresh_host(tmp_path)
    ws_dir = tmp_path / "ws"
    ws_dir.mkdir()
    write_pipeline(ws_dir, "shop", no_sku=[1])
    write_pipeline(ws_dir, "outlet", orders=2)
    (ws_dir / "notes.yaml").write_text("just: a note\n")  # not a pipeline: ignored
    clock = Clock()
    lines: list[str] = []
    workspace = Workspace.open(ws_dir, host, every=None, debounce=0, announce=lines.append, clock=clock)
    for service in workspace.services.values():
        service._run("test set-up")  # one synchronous sync each (no thread: deterministic)
    workspace.start()
    workspace.lines = lines  # type: ignore[attr-defined]
    for role in ("viewer", "bookkeeper", "admin"):
        workspace.accounts.add(role, role, PASSWORD)
    yield Console(workspace, clock)
    workspace.stop()


@pytest.fixture
def review_console(tmp_path: Path) -> Any:
    """One pipeline with `review: always`, synced once: its 4 receipts await approval (see `receipt_key`)."""
    host = fakes.fresh_host(tmp_path)
    ws_dir = tmp_path / "ws"
    ws_dir.mkdir()
    (ws_dir / "shop.yaml").write_text(
        f"name: shop\nstate: {ws_dir / 'shop.duckdb'}\nreview: always\n"
        "source: {connector: fake_source, config: {orders: 4}}\ndestination: {connector: fake_dest, config: {}}\n")
    workspace = Workspace.open(ws_dir, host, every=None, debounce=0, announce=lambda line: None, clock=Clock())
    workspace.services["shop"]._run("test set-up")
    workspace.start()
    for role in ("viewer", "bookkeeper", "admin"):
        workspace.accounts.add(role, role, PASSWORD)
    yield Console(workspace, Clock())
    workspace.stop()


@pytest.fixture
def chromium() -> Any:
    """Debian's chromium driven by Playwright (its own browser download is not used); skips without them."""
    from console_browser import CHROMIUM

    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (`apt-get install -y chromium`)")
    api = pytest.importorskip("playwright.sync_api", reason="needs `playwright` (the test extra)")
    with api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()
