"""The designer in a real browser (Playwright driving Debian's chromium, launched as the console's browser test
does) against a real `ledgerlink serve --workspace` and the Amazon and QuickBooks Online sandboxes: a bookkeeper
builds an Amazon → QuickBooks Online pipeline from the generated forms (check, then save), maps two accounts from
the ledger's own list, runs it and sees the receipts posted in the QuickBooks sandbox with those accounts, then
previews a receipt with an edited template (its difference and the posted receipts it would revise) and a template
with an undefined variable (the line is named)."""

from __future__ import annotations


import httpx
import pytest
from click.testing import CliRunner

from ledgerlink.cli import cli
from sandbox_helpers import amazon_env, qbo_env, sandbox_running, wait_for, write_shipped
from console_browser import CHROMIUM, PASSWORD, serving  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="needs `playwright` (the test extra)")

NAME = "amazon-to-qbo-designed"
ORDERS = 4


@pytest.fixture
def served(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    with sandbox_running("amazon_sp", orders=ORDERS, uk_orders=0) as (amazon_url, _), \
            sandbox_running("qbo") as (qbo_url, qbo):
        write_shipped(ws, "qbo-inventory-to-amazon.yaml")  # the workspace's pipeline so far
        added = CliRunner().invoke(cli, ["users", "add", "betty", "--role", "bookkeeper", "--workspace", str(ws)],
                                   input=f"{PASSWORD}\n")
        assert added.exit_code == 0, added.output
        with serving(ws, {**amazon_env(amazon_url), **qbo_env(qbo_url)}) as base:
            yield base, amazon_url, qbo_url, qbo, ws


def _fill(page, values: dict[str, str]) -> None:
    for name, value in values.items():
        page.fill(f"[name='{name}']", value)


def test_a_bookkeeper_builds_maps_previews_and_runs_a_pipeline_in_a_browser(served, shots):
    base, amazon_url, qbo_url, qbo, ws = served
    o = qbo.options
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)
            page.goto(f"{base}/signin")
            page.fill("input[name=name]", "betty")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("text=Overview")

            # pick a source and a destination; their forms come from the connectors' specs
            page.click("nav >> text=Designer")
            page.select_option("select[name=source]", "amazon_sp")
            page.select_option("select[name=destination]", "qbo")
            page.click("text=Next")
            page.wait_for_selector("input[name='source.client_secret'][type=password]")
            _fill(page, {"name": NAME, "streams": "orders, order_items",
                         "source.endpoint": amazon_url, "source.lwa_endpoint": f"{amazon_url}/auth/o2/token",
                         "source.client_id": "amzn1.application-oa2-client.sandbox",
                         "source.client_secret": "sandbox-lwa-client-secret",
                         "source.refresh_token": "Atzr|sandbox-refresh-token",
                         "source.marketplace_ids": "ATVPDKIKX0DER", "source.start_date": "2026-01-01T00:00:00Z",
                         "destination.base_url": qbo_url, "destination.token_url": f"{qbo_url}/oauth2/v1/tokens/bearer",
                         "destination.realm_id": o.realm_id, "destination.client_id": o.client_id,
                         "destination.client_secret": o.client_secret, "destination.refresh_token": o.refresh_token,
                         "destination.requests_per_minute": "500000"})
            page.screenshot(path=str(shots / "designer-new.png"), full_page=True)
            page.click("button[value=diff]")
            page.wait_for_selector("#outcome >> text=check destination qbo: succeeded")
            outcome = page.inner_text("#outcome")
            assert "check source amazon_sp: succeeded" in outcome and f"+name: {NAME}" in outcome
            assert o.client_secret not in outcome and not (ws / f"{NAME}.yaml").exists()  # shown, not saved
            page.click("button[value=save]")
            page.wait_for_selector("#outcome >> text=Map it")  # only a saved pipeline offers it
            page.screenshot(path=str(shots / "designer-saved.png"), full_page=True)
            assert (ws / f"{NAME}.yaml").exists()

            # map two accounts, chosen from the ledger's own account list (read from QuickBooks)
            page.click("#outcome >> text=Map it")
            page.wait_for_selector("#options")
            assert page.locator("#list-Account option[value='Checking']").count() == 1
            assert page.locator("#list-Item option").count() > 0
            page.fill("[name='options.income_account']", "Services")
            page.fill("[name='options.deposit_account']", "Checking")
            page.locator("#options button[value=diff]").click()
            page.wait_for_selector("#result-options >> text=deposit_account: Checking")
            assert "+    income_account: Services" in page.inner_text("#result-options")
            page.locator("#options button[value=save]").click()
            page.wait_for_selector("#result-options p.ok")  # "Saved …" (the diff before said "Not saved yet")
            page.screenshot(path=str(shots / "designer-pipeline.png"), full_page=True)
            text = (ws / f"{NAME}.yaml").read_text()
            assert "income_account: Services" in text and "deposit_account: Checking" in text
            assert "# one customer per marketplace and currency" in text  # the example's comments kept

            # run it, and see the receipts posted in the QuickBooks sandbox, deposited to the mapped account
            page.goto(f"{base}/")
            page.locator("section", has_text=NAME).locator("button", has_text="Run now").click()
            page.wait_for_selector("text=a sync is queued")
            cookies = {c["name"]: c["value"] for c in page.context.cookies()}

            def finished() -> bool:
                runs = httpx.get(f"{base}/api/v1/pipelines/{NAME}/runs", cookies=cookies).json()
                return bool(runs) and runs[0]["status"] in ("succeeded", "failed")

            assert wait_for(finished, 120)
            run = httpx.get(f"{base}/api/v1/pipelines/{NAME}/runs", cookies=cookies).json()[0]
            assert run["status"] == "succeeded", run
            receipts = list(qbo.company.entities.get("SalesReceipt", {}).values())
            letters = httpx.get(f"{base}/api/v1/pipelines/{NAME}/dead-letters", cookies=cookies).json()
            assert receipts, f"no sales receipt was posted: {letters}"
            checking = qbo.company.id_named("Account", "Checking")
            assert {r["DepositToAccountRef"]["value"] for r in receipts} == {checking}
            services = qbo.company.id_named("Account", "Services")
            created = [i for i in qbo.company.entities["Item"].values() if str(i.get("Sku") or "").startswith("LL-")]
            assert created and {i["IncomeAccountRef"]["value"] for i in created} == {services}

            # preview a receipt with an edited template: the document, its difference, the receipts it revises
            page.goto(f"{base}/designer/{NAME}/templates/sales_receipt.json.j2")
            template = page.input_value("textarea[name=text]")
            edited = template.replace('"ApplyTaxAfterDiscount": false,',
                                      '"ApplyTaxAfterDiscount": false,\n  "CustomerMemo": {"value": "Thank you"},')
            assert edited != template
            page.fill("textarea[name=text]", edited)
            page.click("button:has-text('Preview')")
            page.wait_for_selector("#preview-body")
            preview = page.inner_text("#preview-body")
            assert "CustomerMemo" in preview and "Thank you" in preview
            assert "would become a revision" in preview and "posted document(s) revisions" in preview
            page.screenshot(path=str(shots / "designer-preview.png"), full_page=True)

            broken = edited.replace("{{ order.currency }}", "{{ order.currencyy }}")
            line = broken.splitlines().index(next(ln for ln in broken.splitlines() if "currencyy" in ln)) + 1
            page.fill("textarea[name=text]", broken)
            page.click("button:has-text('Preview')")
            page.wait_for_selector("#preview-body >> text=undefined value")
            assert f"sales_receipt.json.j2, line {line}: undefined value" in page.inner_text("#preview-body")
            page.screenshot(path=str(shots / "designer-preview-error.png"), full_page=True)
            page.locator("button[value=save]").click()
            page.wait_for_selector("#preview >> text=Nothing was saved")
            assert "mappings" not in (ws / f"{NAME}.yaml").read_text().split("options:")[1].replace("# mappings", "")
        finally:
            browser.close()
