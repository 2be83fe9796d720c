"""The console in a real browser: Playwright driving Debian's chromium (`/usr/bin/chromium`; Playwright's own
browser download is not used) against a real `ledgerlink serve --workspace` subprocess on a free loopback port,
its pipelines pointed at the sandboxes. Signs in, runs a sync (the sales pipeline has `review: always`: its
documents wait), approves one on the review page and sees it posted by the run that follows, retries a dead letter (a settlement on hold),
opens a settlement and follows a journal line to its report rows. A screenshot of each page is written to
$LEDGERLINK_SCREENSHOTS (or the test's tmp folder) for a person to look at."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from ledgerlink.cli import cli
from sandbox_helpers import bigcommerce_env, qbo_env, sandbox_running, wait_for, write_shipped

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "a long enough password"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                       "(`apt-get install -y chromium`; Playwright's own browser download is not used)"),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="needs `playwright` (the test extra)")

SETTLEMENT = "24288684721"
HELD = "30000000001"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        time.sleep(0.1)
        return False


def _seed_settlements(state: Path) -> None:
    """A settlements pipeline's state file as a sync leaves it: one payout planned (two monthly journals) and one
    on hold because the report's total disagrees with its rows."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "settlements"))
    from settlement_helpers import PlanCtx, line, order_rows, settlement

    from ledgerlink.settlements import SettlementOnHold
    from ledgerlink.store import Store
    from ledgerlink_qbo.destination import QuickBooksOnlineDestination

    def payout(sid: str, total: str | None = None):
        return settlement([*order_rows(1, "111-1", "20.00", posted="2025-08-30"),
                           line(5, "other-transaction", "other-transaction", "Storage Fee", "-7.00",
                                posted="2025-08-31"),
                           *order_rows(10, "111-2", "50.00", posted="2025-09-02")],
                          start="2025-08-25", end="2025-09-08", sid=sid, total=total)

    state.parent.mkdir(parents=True, exist_ok=True)
    store = Store(state)
    run = store.runs.start("amazon-settlements-to-qbo", False)
    store.outbox.add("qbo", QuickBooksOnlineDestination().plan(payout(SETTLEMENT), PlanCtx()), run)
    held = payout(HELD, total="1.00")
    with pytest.raises(SettlementOnHold) as info:
        QuickBooksOnlineDestination().plan(held, PlanCtx())
    store.dead_letters.add(stage="plan", stream="settlements", record_key=held.natural_key, record=None,
                           error=info.value, run_id=run)
    store.runs.finish(run, "succeeded", {"read_total": 2, "plan_dead_letters": 1}, {})
    store.close()


