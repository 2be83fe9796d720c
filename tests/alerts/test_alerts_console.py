"""The Alerts page and API: bookkeepers see the rules and the outbox, admins edit the rules file (saved only when
it validates) and send a test per channel; viewers are refused; every form needs its CSRF token."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))

from alerts_helpers import WebhookReceiver, webhook_rules  # noqa: E402
from console_helpers import PASSWORD, Console, fakes, write_pipeline  # noqa: E402

from ledgerlink.console import Workspace  # noqa: E402


@pytest.fixture
def console(tmp_path: Path, receiver: WebhookReceiver, clock: Any) -> Any:
    folder = tmp_path / "ws"
    folder.mkdir()
    write_pipeline(folder, "shop", no_sku=[1])
    (folder / "alerts.yaml").write_text(yaml.safe_dump(webhook_rules(receiver.url), sort_keys=False))
    workspace = Workspace.open(folder, fakes.fresh_host(tmp_path), every=None, debounce=0,
                               announce=lambda line: None, clock=clock)
    for role in ("viewer", "bookkeeper", "admin"):
        workspace.accounts.add(role, role, PASSWORD)
    yield Console(workspace, clock)
    workspace.stop()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _sign_in(console: Console, name: str) -> tuple[TestClient, str]:
    client = TestClient(console.app)
    form = client.get("/signin")
    signed = client.post("/signin", data={"csrf_token": _csrf(form.text), "name": name, "password": PASSWORD},
                         follow_redirects=False)
    assert signed.status_code == 303
    return client, _csrf(client.get("/").text)


def test_who_sees_what(console):
    viewer, _ = _sign_in(console, "viewer")
    assert viewer.get("/alerts").status_code == 403
    assert 'href="/alerts"' not in viewer.get("/").text
    bookkeeper, _ = _sign_in(console, "bookkeeper")
    page = bookkeeper.get("/alerts")
    assert page.status_code == 200 and 'href="/alerts"' in page.text
    assert "ops" in page.text and "127.0.0.1" in page.text and "run_failed, dead_letters" in page.text
    assert "<textarea" not in page.text and "Send a test" not in page.text
    assert "secret_env: TEST_WEBHOOK_SECRET" in page.text  # the file, read-only
    admin, _ = _sign_in(console, "admin")
    page = admin.get("/alerts")
    assert "<textarea" in page.text and "Send a test" in page.text
    assert console.anonymous.get("/alerts", follow_redirects=False).status_code == 303


def test_admin_saves_valid_rules_and_a_mistake_changes_nothing(console, receiver):
    admin, csrf = _sign_in(console, "admin")
    path = console.workspace.alerts.path
    before = path.read_text()
    broken = before.replace("secret_env:", "secret_envv:")
    refused = admin.post("/alerts/rules", data={"csrf_token": csrf, "yaml": broken})
    assert refused.status_code == 400
    assert "Not saved" in refused.text and "channels.ops.secret_envv: unknown key" in refused.text
    assert "secret_envv" in refused.text.split("<textarea", 1)[1]  # what was typed is kept to fix
    assert path.read_text() == before
    changed = before.replace("max_attempts: 4", "max_attempts: 6")
    saved = admin.post("/alerts/rules", data={"csrf_token": csrf, "yaml": changed})
    assert saved.status_code == 200 and "Saved: the new rules are in effect." in saved.text
    assert path.read_text() == changed
    assert console.workspace.alerts.config.retry.max_attempts == 6
    assert admin.post("/alerts/rules", data={"yaml": changed}).status_code == 403  # no CSRF token
    bookkeeper, bcsrf = _sign_in(console, "bookkeeper")
    assert bookkeeper.post("/alerts/rules", data={"csrf_token": bcsrf, "yaml": changed}).status_code == 403
    actions = [a["action"] for a in console.workspace.audit.list(limit=10)]
    assert actions.count("alert rules changed") == 1


def test_send_a_test_button(console, receiver):
    admin, csrf = _sign_in(console, "admin")
    done = admin.post("/alerts/test", data={"csrf_token": csrf, "channel": "ops"})
    assert done.status_code == 200 and "ops: a test message was sent" in done.text
    assert len(receiver.delivered) == 1
    body = receiver.delivered[0].json()
    assert body["url"] == "https://books.example.com/alerts" and "test message" in body["subject"]
    receiver.statuses.append(500)
    failed = admin.post("/alerts/test", data={"csrf_token": csrf, "channel": "ops"})
    assert "ops: not sent: ops: the webhook answered HTTP 500" in failed.text
    unknown = admin.post("/alerts/test", data={"csrf_token": csrf, "channel": "nope"})
    assert unknown.status_code == 404 and "no channel named" in unknown.text


def test_send_pending_from_the_page_lists_the_message(console, receiver):
    console.workspace.services["shop"]._run("test")
    bookkeeper, csrf = _sign_in(console, "bookkeeper")
    done = bookkeeper.post("/alerts/send-pending", data={"csrf_token": csrf})
    assert "sent 1," in done.text and len(receiver.delivered) == 1
    page = bookkeeper.get("/alerts").text
    assert "shop: 1 dead letter(s) open" in page and ">sent<" in page


def test_the_api(console, receiver):
    bookkeeper, admin, viewer = (console.with_token(r) for r in ("bookkeeper", "admin", "viewer"))
    assert viewer.get("/api/v1/alerts").status_code == 403
    view = bookkeeper.get("/api/v1/alerts").json()
    assert view["in_effect"] and view["channels"] == [{"name": "ops", "type": "webhook", "target": receiver.url}]
    assert bookkeeper.put("/api/v1/alerts", json={"yaml": view["yaml"]}).status_code == 403
    bad = admin.put("/api/v1/alerts", json={"yaml": "console_url: https://x.example\nchannels: {}\n"})
    assert bad.status_code == 400
    assert bad.json()["error"]["message"].endswith("alerts.yaml: channels: must not be empty")
    assert bad.json()["error"]["hint"] == "name at least one channel (email, slack or webhook)"
    assert admin.put("/api/v1/alerts", json={"yaml": view["yaml"]}).status_code == 200
    assert admin.post("/api/v1/alerts/test", json={"channel": "ops"}).json() == {"channel": "ops", "sent": True}
    receiver.statuses.append(503)
    failed = admin.post("/api/v1/alerts/test", json={"channel": "ops"})
    assert failed.status_code == 502 and "HTTP 503" in failed.json()["error"]["message"]
    console.workspace.services["shop"]._run("test")
    assert bookkeeper.post("/api/v1/alerts/send-pending").json()["sent"] == 1
    messages = bookkeeper.get("/api/v1/alerts/messages?status=sent").json()
    assert [m["events"][0]["title"] for m in messages] == ["shop: 1 dead letter(s) open"]
    assert bookkeeper.get("/api/v1/alerts/messages?status=odd").status_code == 400


def test_a_workspace_without_rules_offers_a_starter(tmp_path, clock):
    folder = tmp_path / "ws"
    folder.mkdir()
    write_pipeline(folder, "shop")
    workspace = Workspace.open(folder, fakes.fresh_host(tmp_path), every=None, debounce=0,
                               announce=lambda line: None, clock=clock)
    try:
        workspace.accounts.add("admin", "admin", PASSWORD)
        console = Console(workspace, clock)
        admin, csrf = _sign_in(console, "admin")
        page = admin.get("/alerts").text
        assert "There is no alert rules file yet" in page and "password_env: LEDGERLINK_SMTP_PASSWORD" in page
        assert "Send pending now" not in page
        token = console.with_token("bookkeeper")
        assert token.post("/api/v1/alerts/send-pending").status_code == 409
    finally:
        workspace.stop()
