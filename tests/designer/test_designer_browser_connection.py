"""Connection settings edited in a real browser (Playwright with Debian's chromium, against a real `ledgerlink
serve`): the form comes from the connectors' specs and shows the file's `${VARIABLE}`s as written and no secret;
a changed setting is checked before it is saved; a secret typed wrong fails its check and saves nothing; typed
right it is stored encrypted and the file names it — the YAML on disk never holds it."""

from __future__ import annotations

import pytest

from console_browser import CHROMIUM, PASSWORD
from ledgerlink.connect.accounts import workspace_credentials_path
from ledgerlink.store.shared_credentials import SharedCredentials
from test_designer_browser import served  # noqa: F401 - the served workspace (a real serve and the sandboxes)

playwright_api = pytest.importorskip("playwright.sync_api", reason="needs `playwright` (the test extra)")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")]
PIPELINE = "qbo-inventory-to-amazon"


@pytest.fixture
def chromium():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def test_connection_settings_are_checked_and_a_typed_secret_is_stored_not_written(served, shots, chromium):  # noqa: F811
    base, _, _, qbo, ws = served
    path = ws / f"{PIPELINE}.yaml"
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(60_000)
    page.goto(f"{base}/signin")
    page.fill("input[name=name]", "betty")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Overview")
    page.goto(f"{base}/designer/{PIPELINE}")
    form = page.locator("#connection")
    assert page.input_value("[name='source.base_url']").startswith("${QBO_BASE_URL")
    assert page.input_value("[name='source.client_secret']") == ""  # a secret is never shown
    assert page.get_attribute("[name='source.client_secret']", "type") == "password"

    page.fill("[name='source.requests_per_minute']", "400")
    form.locator("button[value=diff]").click()
    page.wait_for_selector("#result-connection >> text=check source qbo: succeeded")
    assert "+    requests_per_minute: 400" in page.inner_text("#result-connection")
    form.locator("button[value=save]").click()
    page.wait_for_selector("#result-connection p.ok >> text=/^Saved /")
    text = path.read_text()
    assert "requests_per_minute: 400" in text and "client_secret: ${QBO_CLIENT_SECRET" in text

    page.goto(f"{base}/designer/{PIPELINE}")
    page.fill("[name='source.client_secret']", "not-the-secret")
    page.locator("#connection button[value=save]").click()
    page.wait_for_selector("#result-connection >> text=A check failed: nothing was saved.")
    assert "not-the-secret" not in page.inner_text("#result-connection") and path.read_text() == text

    page.goto(f"{base}/designer/{PIPELINE}")
    page.fill("[name='source.client_secret']", qbo.options.client_secret)
    page.locator("#connection button[value=save]").click()
    page.wait_for_selector("#result-connection p.ok >> text=/^Saved /")
    page.screenshot(path=str(shots / "designer-connection.png"), full_page=True)
    written = path.read_text()
    assert f"client_secret: ${{secret:pipeline:{PIPELINE}:source.client_secret}}" in written
    assert qbo.options.client_secret not in written
    stored = SharedCredentials(workspace_credentials_path(ws))
    assert stored.load(f"pipeline:{PIPELINE}:source.client_secret") == qbo.options.client_secret