@pytest.fixture
def served(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    with sandbox_running("bigcommerce", orders=4) as (bc_url, _), sandbox_running("qbo") as (qbo_url, _):
        # review before posting: the sync plans the orders and they wait for approval
        write_shipped(ws, "bigcommerce-to-qbo.yaml", edit=lambda text: text.rstrip("\n") + "\nreview: always\n")
        write_shipped(ws, "amazon-settlements-to-qbo.yaml")
        _seed_settlements(ws / ".ledgerlink" / "amazon-settlements-to-qbo.duckdb")
        added = CliRunner().invoke(cli, ["users", "add", "betty", "--role", "bookkeeper", "--workspace", str(ws)],
                                   input=f"{PASSWORD}\n")
        assert added.exit_code == 0, added.output
        env = {**os.environ, **bigcommerce_env(bc_url), **qbo_env(qbo_url)}
        port = _free_port()
        serve = subprocess.Popen([str(Path(sys.executable).parent / "ledgerlink"), "serve", "--workspace", ".",
                                  "--port", str(port), "--every", "0"], cwd=ws, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert wait_for(lambda: serve.poll() is None and _answers(f"http://127.0.0.1:{port}/healthz"), 60), \
                serve.stderr.read() if serve.poll() is not None else "serve did not answer"
            yield f"http://127.0.0.1:{port}"
        finally:
            serve.send_signal(signal.SIGINT)
            try:
                serve.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                serve.kill()
                serve.communicate(timeout=10)


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("LEDGERLINK_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_bookkeeper_uses_the_console_in_a_browser(served, shots):
    base = served
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            page.goto(f"{base}/")
            assert "/signin" in page.url  # every page needs a signed-in user
            page.screenshot(path=str(shots / "signin.png"), full_page=True)
            page.fill("input[name=name]", "betty")
            page.fill("input[name=password]", "wrong password!")
            page.click("button[type=submit]")
            assert "wrong user name or password" in page.inner_text("main")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("text=Overview")
            assert "betty (bookkeeper)" in page.inner_text("header")

            # run the sales pipeline now; its run shows on the runs page
            page.locator("section", has_text="bigcommerce-to-qbo").locator("button", has_text="Run now").click()
            page.wait_for_selector("text=a sync is queued")
            cookies = {c["name"]: c["value"] for c in page.context.cookies()}

            def run_finished() -> bool:
                section = httpx.get(f"{base}/runs-history", cookies=cookies).text.split("<h2>bigcommerce-to-qbo", 1)
                return len(section) == 2 and "<td>succeeded" in section[1].split("</section>", 1)[0]

            assert wait_for(run_finished, 90)

            # the run held its documents for review: approve one, and the run that follows posts it
            page.goto(f"{base}/review")
            queue = page.locator("section", has_text="bigcommerce-to-qbo")
            assert queue.locator("article.review-doc").count() >= 2
            assert "Source rows" in queue.inner_text()
            page.screenshot(path=str(shots / "review.png"), full_page=True)
            first = queue.locator("input[name=keys]").first
            key = first.get_attribute("value")
            first.check()
            page.click("text=Approve selected")
            page.wait_for_selector("#result li")
            assert f"{key}: approved" in page.inner_text("#result")
            page.screenshot(path=str(shots / "review-approved.png"), full_page=True)
            approved_api = f"{base}/api/v1/pipelines/bigcommerce-to-qbo/review?status=approved"

            def posted() -> bool:
                items = httpx.get(approved_api, cookies=cookies).json()["items"]
                return [(i["key"], i["outbox_status"]) for i in items] == [(key, "done")]

            assert wait_for(posted, 90)
            page.goto(f"{base}/review")
            assert key not in page.inner_text("main")  # posted: no longer awaiting approval

            page.goto(f"{base}/")
            page.screenshot(path=str(shots / "overview.png"), full_page=True)
            page.goto(f"{base}/runs-history")
            assert page.locator("svg.chart").count() == 2
            page.screenshot(path=str(shots / "runs.png"), full_page=True)

            # the payout on hold is a dead letter: retry it, and see the result in place
            page.goto(f"{base}/dead-letters")
            held = page.locator("article.letter", has_text=HELD)
            assert "total" in held.inner_text().lower()
            page.screenshot(path=str(shots / "dead-letters.png"), full_page=True)
            held.locator("input[name=ids]").check()
            page.click("text=Retry selected")
            page.wait_for_selector("#result li")
            assert "dead letter" in page.inner_text("#result")
            page.screenshot(path=str(shots / "dead-letters-retried.png"), full_page=True)

            # a settlement: its journal lines by account, then from a line to the report rows it sums
            page.goto(f"{base}/settlements")
            page.screenshot(path=str(shots / "settlements.png"), full_page=True)
            page.click(f"text={SETTLEMENT}")
            page.wait_for_selector("text=Report rows")
            assert "Amazon Sales" in page.inner_text("main")
            page.locator("a.rowlink", has_text="row 1").first.click()
            page.wait_for_selector("tr.picked")
            assert page.locator("tr.picked").inner_text().startswith("1")
            page.screenshot(path=str(shots / "settlement.png"), full_page=True)

            for name in ("revisions", "reconcile"):
                page.goto(f"{base}/{name}")
                page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
            page.goto(f"{base}/trace?stream=orders&key=100")
            page.screenshot(path=str(shots / "trace.png"), full_page=True)

            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.context.add_cookies(page.context.cookies())
            phone.goto(f"{base}/")
            phone.screenshot(path=str(shots / "overview-phone.png"), full_page=True)
            page.click("text=Sign out")
            page.wait_for_selector("text=Sign in")
        finally:
            browser.close()
    assert len(list(shots.glob("*.png"))) >= 12
