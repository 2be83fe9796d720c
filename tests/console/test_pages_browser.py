"""The console in a real browser: Playwright driving Debian's chromium (`/usr/bin/chromium`; Playwright's own
browser download is not used) against a real `ledgerlink serve --workspace` subprocess on a free loopback port,
its pipelines pointed at the sandboxes. Signs in, runs a sync (the sales pipeline has `review: always`: its
documents wait), approves one on the review page and sees it posted in the
QuickBooks Online sandbox by the run that follows (the others not), approves the rest of the queue and sees each
posted exactly once, retries a dead letter (a settlement on hold),
opens a settlement and follows a journal line to its report rows. A screenshot of each page is written to
$LEDGERLINK_SCREENSHOTS (or the test's tmp folder) for a person to look at."""

from __future__ import annotations

import httpx
import pytest

from console_browser import HELD, PASSWORD, SETTLEMENT, add_user, seed_settlements, serving
from sandbox_helpers import bigcommerce_env, qbo_env, sandbox_running, wait_for, write_shipped

pytestmark = [pytest.mark.slow]


def posted_in_qbo(qbo: object, kind: str, key: str) -> list[dict]:
    """The documents of `kind` in the QuickBooks Online sandbox that the pipeline posted as `key` (every posted
    document's PrivateNote starts with `ledgerlink <key>`)."""
    return [doc for doc in qbo.company.entities.get(kind, {}).values()  # type: ignore[attr-defined]
            if str(doc.get("PrivateNote", "")).split("\n", 1)[0] == f"ledgerlink {key}"]


@pytest.fixture
def served(tmp_path):
    """The sales pipeline (review: always) over the BigCommerce and QuickBooks Online sandboxes, and the seeded
    settlements pipeline, served; `(base URL, the QBO sandbox)`."""
    ws = tmp_path / "ws"
    ws.mkdir()
    with sandbox_running("bigcommerce", orders=4) as (bc_url, _), sandbox_running("qbo") as (qbo_url, qbo):
        # review before posting: the sync plans the orders and they wait for approval
        write_shipped(ws, "bigcommerce-to-qbo.yaml", edit=lambda text: text.rstrip("\n") + "\nreview: always\n")
        write_shipped(ws, "amazon-settlements-to-qbo.yaml")
        seed_settlements(ws / ".ledgerlink" / "amazon-settlements-to-qbo.duckdb")
        add_user(ws)
        with serving(ws, {**bigcommerce_env(bc_url), **qbo_env(qbo_url)}) as base:
            yield base, qbo


def test_a_bookkeeper_uses_the_console_in_a_browser(served, shots, chromium):
    base, qbo = served
    browser = chromium
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
        section = httpx.get(f"{base}/runs", cookies=cookies).text.split("<h2>bigcommerce-to-qbo", 1)
        return len(section) == 2 and "<td>succeeded" in section[1].split("</section>", 1)[0]

    assert wait_for(run_finished, 90)

    # the run held its documents for review: approve one, and the run that follows posts it
    page.goto(f"{base}/review")
    queue = page.locator("section", has_text="bigcommerce-to-qbo")
    assert queue.locator("article.review-doc").count() >= 2
    assert "Source rows" in queue.inner_text()
    page.screenshot(path=str(shots / "review.png"), full_page=True)
    waiting = [box.get_attribute("value") for box in queue.locator("input[name=keys]").all()]
    assert not any(posted_in_qbo(qbo, k.split(":", 1)[0], k) for k in waiting)  # nothing posts unapproved
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
    # and it is in the ledger: exactly one document of its kind in the QuickBooks sandbox, the others still not
    (document,) = posted_in_qbo(qbo, key.split(":", 1)[0], key)
    assert document["Id"]
    assert not any(posted_in_qbo(qbo, k.split(":", 1)[0], k) for k in waiting if k != key)
    page.goto(f"{base}/review")
    assert key not in page.inner_text("main")  # posted: no longer awaiting approval

    # then the rest of the queue at once: every document posted, each exactly once, the first not again
    page.click("text=Approve all matching")
    page.wait_for_selector("#result li")
    assert all(f"{k}: approved" in page.inner_text("#result") for k in waiting if k != key)

    def all_posted() -> bool:
        items = httpx.get(f"{approved_api}&limit=1000", cookies=cookies).json()["items"]
        return sorted((i["key"], i["outbox_status"]) for i in items) == sorted((k, "done") for k in waiting)

    assert wait_for(all_posted, 90)
    assert all(len(posted_in_qbo(qbo, k.split(":", 1)[0], k)) == 1 for k in waiting)
    page.goto(f"{base}/review")
    queue = page.locator("section", has_text="bigcommerce-to-qbo")
    assert queue.locator("article.review-doc").count() == 0 and "Nothing awaits approval" in queue.inner_text()
    page.screenshot(path=str(shots / "review-empty.png"), full_page=True)

    page.goto(f"{base}/")
    page.screenshot(path=str(shots / "overview.png"), full_page=True)
    page.goto(f"{base}/runs")
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
    assert page.inner_text("#bank-check .verdict") == "ties"  # the deposit line is the report's total
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
    width = "document.documentElement.scrollWidth"  # wide tables scroll inside their own box, not the page
    phone.goto(f"{base}/")
    assert phone.evaluate(width) <= 390
    phone.screenshot(path=str(shots / "overview-phone.png"), full_page=True)
    phone.goto(f"{base}/settlements/amazon-settlements-to-qbo/{SETTLEMENT}")
    phone.wait_for_selector("text=Report rows")
    assert phone.evaluate(width) <= 390
    phone.screenshot(path=str(shots / "settlement-phone.png"), full_page=True)
    page.click("text=Sign out")
    page.wait_for_selector("text=Sign in")
    assert len(list(shots.glob("*.png"))) >= 12
