"""The anomalies and alerts pages in a real browser (Playwright with Debian's chromium) against a real
`ledgerlink serve --workspace`: a bookkeeper runs the anomaly checks, acknowledges one finding and snoozes another
until a date; an admin edits an alert rule in the rules file and presses a channel's test button, and the signed
test message arrives, once, at a webhook receiver on loopback."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import yaml

from console_browser import add_user, seed_settlements, serving, sign_in
from sandbox_helpers import qbo_env, sandbox_running, wait_for, write_shipped

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerts"))
from alerts_helpers import WEBHOOK_SECRET, WebhookReceiver, webhook_rules  # noqa: E402

pytestmark = [pytest.mark.slow]
PIPELINE = "amazon-settlements-to-qbo"


@pytest.fixture
def served(tmp_path):
    """The settlements pipeline with two settlements on hold (two open anomaly findings once the checks run), an
    alerts.yaml whose webhook channel is a receiver on loopback, a bookkeeper and an admin; `(base URL, receiver)`."""
    ws = tmp_path / "ws"
    ws.mkdir()
    with sandbox_running("qbo") as (qbo_url, _), WebhookReceiver(time.time) as receiver:
        write_shipped(ws, f"{PIPELINE}.yaml")
        state = ws / ".ledgerlink" / f"{PIPELINE}.duckdb"
        seed_settlements(state)
        seed_settlements(state, planned=[], held="30000000002")
        rules = webhook_rules(receiver.url)
        rules["rules"] = [{"name": "backlog", "events": ["dead_letters"], "channels": ["ops"],
                           "dead_letters_above": 2}]
        (ws / "alerts.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
        add_user(ws)
        add_user(ws, "ada", "admin")
        with serving(ws, {**qbo_env(qbo_url), "TEST_WEBHOOK_SECRET": WEBHOOK_SECRET}) as base:
            yield base, receiver


def _findings(page, base: str, status: str) -> list[str]:
    page.goto(f"{base}/anomalies?status={status}")
    return [a.inner_text() for a in page.locator("article.anomaly").all()]


def test_anomalies_are_acknowledged_and_snoozed_in_a_browser(served, shots, chromium):
    base, _ = served
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(30_000)
    sign_in(page, base)
    page.goto(f"{base}/anomalies")
    page.locator("section", has_text=PIPELINE).locator("button", has_text="Run the checks now").click()
    assert wait_for(lambda: len(_findings(page, base, "open")) == 2, 60)
    page.screenshot(path=str(shots / "anomalies-open.png"), full_page=True)
    first, second = page.locator("article.anomaly").all()
    assert "held_settlement" in first.inner_text() and "held_settlement" in second.inner_text()
    acknowledged_fp = first.locator("input[name=fingerprints]").get_attribute("value")
    first.locator("input[name=fingerprints]").check()
    page.click("button:has-text('Acknowledge selected')")
    assert wait_for(lambda: len(_findings(page, base, "open")) == 1, 30)
    [shown] = _findings(page, base, "acknowledged")
    assert acknowledged_fp in shown and "(by betty)" in shown

    page.goto(f"{base}/anomalies?status=open")
    page.locator("article.anomaly input[name=fingerprints]").first.check()
    page.fill("input[name=until]", "2099-01-31")
    page.click("button:has-text('Snooze selected')")
    assert wait_for(lambda: _findings(page, base, "open") == [], 30)
    [snoozed] = _findings(page, base, "snoozed")
    assert "snoozed until 2099-01-31" in snoozed and "(by betty)" in snoozed
    page.screenshot(path=str(shots / "anomalies-snoozed.png"), full_page=True)


def test_an_alert_rule_is_edited_and_a_channel_tested_in_a_browser(served, shots, chromium):
    base, receiver = served
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(30_000)
    sign_in(page, base, "ada")
    page.goto(f"{base}/alerts")
    rules = page.locator("section#rules")
    assert "dead letters above 2" in rules.inner_text()
    text = page.input_value("textarea[name=yaml]")
    page.fill("textarea[name=yaml]", text.replace("dead_letters_above: 2", "dead_letters_above: 5"))
    page.click("button:has-text('Save rules')")
    page.wait_for_selector("text=Saved: the new rules are in effect.")
    assert "dead letters above 5" in page.locator("section#rules").inner_text()
    page.screenshot(path=str(shots / "alerts-edited.png"), full_page=True)

    # a rule file with a mistake is refused and the rules in effect stay
    page.fill("textarea[name=yaml]", page.input_value("textarea[name=yaml]").replace("dead_letters_above: 5",
                                                                                      "dead_leters_above: 6"))
    page.click("button:has-text('Save rules')")
    assert "Not saved" in page.inner_text("section#file") and "dead_leters_above" in page.inner_text("section#file")
    page.goto(f"{base}/alerts")
    assert "dead letters above 5" in page.locator("section#rules").inner_text()

    page.locator("tr", has_text="ops").locator("button", has_text="Send a test").click()
    page.wait_for_selector("text=ops: a test message was sent")
    assert wait_for(lambda: len(receiver.delivered) == 1, 30)
    time.sleep(0.5)  # nothing else follows: the test message arrives once
    assert len(receiver.received) == 1 and receiver.delivered[0].verified
    body = receiver.delivered[0].json()
    assert "test" in body["subject"].lower() and body["url"].startswith("https://books.example.com")
    page.screenshot(path=str(shots / "alerts-tested.png"), full_page=True)
