"""The designer's JSON API: the same operations as its pages, for scripts (a change is a dry run unless `save`)."""

from __future__ import annotations

import pytest


def test_connectors_and_their_forms_come_from_the_installed_plugins(designer_console):
    client = designer_console.with_token("viewer")
    found = client.get("/api/v1/designer/connectors").json()
    assert {"fake_source", "myshop"} <= {c["name"] for c in found["source"]}
    assert {"fake_dest", "tiny_ledger"} <= {c["name"] for c in found["destination"]}
    form = client.get("/api/v1/designer/connectors/source/myshop").json()
    assert [(f["input"], f["kind"]) for f in form["fields"]] == [
        ("source.base_url", "text"), ("source.api_key", "password"), ("source.page_size", "integer"),
        ("source.store_id", "text"), ("source.webhook_secret", "password")]
    assert client.get("/api/v1/designer/connectors/sideways/myshop").status_code == 400
    assert client.get("/api/v1/designer/connectors/source/nothing").status_code == 404


def test_a_script_creates_a_pipeline_dry_run_first(designer_console):
    client = designer_console.with_token("bookkeeper")
    fields = {"name": "scripted", "source": "fake_source", "destination": "tiny_ledger", "source.orders": 2,
              "destination.token": "good-token"}
    dry = client.post("/api/v1/designer/pipelines", json={"fields": fields})
    assert dry.status_code == 200 and dry.json()["saved"] is False and "+name: scripted" in dry.json()["diff"]
    assert "good-token" not in dry.text and not (designer_console.workspace.root / "scripted.yaml").exists()
    saved = client.post("/api/v1/designer/pipelines", json={"fields": fields, "save": True}).json()
    assert saved["saved"] and [c["ok"] for c in saved["checks"]] == [True, True]
    assert "scripted" in designer_console.workspace.services
    refused = client.post("/api/v1/designer/pipelines", json={"fields": {**fields, "name": "other",
                                                                         "destination.token": "nope"}, "save": True})
    assert refused.status_code == 200 and refused.json()["saved"] is False
    assert refused.json()["checks"][1]["message"].startswith("token: the tiny ledger refused the token")


def test_a_script_changes_a_section_and_previews_a_template(designer_console):
    client = designer_console.with_token("bookkeeper")
    view = client.get("/api/v1/pipelines/shop/designer").json()
    assert view["lists"]["Account"] == ["Amazon Storage", "Checking"]
    assert {"name": "income_account", "kind": "text", "value": "Sales", "ledger_list": "Account"}.items() <= \
        next(o for o in view["options"] if o["name"] == "income_account").items()
    change = client.post("/api/v1/pipelines/shop/designer/changes",
                         json={"section": "options", "fields": {"options.income_account": "Checking"}, "save": True})
    assert change.status_code == 200 and change.json()["saved"]
    assert "income_account: Checking" in designer_console.shop_file().read_text()
    preview = client.post("/api/v1/pipelines/shop/designer/preview",
                          json={"template": "receipt.json.j2", "text": '{\n  "x": {{ nope }}\n}\n'}).json()
    assert preview["problem"]["line"] == 2 and "undefined" in preview["problem"]["message"]
    ok = client.post("/api/v1/pipelines/shop/designer/preview",
                     json={"template": "receipt.json.j2", "text": designer_console.receipt_template(),
                           "records": [f"{view['records'][0]['stream']}/{view['records'][0]['key']}"]}).json()
    assert ok["problem"] is None and ok["revisions"] == [] and ok["documents"]


@pytest.mark.parametrize("body, where", [
    ({"section": "colours", "fields": {}}, "body.section"),
    ({"section": "options"}, "body.fields"),
    ({"section": "options", "fields": {"options.income_account": {"a": 1}}}, "body.fields.options.income_account"),
    ({"section": "options", "fields": {"options.incme_account": "X"}}, "form.options.incme_account"),
    ({"section": "template", "fields": {"template": "receipt.json.j2", "text": "{% if %}"}, "save": True}, None),
])
def test_bad_changes_are_clear_errors(designer_console, body, where):
    client = designer_console.with_token("bookkeeper")
    before = designer_console.shop_file().read_text()
    response = client.post("/api/v1/pipelines/shop/designer/changes", json=body)
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    if where:
        assert error["where"] == where
    else:
        assert "receipt.json.j2, line 1" in error["message"]
    assert designer_console.shop_file().read_text() == before


def test_a_viewer_reads_but_cannot_change(designer_console):
    viewer = designer_console.with_token("viewer")
    assert viewer.get("/api/v1/pipelines/shop/designer").status_code == 200
    for url, body in (("/api/v1/designer/pipelines", {"fields": {}}),
                      ("/api/v1/pipelines/shop/designer/changes", {"section": "options", "fields": {}}),
                      ("/api/v1/pipelines/shop/designer/preview", {"template": "receipt.json.j2", "text": "{}"}),
                      ("/api/v1/pipelines/shop/designer/suggestions/x/accept", {})):
        assert viewer.post(url, json=body).status_code == 403
    assert designer_console.anonymous.get("/api/v1/pipelines/shop/designer").status_code == 401


def test_a_script_accepts_a_suggestion(designer_console):
    client = designer_console.with_token("bookkeeper")
    row = next(r for r in client.get("/api/v1/pipelines/shop/designer").json()["sku_rows"] if r["sku"] == "wid_blu_2")
    done = client.post(f"/api/v1/pipelines/shop/designer/suggestions/{row['suggestions'][0]['id']}/accept")
    assert done.status_code == 200 and done.json()["decision"] == "accept"
    assert done.json()["target"] == "Widget Blue 2-Pack"
