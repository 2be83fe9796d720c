"""Connection settings of an existing pipeline edited in the designer: the form comes from the connector's spec and
the file, secrets are shown masked and kept unless replaced, a replaced one goes to the encrypted store (the file
gets its reference), the changed side is checked first, the diff is shown, and a failing check saves nothing."""

from __future__ import annotations

import yaml

from ledgerlink.connect.accounts import workspace_credentials_path
from ledgerlink.store.shared_credentials import SharedCredentials

NEW = {"name": "tiny", "source": "fake_source", "destination": "tiny_ledger", "destination.token": "good-token",
       "source.api_key": "shop-key-1234", "source.orders": 2}


def _made(designer_console):
    client = designer_console.with_token("bookkeeper")
    assert client.post("/api/v1/designer/pipelines", json={"fields": NEW, "save": True}).json()["saved"]
    return client, designer_console.workspace.root / "tiny.yaml"


def test_the_form_shows_the_settings_with_secrets_masked(designer_console):
    client, _ = _made(designer_console)
    view = client.get("/api/v1/pipelines/tiny/designer").json()["connection"]
    token = next(f for f in view["destination"] if f["name"] == "token")
    assert token["kind"] == "password" and token["value"] == "" and token["secret_set"] is True
    assert next(f for f in view["source"] if f["name"] == "orders")["value"] == "2"
    browser, _ = designer_console.signed_in("bookkeeper")
    page = browser.get("/designer/tiny").text
    assert 'id="connection"' in page and "good-token" not in page and "set: leave empty to keep it" in page


def test_an_unchanged_secret_is_kept_and_a_changed_setting_is_checked_and_saved(designer_console):
    client, path = _made(designer_console)
    before = path.read_text()
    dry = client.post("/api/v1/pipelines/tiny/designer/changes", json={"section": "connection", "fields": {
        "destination.token": "", "destination.mode": "live", "source.orders": "2", "source.api_key": ""}}).json()
    assert dry["saved"] is False and "+    mode: live" in dry["diff"] and "+    token" not in dry["diff"]
    assert [c["role"] for c in dry["checks"]] == ["destination"] and dry["checks"][0]["ok"]  # the stored token
    assert path.read_text() == before  # a diff only
    saved = client.post("/api/v1/pipelines/tiny/designer/changes", json={"section": "connection", "save": True,
                                                                        "fields": {"destination.mode": "live"}})
    assert saved.json()["saved"], saved.text
    config = yaml.safe_load(path.read_text())["destination"]["config"]
    assert config == {"token": "${secret:pipeline:tiny:destination.token}", "mode": "live"}
    assert designer_console.workspace.services["tiny"].pipeline.destination.config["mode"] == "live"


def test_a_replaced_secret_is_checked_stored_and_referenced(designer_console):
    client, path = _made(designer_console)
    bad = client.post("/api/v1/pipelines/tiny/designer/changes", json={"section": "connection", "save": True,
                                                                      "fields": {"destination.token": "wrong-token"}})
    body = bad.json()
    assert bad.status_code == 200, bad.text
    assert body["saved"] is False and "the tiny ledger refused the token" in body["checks"][0]["message"]
    assert "wrong-token" not in bad.text
    store = SharedCredentials(workspace_credentials_path(designer_console.workspace.root))
    assert store.load("pipeline:tiny:destination.token") == "good-token"  # nothing saved half-way
    # a secret with the same value as stored is no change; a new good one is stored under the same reference
    store.save("pipeline:tiny:destination.token", "old-token")
    designer_console.workspace.services["tiny"].pipeline.destination.config["token"] = "old-token"
    ok = client.post("/api/v1/pipelines/tiny/designer/changes", json={"section": "connection", "save": True,
                                                                     "fields": {"destination.token": "good-token"}})
    assert ok.json()["saved"], ok.text
    assert "good-token" not in ok.text and "good-token" not in path.read_text()
    assert store.load("pipeline:tiny:destination.token") == "good-token"
    assert store.load("pipeline:tiny:source.api_key") == "shop-key-1234"  # the other secret kept


def test_bad_input_names_the_field_and_saves_nothing(designer_console):
    client, path = _made(designer_console)
    before = path.read_text()
    for fields, where in (({"destination.mode": "x"}, "form.destination.mode"),
                          ({"destination.colour": "x"}, "form.destination.colour"),
                          ({"source.orders": "many"}, "form.source.orders")):
        response = client.post("/api/v1/pipelines/tiny/designer/changes",
                               json={"section": "connection", "save": True, "fields": fields})
        assert response.status_code == 400 and response.json()["error"]["where"] == where, response.text
    assert path.read_text() == before


def test_a_variable_sent_back_as_shown_stays_as_written(designer_console, monkeypatch):
    from ledgerlink.designer.connection import connection_changes

    monkeypatch.setenv("TINY_TOKEN", "good-token")
    text = ("name: tiny\nsource: {connector: fake_source, config: {orders: '${ORDERS:-2}'}}\n"
            "destination: {connector: tiny_ledger, config: {token: '${TINY_TOKEN}', mode: test}}\n")
    host = designer_console.workspace.plugin_host
    shown = {"source.orders": "${ORDERS:-2}", "destination.token": "", "destination.mode": "live",
             "destination.api_url": "http://127.0.0.1:9", "destination.strict:present": "1"}
    change = connection_changes(host, "tiny", text, shown, designer_console.workspace.root)
    assert change.changes == {("destination", "config", "mode"): "live"}  # the variables untouched
    assert [(c.role, c.ok) for c in change.checks] == [("destination", True)]  # checked with ${TINY_TOKEN}'s value
