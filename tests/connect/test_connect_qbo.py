"""Connecting QuickBooks Online from the console, end to end against the QBO sandbox's consent page and token
endpoint: the company's refresh token stored encrypted in the workspace's store and shared by every pipeline
that posts to it; and every refusal (denied consent, forged or foreign state, wrong, expired or replayed code)
a clear 4xx page with nothing stored."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from connect_helpers import NOT_CONNECTED, Served, callback, consent, qbo_pipeline
from sandbox_helpers import sandbox_running
from ledgerlink.connect.accounts import workspace_credentials_path

REALM = "9341455000000000"


@pytest.fixture
def sandboxes() -> Iterator[tuple[str, Any, str]]:
    with sandbox_running("qbo") as (qbo_url, qbo), sandbox_running("amazon_sp", orders=4) as (amazon_url, _):
        yield qbo_url, qbo, amazon_url


@pytest.fixture
def served(tmp_path: Path, sandboxes: tuple[str, Any, str]) -> Iterator[Served]:
    qbo_url, _, amazon_url = sandboxes
    qbo_pipeline(tmp_path, "shop", qbo_url, amazon_url)
    qbo_pipeline(tmp_path, "outlet", qbo_url, amazon_url)
    s = Served(tmp_path)
    yield s
    s.close()


def statuses(served: Served) -> dict[str, str]:
    page = served.client.get("/connections")
    assert page.status_code == 200
    return dict(re.findall(r'id="slot-([\w.-]+)" class="slot" data-status="([^"]+)"', page.text))


def text(response: httpx.Response) -> str:
    import html
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text)))


def stored(served: Served) -> dict[str, Any]:
    """The workspace store's rows (names only; values are ciphertext)."""
    path = workspace_credentials_path(served.workspace.root)
    if not path.exists():
        return {}
    con = sqlite3.connect(path)
    try:
        return {"credentials": dict(con.execute("SELECT name, value_encrypted FROM credentials").fetchall()),
                "connections": con.execute("SELECT connector, account FROM connections").fetchall()}
    finally:
        con.close()


@pytest.mark.slow
def test_connect_once_and_both_pipelines_of_the_company_post_through_rotations(served: Served,
                                                                               sandboxes: tuple[str, Any, str]) -> None:
    _, qbo, _ = sandboxes
    before = served.sync("shop")
    assert "invalid_grant" in (before.last_error or "")  # the pipeline file holds no working token
    page = text(served.client.get("/connections"))
    assert "shop stops at its destination" in page and "invalid_grant" in page

    authorize = served.start("shop", "destination")
    assert authorize.startswith(qbo.options and authorize.split("/connect/oauth2")[0]) and "/connect/oauth2?" in authorize
    query = dict(httpx.URL(authorize).params)
    assert query["response_type"] == "code" and query["scope"] == "com.intuit.quickbooks.accounting"
    assert query["redirect_uri"] == "http://testserver/connections/callback" and len(query["state"]) >= 40
    params = consent(authorize)
    assert set(params) == {"code", "state", "realmId"} and params["realmId"] == REALM
    done = callback(served, params)
    assert done.status_code == 200, text(done)
    assert "QuickBooks company 9341455000000000 is connected" in text(done)
    assert "Pipelines using it: outlet, shop" in text(done)
    assert statuses(served) == {"outlet-destination": "connected", "shop-destination": "connected",
                                "outlet-source": "not connected", "shop-source": "not connected"}

    path = workspace_credentials_path(served.workspace.root)
    assert os.stat(path).st_mode & 0o777 == 0o600
    rows = stored(served)
    assert list(rows["credentials"]) == [f"qbo:{REALM}:refresh_token", f"qbo:{REALM}:refresh_token:expires_at"]
    assert rows["connections"] == [("qbo", REALM)]
    assert b"RT1-" not in path.read_bytes()  # encrypted at rest

    shop = served.sync("shop")
    assert shop.last_error is None and shop.last_report["counts"]["created"]["SalesReceipt"] == 4
    refreshed = qbo.stats["token_refreshes"]
    outlet = served.sync("outlet")  # uses the token shop's run rotated: no invalid_grant
    assert outlet.last_error is None, outlet.last_error
    assert served.sync("shop").last_error is None and served.sync("outlet").last_error is None
    assert qbo.stats["token_refreshes"] >= refreshed + 3  # each run rotated the one refresh token
    assert os.stat(served.workspace.services["shop"].pipeline.state_path).st_mode & 0o777 == 0o600


@pytest.mark.slow
def test_a_revoked_token_names_the_pipelines_it_stops_and_re_authorising_fixes_it(served: Served,
                                                                                  sandboxes: tuple[str, Any, str]) -> None:
    qbo_url, _, _ = sandboxes
    assert callback(served, consent(served.start("shop", "destination"))).status_code == 200
    assert served.sync("shop").last_error is None
    httpx.post(f"{qbo_url}/_sandbox/tokens/revoke").raise_for_status()  # the user disconnected the app in QuickBooks

    failed = served.sync("outlet")
    assert "invalid_grant" in failed.last_error
    page = text(served.client.get("/connections"))
    assert "outlet stops at its destination" in page and "Re-authorise" in page
    assert statuses(served)["outlet-destination"] == "needs re-authorising"

    checked = served.form(served.client, "/connections/check", pipeline="shop", role="destination")
    assert checked.status_code == 303
    assert "shop stops at its destination" in text(served.client.get("/connections"))

    assert callback(served, consent(served.start("outlet", "destination"))).status_code == 200  # re-authorise
    assert statuses(served)["outlet-destination"] == "connected" and statuses(served)["shop-destination"] == "connected"
    assert served.sync("outlet").last_error is None and served.sync("shop").last_error is None


