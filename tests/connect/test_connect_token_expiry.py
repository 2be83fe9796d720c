"""When connected secrets stop working, as a data source: QuickBooks Online's refresh token expiry
(`x_refresh_token_expires_in`) stored as an absolute time at connect and renewed at every refresh; an Amazon
authorisation's date (valid 365 days); both on the Connections page and feeding the `token_expiring` alert — a
token near expiry raises exactly one alert, and a renewed one clears it."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from connect_helpers import Served, callback, consent, qbo_pipeline
from sandbox_helpers import sandbox_running
from ledgerlink import authorised_name, expiry_name
from ledgerlink.connect.accounts import describe, slot, workspace_credentials_path
from ledgerlink.connect.expiry import ConnectExpiryFeed
from ledgerlink.store.shared_credentials import SharedCredentials

REALM = "9341455000000000"
TOKEN = f"qbo:{REALM}:refresh_token"
DAY = 86400.0


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with sandbox_running("qbo") as (qbo_url, _), sandbox_running("amazon_sp", orders=1) as (amazon_url, _):
        qbo_pipeline(tmp_path, "shop", qbo_url, amazon_url)
        s = Served(tmp_path)
        yield s
        s.close()


def _store(served: Served) -> SharedCredentials:
    return SharedCredentials(workspace_credentials_path(served.workspace.root))


def test_quickbooks_expiry_is_stored_at_connect_renewed_at_refresh_and_shown(served: Served) -> None:
    before = time.time()
    assert callback(served, consent(served.start("shop", "destination"))).status_code == 200
    store = _store(served)
    expires = float(store.load(expiry_name(TOKEN)))
    from ledgerlink_qbo.sandbox.auth import REFRESH_TOKEN_LIFETIME_S  # what Intuit reports (8726400 s)

    assert before + REFRESH_TOKEN_LIFETIME_S - 5 <= expires <= time.time() + REFRESH_TOKEN_LIFETIME_S + 5
    shown = describe(served.workspace, slot(served.workspace, "shop", "destination"))["expires"]
    assert [e["what"] for e in shown] == [f"QuickBooks Online {REALM} refresh token"]
    page = served.client.get("/connections").text
    assert f"QuickBooks Online {REALM} refresh token expires" in page
    # a run refreshes the token: the expiry is renewed from Intuit's answer
    store.save(expiry_name(TOKEN), f"{time.time() + 3 * DAY:.0f}")
    checked = served.form(served.client, "/connections/check", pipeline="shop", role="destination")
    assert checked.status_code == 303
    assert float(store.load(expiry_name(TOKEN))) >= time.time() + 99 * DAY
    # disconnecting forgets the expiry with the token
    served.form(served.client, "/connections/disconnect", pipeline="shop", role="destination")
    assert store.load(expiry_name(TOKEN)) is None
    assert describe(served.workspace, slot(served.workspace, "shop", "destination"))["expires"] == []


def test_an_amazon_authorisation_is_valid_365_days_from_its_date(tmp_path: Path) -> None:
    seller = "A2SANDBOXSELLER1"
    with sandbox_running("amazon_sp", orders=1, refresh_token="Atzr|x") as (url, _):
        (tmp_path / "sales.yaml").write_text(
            f"name: sales\nstate: {tmp_path / '.ledgerlink' / 'sales.duckdb'}\n"
            "source:\n  connector: amazon_sp\n  config:\n"
            f"    endpoint: {url}\n    lwa_endpoint: {url}/auth/o2/token\n    region: eu\n"
            "    client_id: amzn1.application-oa2-client.sandbox\n    client_secret: sandbox-lwa-client-secret\n"
            f"    refresh_token: Atzr|not-yet\n    marketplace_ids: [A1PA6795UKMFR9]\n    seller_id: {seller}\n"
            "    start_date: '2026-01-01T00:00:00Z'\n  streams: [orders]\n"
            "destination:\n  connector: qbo\n  config: {realm_id: '1', client_id: c, client_secret: s, "
            "refresh_token: r}\n")
        served = Served(tmp_path)
        try:
            before = time.time()
            done = callback(served, consent(served.start("sales", "source", application_id="amzn1.sp.solution.sandbox",
                                                         version="beta")))
            assert done.status_code == 200, done.text
            name = f"amazon_sp:{seller}:eu:refresh_token"
            assert before - 1 <= float(_store(served).load(authorised_name(name))) <= time.time() + 1
            shown = describe(served.workspace, slot(served.workspace, "sales", "source"))["expires"]
            assert [e["what"] for e in shown] == [f"Amazon Seller Central {seller}:eu authorisation"]
            assert before + 365 * DAY - 2 <= shown[0]["expires_at"] <= time.time() + 365 * DAY + 2
            feed = ConnectExpiryFeed(served.workspace)
            assert [w for w, _ in feed(served.workspace.services["sales"])] == [shown[0]["what"]]
        finally:
            served.close()


def test_a_token_near_expiry_raises_one_alert_and_a_renewed_one_clears_it(served: Served, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerts"))
    from alerts_helpers import WEBHOOK_SECRET, Clock, WebhookReceiver, webhook_rules

    monkeypatch.setenv("TEST_WEBHOOK_SECRET", WEBHOOK_SECRET)
    assert callback(served, consent(served.start("shop", "destination"))).status_code == 200
    store = _store(served)
    with WebhookReceiver(Clock(time.time())) as receiver:
        rules = webhook_rules(receiver.url)
        rules["rules"] = [{"events": ["token_expiring"], "channels": ["ops"], "token_expires_within_days": 14}]
        (tmp_path / "alerts.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
        alerts = served.workspace.alerts  # fed by the connected secrets' expiry (ConnectExpiryFeed)
        services = list(served.workspace.services.values())
        assert alerts.evaluate(services) == 0  # 100 days left
        store.save(expiry_name(TOKEN), f"{time.time() + 3 * DAY:.0f}")
        assert alerts.evaluate(services) == 1
        assert alerts.evaluate(services) == 0  # the same expiry: once
        alerts.send_pending()
        assert len(receiver.delivered) == 1
        assert receiver.delivered[0].json()["subject"].endswith(
            f"shop: QuickBooks Online {REALM} refresh token expires in 3.0 days")
        store.save(expiry_name(TOKEN), f"{time.time() + 100 * DAY:.0f}")  # renewed (a refresh, or re-authorised)
        assert alerts.evaluate(services) == 0
        alerts.send_pending()
        assert len(receiver.delivered) == 1  # nothing more was sent
        store.save(expiry_name(TOKEN), f"{time.time() + 2 * DAY:.0f}")  # a later, new expiry alerts anew
        assert alerts.evaluate(services) == 1
