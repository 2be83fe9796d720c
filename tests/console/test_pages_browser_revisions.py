"""A held revision applied in a real browser and seen in the ledger: a settlements pipeline posts its two monthly
journals to the QuickBooks Online sandbox, the bookkeeper then moves FBA fees to another account (both journals
are held as revisions, nothing rewritten), and in the console under `ledgerlink serve` applies one of them, runs
the pipeline and finds the reversal and the new version in the sandbox, the other revision still held, and the
settlement's bank line tying to the staged report's total. Screenshots go where test_pages_browser's do."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from console_browser import SETTLEMENT_FILE_ID, add_user, run_finished, serving, settlements_pipeline, sign_in
from ledgerlink.pipeline import load_pipeline
from ledgerlink.runtime import sync
from ledgerlink.settlements import default_account_map
from sandbox_helpers import sandbox_running, wait_for

pytestmark = [pytest.mark.slow]

MOVED_TO = "Amazon Fulfilment Costs"


def journals(qbo: Any) -> list[dict[str, Any]]:
    """The sandbox company's journal entries, oldest first."""
    return sorted(qbo.company.entities.get("JournalEntry", {}).values(), key=lambda je: int(je["Id"]))


def net(entries: list[dict[str, Any]], account: str) -> Decimal:
    """What the entries post to `account`, debits positive."""
    total = Decimal(0)
    for je in entries:
        for line in je["Line"]:
            detail = line["JournalEntryLineDetail"]
            if detail["AccountRef"].get("name") == account:
                amount = Decimal(str(line["Amount"]))
                total += amount if detail["PostingType"] == "Debit" else -amount
    return total


@pytest.fixture
def held(tmp_path):
    """Two posted journals and, after the account-map change, their two held revisions; served."""
    ws = tmp_path / "ws"
    ws.mkdir()
    accounts = {role.value: acc.name for role, acc in default_account_map().accounts.items()}
    with sandbox_running("qbo") as (qbo_url, qbo):
        first = sync(load_pipeline(settlements_pipeline(ws, qbo_url, accounts=accounts)))
        assert first.status == "succeeded" and first.counts["created"].get("JournalEntry") == 2, first.counts
        changed = settlements_pipeline(ws, qbo_url, accounts={**accounts, "fba_fees": MOVED_TO})
        second = sync(load_pipeline(changed))
        assert second.counts.get("changed_after_posting") == 2 and not second.counts.get("created"), second.counts
        add_user(ws)
        with serving(ws, {}) as base:
            yield base, qbo


def test_a_bookkeeper_applies_a_held_revision_and_sees_it_in_the_ledger(held, shots, chromium):
    base, qbo = held
    posted = journals(qbo)
    assert len(posted) == 2 and net(posted, MOVED_TO) == 0
    fba_before = net(posted, "Amazon FBA Fees")
    assert fba_before != 0

    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(30_000)
    cookies = sign_in(page, base)

    # both revisions are held, each posted version beside its new one with the changed account marked
    page.goto(f"{base}/revisions")
    section = page.locator("section", has_text="settlements")
    assert "2 held" in section.inner_text()
    assert section.locator("tr.new", has_text=MOVED_TO).count() == 2
    assert section.locator("tr.old", has_text="Amazon FBA Fees").count() == 2
    page.screenshot(path=str(shots / "revisions-held.png"), full_page=True)
    first = section.locator("input[name=keys]").first
    key = first.get_attribute("value")
    other = section.locator("input[name=keys]").nth(1).get_attribute("value")
    first.check()
    page.click("text=Apply selected")
    page.wait_for_selector("#result li")
    assert page.inner_text("#result li") == f"{key}: queued to post on the next sync"
    page.screenshot(path=str(shots / "revisions-applied.png"), full_page=True)
    assert len(journals(qbo)) == 2  # queued, not posted yet

    # run the pipeline from the overview; the run posts the reversal and the new version
    runs_before = len(httpx.get(f"{base}/api/v1/pipelines/settlements/runs", cookies=cookies).json())
    page.goto(f"{base}/")
    page.locator("section", has_text="settlements").locator("button", has_text="Run now").click()
    page.wait_for_selector("text=a sync is queued")
    assert wait_for(lambda: run_finished(base, cookies, "settlements", runs_before), 90)
    runs = httpx.get(f"{base}/api/v1/pipelines/settlements/runs", cookies=cookies).json()
    assert runs[0]["status"] == "succeeded" and runs[0]["counts"]["created"] == {"JournalEntry": 2}, runs[0]

    after = journals(qbo)
    assert len(after) == 4
    original = next(je for je in posted if je["PrivateNote"].split("\n", 1)[0] == f"ledgerlink {key}")
    reversal, replacement = after[2], after[3]
    if "\nreverses JournalEntry " not in reversal["PrivateNote"]:
        reversal, replacement = replacement, reversal
    assert f"reverses JournalEntry {original['Id']} " in reversal["PrivateNote"]
    assert f"replaces JournalEntry {original['Id']} " in replacement["PrivateNote"]
    moved = net([original], "Amazon FBA Fees")
    assert moved != 0 and net(after, MOVED_TO) == moved  # the applied month's FBA fees now sit in the new account
    assert net(after, "Amazon FBA Fees") == fba_before - moved  # the other month's are untouched (still held)

    # the other revision is still held, the applied one is not; the payout's bank line still ties to its report
    page.goto(f"{base}/revisions")
    section = page.locator("section", has_text="settlements")
    assert "1 held" in section.inner_text()
    assert [box.get_attribute("value") for box in section.locator("input[name=keys]").all()] == [other]
    page.screenshot(path=str(shots / "revisions-after.png"), full_page=True)
    page.goto(f"{base}/settlements/settlements/{SETTLEMENT_FILE_ID}")
    assert page.inner_text("#bank-check .verdict") == "ties"
    assert "the staged settlement report" in page.inner_text("#bank-check")
    page.screenshot(path=str(shots / "settlement-revised.png"), full_page=True)