@pytest.mark.slow
def test_disconnect_revokes_at_intuit_and_forgets_the_token(served: Served) -> None:
    assert callback(served, consent(served.start("shop", "destination"))).status_code == 200
    assert served.sync("shop").last_error is None
    gone = served.form(served.client, "/connections/disconnect", pipeline="outlet", role="destination")
    assert gone.status_code == 200 and "Intuit revoked the refresh token" in text(gone)
    assert "outlet, shop will not run until it is connected again" in text(gone)
    assert stored(served) == {"credentials": {}, "connections": []}
    assert statuses(served)["shop-destination"] == "not connected"
    assert "invalid_grant" in served.sync("shop").last_error


def refused(served: Served, response: httpx.Response, *words: str) -> None:
    assert response.status_code == 400, text(response)
    body = text(response)
    for w in words:
        assert w in body, body
    assert "nothing was stored" in body
    assert stored(served).get("connections", []) == [] and stored(served).get("credentials", {}) == {}


def test_denied_consent_stores_nothing(served: Served) -> None:
    params = consent(served.start("shop", "destination"), "deny")
    assert params.keys() == {"error", "state"} and params["error"] == "access_denied"
    refused(served, callback(served, params), "consent was denied at QuickBooks Online", "shop is not connected")


def test_a_forged_state_is_refused_before_any_exchange(served: Served, sandboxes: tuple[str, Any, str]) -> None:
    _, qbo, _ = sandboxes
    params = consent(served.start("shop", "destination"))
    exchanges = qbo.tokens.exchanges
    refused(served, callback(served, {**params, "state": "x" * 43}), "matches no connection started here")
    refused(served, callback(served, {k: v for k, v in params.items() if k != "state"}), "carries no state")
    assert qbo.tokens.exchanges == exchanges  # the code was never sent


def test_a_state_from_another_session_is_refused(served: Served) -> None:
    params = consent(served.start("shop", "destination"))
    other = served.sign_in("admin")  # the same user, another browser
    refused(served, callback(served, params, other), "started by another sign-in session")


def test_a_wrong_code_is_refused_by_intuit(served: Served) -> None:
    params = consent(served.start("shop", "destination"))
    refused(served, callback(served, {**params, "code": "AB11-not-a-code"}), "Intuit refused the authorization code",
            "invalid_grant")


def test_an_expired_code_is_refused(served: Served, sandboxes: tuple[str, Any, str]) -> None:
    qbo_url, _, _ = sandboxes
    params = consent(served.start("shop", "destination"))
    httpx.post(f"{qbo_url}/_sandbox/codes/expire").raise_for_status()
    refused(served, callback(served, params), "Intuit refused the authorization code", "expired")


def test_a_replayed_callback_is_refused_and_changes_nothing(served: Served) -> None:
    params = consent(served.start("shop", "destination"))
    assert callback(served, params).status_code == 200
    before = stored(served)
    again = callback(served, params)
    assert again.status_code == 400 and "already used" in text(again)
    assert stored(served) == before


def test_an_expired_state_is_refused(tmp_path: Path, sandboxes: tuple[str, Any, str]) -> None:
    qbo_url, _, amazon_url = sandboxes
    qbo_pipeline(tmp_path, "shop", qbo_url, amazon_url)
    clock = type("Clock", (), {"now": 1_800_000_000.0, "__call__": lambda self: self.now})()
    served = Served(tmp_path, clock=clock)
    try:
        params = consent(served.start("shop", "destination"))
        clock.now += 16 * 60
        refused(served, callback(served, params), "has expired")
    finally:
        served.close()


def test_only_admins_connect(served: Served) -> None:
    keeper = served.sign_in("keeper")
    denied = served.form(keeper, "/connections/connect", pipeline="shop", role="destination")
    assert denied.status_code == 403 and "needs the admin role" in text(denied)
    assert served.form(keeper, "/connections/connect", pipeline="shop", role="destination").status_code == 403
    missing = served.form(served.client, "/connections/connect", pipeline="shop", role="sideways")
    assert missing.status_code == 400 and "must be source or destination" in text(missing)
    unknown = served.form(served.client, "/connections/connect", pipeline="nope", role="destination")
    assert unknown.status_code == 404 and "no pipeline named 'nope'" in text(unknown)


def test_a_script_connects_through_the_api(served: Served) -> None:
    _, secret = served.workspace.tokens.create("setup-script", "admin")
    from starlette.testclient import TestClient

    script = TestClient(served.app, headers={"Authorization": f"Bearer {secret}"})
    started = script.post("/api/v1/pipelines/shop/connections/destination/start", json={})
    assert started.status_code == 200, started.text
    params = consent(started.json()["authorize_url"])
    # another token cannot finish what this one started
    _, other = served.workspace.tokens.create("other-script", "admin")
    foreign = TestClient(served.app, headers={"Authorization": f"Bearer {other}"}).post(
        "/api/v1/connections/finish", json={"params": params})
    assert foreign.status_code == 400 and "another sign-in session" in foreign.json()["error"]["message"]
    params = consent(script.post("/api/v1/pipelines/shop/connections/destination/start", json={}).json()["authorize_url"])
    finished = script.post("/api/v1/connections/finish", json={"params": params})
    assert finished.status_code == 200, finished.text
    assert finished.json()["pipelines"] == ["outlet", "shop"]
    listed = {(c["pipeline"], c["role"]): c["status"] for c in script.get("/api/v1/connections").json()}
    assert listed[("shop", "destination")] == "connected" and listed[("outlet", "destination")] == "connected"
    assert NOT_CONNECTED not in str(script.get("/api/v1/connections").json())
