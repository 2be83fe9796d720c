"""Connecting QuickBooks Online in a real browser: Debian's chromium (through Playwright) signs in to a real
`ledgerlink serve --workspace` subprocess, presses Connect, lands on the QBO sandbox's consent page (another
origin, as Intuit's is), chooses Connect there, comes back to the console's callback, and the next run posts the
orders with the stored token. The launch helpers are the console browser test's."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))

from console_browser import CHROMIUM, PASSWORD, serving  # noqa: E402

playwright_api = pytest.importorskip("playwright.sync_api", reason="needs `playwright` (the test extra)")

from connect_helpers import qbo_pipeline  # noqa: E402
from ledgerlink.cli import cli  # noqa: E402
from sandbox_helpers import sandbox_running, wait_for  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")]


@pytest.fixture
def served(tmp_path: Path):
    ws = tmp_path / "ws"
    ws.mkdir()
    with sandbox_running("qbo") as (qbo_url, qbo), sandbox_running("amazon_sp", orders=3) as (amazon_url, _):
        qbo_pipeline(ws, "shop", qbo_url, amazon_url)
        added = CliRunner().invoke(cli, ["users", "add", "ada", "--role", "admin", "--workspace", str(ws)],
                                   input=f"{PASSWORD}\n")
        assert added.exit_code == 0, added.output
        with serving(ws, {}) as base:
            yield base, qbo_url, qbo, ws


def test_connect_quickbooks_online_in_a_browser(served, tmp_path: Path) -> None:
    base, qbo_url, qbo, ws = served
    shots = Path(os.environ.get("LEDGERLINK_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            page.goto(f"{base}/connections")
            assert "/signin" in page.url
            page.fill("input[name=name]", "ada")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("text=Connections")
            row = page.locator("#slot-shop-destination")
            assert row.get_attribute("data-status") == "not connected"
            page.screenshot(path=str(shots / "connections.png"), full_page=True)

            row.locator("button", has_text="Connect").click()
            page.wait_for_selector("#allow")  # the sandbox's consent page, on QuickBooks' own origin
            assert page.url.startswith(f"{qbo_url}/connect/oauth2?")
            assert "Sandbox Company_US_1" in page.inner_text("#company")
            page.screenshot(path=str(shots / "consent.png"), full_page=True)
            page.click("#allow")

            page.wait_for_selector("#result")
            assert page.url.startswith(f"{base}/connections/callback?")
            assert "QuickBooks company 9341455000000000 is connected" in page.inner_text("#result")
            page.goto(f"{base}/connections")
            assert page.locator("#slot-shop-destination").get_attribute("data-status") == "connected"
            assert "by ada" in page.locator("#slot-shop-destination").inner_text()

            # the next run posts with the stored (and then rotated) token
            page.goto(f"{base}/")
            page.locator("section", has_text="shop").locator("button", has_text="Run now").click()
            page.wait_for_selector("text=a sync is queued")
            assert wait_for(lambda: qbo.stats["saved.SalesReceipt"] == 3, 90), dict(qbo.stats)
            cookies = {c["name"]: c["value"] for c in page.context.cookies()}
            assert wait_for(lambda: "<td>succeeded" in httpx.get(f"{base}/runs", cookies=cookies).text, 60)
        finally:
            browser.close()
