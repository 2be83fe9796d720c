"""The designer's pages, through the console app, for every role: what each sees, what a bookkeeper changes, and
bad input — each a clear error naming the field or line, with nothing saved."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

TEMPLATE = "/designer/shop/templates/receipt.json.j2"
GOOD_TEMPLATE = """{
  "DocNumber": {{ order.order_id }},
  "CustomerRef": {"name": {{ order.customer.display_name }}},
  "PrivateNote": "made in the designer",
  "Line": [
  {% for line in order.lines %}
    {"ItemRef": {"name": {{ line.sku }}}, "Qty": {{ line.quantity }}, "Amount": {{ line.amount | money }}}{% if not loop.last %},{% endif %}
  {% endfor %}
  ],
  "Total": {{ order.grand_total | money }}
}
"""


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".ledgerlink" not in p.parts and p.suffix in (".yaml", ".j2", ".yml")}


def _record(console: Any) -> str:
    client = console.with_token("viewer")
    first = client.get("/api/v1/pipelines/shop/designer").json()["records"][0]
    return f"{first['stream']}/{first['key']}"


def _new_form(csrf: str, **extra: str) -> dict[str, str]:
    return {"csrf_token": csrf, "name": "tiny", "source": "fake_source", "destination": "tiny_ledger",
            "source.api_key": "shop-key-1234", "source.orders": "20", "destination.token": "good-token",
            "destination.mode": "live", "destination.strict:present": "1", **extra}


# -- who may do what ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/designer", "/designer/shop", "/designer/new?source=myshop&destination=fake_dest",
                                 TEMPLATE])
def test_every_page_needs_a_signed_in_user(designer_console, url):
    response = designer_console.anonymous.get(url, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/signin?next=/designer")


@pytest.mark.parametrize("url", ["/designer/new", "/designer/shop/options", "/designer/shop/roles",
                                 "/designer/shop/items", TEMPLATE, f"{TEMPLATE}/preview",
                                 "/designer/shop/suggestions/abc/accept", "/designer/shop/suggestions/abc/reject"])
def test_every_action_refuses_anonymous_callers_and_viewers(designer_console, url):
    assert designer_console.anonymous.post(url, data={}).status_code == 401
    viewer, csrf = designer_console.signed_in("viewer")
    response = viewer.post(url, data={"csrf_token": csrf})
    assert response.status_code == 403 and "needs the bookkeeper role" in response.text


def test_an_action_without_the_csrf_token_is_refused(designer_console):
    client, _ = designer_console.signed_in("bookkeeper")
    response = client.post("/designer/shop/options", data={"options.income_account": "X", "action": "save"})
    assert response.status_code == 403 and "CSRF" in response.text
    assert "income_account: Sales" in Path(designer_console.shop_file()).read_text()


def test_a_viewer_sees_every_setting_read_only(designer_console):
    viewer, _ = designer_console.signed_in("viewer")
    index = viewer.get("/designer")
    assert index.status_code == 200 and "/designer/shop" in index.text and "New pipeline" not in index.text
    page = viewer.get("/designer/shop")
    assert page.status_code == 200 and "Read-only" in page.text
    assert 'name="options.income_account" value="Sales"' in page.text
    assert ">Save</button>" not in page.text and ">Accept</button>" not in page.text
    assert re.search(r'name="account.sales"[^>]*disabled', page.text)
    assert viewer.get("/designer/new?source=myshop&destination=fake_dest").status_code == 403
    template = viewer.get(TEMPLATE)
    assert template.status_code == 200 and "readonly" in template.text and "Preview</button>" not in template.text


def test_a_bookkeeper_sees_the_forms_with_the_ledger_s_lists(designer_console):
    client, _ = designer_console.signed_in("bookkeeper")
    page = client.get("/designer/shop")
    assert page.status_code == 200
    assert '<datalist id="list-Account"><option value="Amazon Storage"><option value="Checking">' in page.text
    assert 'list="list-Account"' in page.text and ">Save</button>" in page.text
    assert "Lagergebühren" in page.text and "wid_blu_2" in page.text  # the grids' open rows


# -- a new pipeline ----------------------------------------------------------------------------------------------

def test_the_new_pipeline_form_comes_from_the_connectors_specs(designer_console):
    client, _ = designer_console.signed_in("bookkeeper")
    page = client.get("/designer/new?source=myshop&destination=tiny_ledger")
    assert page.status_code == 200
    assert 'type="password" name="source.api_key"' in page.text  # airbyte_secret
    assert 'type="password" name="destination.token"' in page.text
    assert '<select name="destination.mode"' in page.text and 'name="destination.strict"' in page.text
    assert 'name="source.page_size" value="50"' in page.text


def test_check_shows_the_file_and_saves_nothing(designer_console):
    client, csrf = designer_console.signed_in("bookkeeper")
    before = _files(designer_console.workspace.root)
    response = client.post("/designer/new", data=_new_form(csrf, action="diff"))
    assert response.status_code == 200, response.text
    assert "check source fake_source: succeeded" in response.text and "check destination tiny_ledger: succeeded" in response.text
    assert "+    mode: live" in response.text and "Not saved yet" in response.text
    assert "good-token" not in response.text and "shop-key-1234" not in response.text  # never echoed
    assert _files(designer_console.workspace.root) == before


def test_a_failing_check_is_shown_and_nothing_is_saved(designer_console):
    client, csrf = designer_console.signed_in("bookkeeper")
    before = _files(designer_console.workspace.root)
    response = client.post("/designer/new", data=_new_form(csrf, **{"destination.token": "bad-token",
                                                                     "action": "save"}))
    assert response.status_code == 422
    assert "the tiny ledger refused the token (401)" in response.text and "nothing was saved" in response.text
    assert "bad-token" not in response.text
    assert _files(designer_console.workspace.root) == before and "tiny" not in designer_console.workspace.services


def test_save_writes_the_pipeline_and_serves_it(designer_console):
    client, csrf = designer_console.signed_in("bookkeeper")
    response = client.post("/designer/new", data=_new_form(csrf, action="save"))
    assert response.status_code == 200, response.text
    assert "Saved" in response.text
    path = designer_console.workspace.root / "tiny.yaml"
    text = path.read_text()
    assert text.startswith("# fake_source → tiny_ledger, made with the console's pipeline designer.")
    assert "token: ${secret:pipeline:tiny:destination.token}" in text and "good-token" not in text
    assert "orders: 20" in text and "strict: false" in text
    assert "tiny" in designer_console.workspace.services  # served at once: it can run now
    assert client.get("/designer/tiny").status_code == 200
    again = client.post("/designer/new", data=_new_form(csrf, action="save"))
    assert again.status_code == 400 and "already exists" in again.text and "form.name" in again.text
    audit = designer_console.workspace.audit.list(limit=5)
    assert any(a["action"] == "pipeline created" for a in audit)


@pytest.mark.parametrize("change, field, words", [
    ({"name": ""}, "form.name", "is required"),
    ({"name": "bad name!"}, "form.name", "is not a pipeline name"),
    ({"source": ""}, "form.source", "is required"),
    ({"destination": "nowhere"}, None, "no connector named 'nowhere'"),
    ({"destination.token": ""}, "form.destination.token", "is required"),
    ({"source.orders": "twenty"}, "form.source.orders", "not a whole number"),
    ({"destination.mode": "sometimes"}, "form.destination.mode", "not one of live, test"),
    ({"destination.tokn": "x"}, "form.destination.tokn", "unknown field 'tokn'"),
    ({"colour": "blue"}, "form.colour", "unknown field 'colour'"),
    ({"action": "publish"}, "form.action", "no action"),
])
def test_a_bad_new_pipeline_form_names_the_field_and_saves_nothing(designer_console, change, field, words):
    client, csrf = designer_console.signed_in("bookkeeper")
    before = _files(designer_console.workspace.root)
    form = {**_new_form(csrf, action="save"), **change}
    response = client.post("/designer/new", data=form)
    assert 400 <= response.status_code < 500, response.text
    assert words in html.unescape(response.text)
    if field:
        assert field in response.text
    assert "Traceback" not in response.text
    assert _files(designer_console.workspace.root) == before


# -- posting options ---------------------------------------------------------------------------------------------

def test_options_show_the_diff_then_save_keeping_comments(designer_console):
    client, csrf = designer_console.signed_in("bookkeeper")
    form = {"csrf_token": csrf, "options.income_account": "Amazon Sales", "options.customer_strategy": "per_buyer"}
    diff = client.post("/designer/shop/options", data={**form, "action": "diff"})
    assert diff.status_code == 200
    assert "-    income_account: Sales" in diff.text and "+    income_account: Amazon Sales" in diff.text
    assert "income_account: Sales\n" in designer_console.shop_file().read_text()  # not yet
    saved = client.post("/designer/shop/options", data={**form, "action": "save"})
    assert saved.status_code == 200 and "Saved" in saved.text
    text = designer_console.shop_file().read_text()
    assert "# the shop's pipeline: a comment the designer must keep" in text and "# how the shop posts" in text
    assert "income_account: Amazon Sales" in text and "customer_strategy: per_buyer" in text
    assert designer_console.shop.pipeline.destination.options["customer_strategy"] == "per_buyer"  # served now


@pytest.mark.parametrize("form, field, words", [
    ({"options.customer_stratgy": "per_buyer"}, "form.options.customer_stratgy", "unknown field 'customer_stratgy'"),
    ({"options.customer_strategy": "per_planet"}, "form.options.customer_strategy", "not one of"),
    ({"options.colour": "x"}, "form.options.colour", "unknown field"),
])
def test_bad_options_name_the_field_and_save_nothing(designer_console, form, field, words):
    client, csrf = designer_console.signed_in("bookkeeper")
    before = _files(designer_console.workspace.root)
    response = client.post("/designer/shop/options", data={"csrf_token": csrf, "action": "save", **form})
    assert response.status_code == 400 and field in response.text
    assert words in html.unescape(response.text)
    assert _files(designer_console.workspace.root) == before


# -- the grids and their suggestions -----------------------------------------------------------------------------

def test_the_role_grid_saves_accounts_and_a_rule_in_the_pipeline_s_role_file(designer_console):
    client, csrf = designer_console.signed_in("bookkeeper")
    form = {"csrf_token": csrf, "action": "save", "account.storage_fees": "Amazon Storage", "account.bank": "Checking",
            "rule.1.transaction_type": "other-transaction", "rule.1.amount_type": "other-transaction",
            "rule.1.amount_description": "Lagergebühren", "rule.1.role": "storage_fees"}
    response = client.post("/designer/shop/roles", data=form)
    assert response.status_code == 200, response.text
    text = designer_console.shop_file().read_text()
    assert "roles: shop-roles.yaml" in text and "storage_fees: Amazon Storage" in text
    roles = (designer_console.workspace.root / "shop-roles.yaml").read_text()
    assert "amount_description: Lagergebühren, role: storage_fees" in roles
    page = client.get("/designer/shop")  # the row now has its role: no longer an open row
    assert 'name="rule.1.role"' not in page.text


def test_the_role_grid_refuses_an_unknown_role_or_field(designer_console):
    client, csrf = designer_console.signed_in("bookkeeper")
    before = _files(designer_console.workspace.root)
    for form, field in (({"account.salez": "X"}, "form.account.salez"),
                        ({"rule.1.amount_description": "x", "rule.1.role": "guess"}, "form.rule.1.role"),
                        ({"rule.x.role": "sales"}, "form.rule.x.role"),
                        ({"account.sales": ""}, "form.account.sales")):
        response = client.post("/designer/shop/roles", data={"csrf_token": csrf, "action": "save", **form})
        assert response.status_code == 400 and field in response.text, (form, response.text)
    assert _files(designer_console.workspace.root) == before


def test_suggestions_are_accepted_or_rejected_inline_and_feed_the_next_ones(designer_console):
    client, csrf = designer_console.signed_in("bookkeeper")
    view = designer_console.with_token("viewer").get("/api/v1/pipelines/shop/designer").json()
    row = next(r for r in view["amount_rows"] if r["amount_description"] == "Lagergebühren")
    assert row["role"] is None and row["suggestions"][0]["target"] == "storage_fees"
    top = row["suggestions"][0]
    item = next(r for r in view["sku_rows"] if r["sku"] == "wid_blu_2")["suggestions"][0]
    rejected = client.post(f"/designer/shop/suggestions/{item['id']}/reject", data={"csrf_token": csrf},
                           follow_redirects=False)
    assert rejected.status_code == 303 and rejected.headers["location"] == "/designer/shop#items"
    accepted = client.post(f"/designer/shop/suggestions/{top['id']}/accept", data={"csrf_token": csrf})
    assert accepted.status_code == 200
    assert '<option value="storage_fees" selected>' in accepted.text and "accepted: storage_fees" in accepted.text
    recorded = (designer_console.workspace.root / ".ledgerlink" / "accepted-suggestions.json").read_text()
    assert '"target": "storage_fees"' in recorded  # where `ledgerlink suggest` keeps them
    view = designer_console.with_token("viewer").get("/api/v1/pipelines/shop/designer").json()
    row = next(r for r in view["amount_rows"] if r["amount_description"] == "Lagergebühren")
    assert row["accepted"] == "storage_fees"
    assert row["suggestions"][0]["reason"].startswith("you accepted storage_fees")  # it learnt
    assert next(r for r in view["sku_rows"] if r["sku"] == "wid_blu_2")["suggestions"] == []  # not offered again
    gone = client.post(f"/designer/shop/suggestions/{item['id']}/reject", data={"csrf_token": csrf})
    assert gone.status_code == 404 and "no open suggestion" in gone.text
    audit = [a["action"] for a in designer_console.workspace.audit.list(limit=5)]
    assert "suggestion accepted" in audit and "suggestion rejected" in audit


def test_the_item_grid_maps_a_sku_from_its_suggestion(designer_console):
    client, csrf = designer_console.signed_in("bookkeeper")
    view = designer_console.with_token("viewer").get("/api/v1/pipelines/shop/designer").json()
    row = next(r for r in view["sku_rows"] if r["sku"] == "wid_blu_2")
    assert row["suggestions"][0]["target"] == "Widget Blue 2-Pack"
    client.post(f"/designer/shop/suggestions/{row['suggestions'][0]['id']}/accept", data={"csrf_token": csrf})
    page = client.get("/designer/shop")
    index = re.search(r'name="sku\.(\d+)\.sku" value="wid_blu_2"', page.text).group(1)
    assert f'name="sku.{index}.item" value="Widget Blue 2-Pack"' in page.text
    saved = client.post("/designer/shop/items", data={"csrf_token": csrf, "action": "save",
                                                      f"sku.{index}.sku": "wid_blu_2",
                                                      f"sku.{index}.item": "Widget Blue 2-Pack"})
    assert saved.status_code == 200, saved.text
    assert "sku_map:\n        wid_blu_2: Widget Blue 2-Pack" in designer_console.shop_file().read_text()
    bad = client.post("/designer/shop/items", data={"csrf_token": csrf, "action": "save", "sku.0.item": "X"})
    assert bad.status_code == 400 and "form.sku.0.sku" in bad.text


# -- mapping templates -------------------------------------------------------------------------------------------

def test_the_template_page_shows_the_mapping_and_staged_records(designer_console):
    client, _ = designer_console.signed_in("bookkeeper")
    page = client.get(TEMPLATE)
    assert page.status_code == 200 and "order.grand_total" in page.text and "orders/O-0001" in page.text
    assert client.get("/designer/shop/templates/nothing.json.j2").status_code == 422


def test_a_preview_shows_the_document_its_difference_and_the_revisions_it_would_make(designer_console):
    client, csrf = designer_console.signed_in("bookkeeper")
    response = client.post(f"{TEMPLATE}/preview", data={"csrf_token": csrf, "text": GOOD_TEMPLATE,
                                                        "records": _record(designer_console)})
    assert response.status_code == 200, response.text
    assert "<code>PrivateNote</code>" in response.text and "made in the designer" in response.text
    assert "would become a revision" in response.text
    assert "Saving makes 3 posted document(s) revisions" in response.text  # all three receipts were posted
    same = client.post(f"{TEMPLATE}/preview", data={"csrf_token": csrf, "records": _record(designer_console),
                                                    "text": client.get("/api/v1/pipelines/shop/designer") and
                                                    designer_console.receipt_template()})
    assert "the same as the current mapping produces" in same.text and "No posted document would change" in same.text


@pytest.mark.parametrize("text, line, words", [
    ('{\n  "DocNumber": {{ order.order_id }},\n  {% for x in y %}\n}\n', 4, "Unexpected end of template"),
    ('{\n  "DocNumber": {{ order.order_id }},\n  "Memo": {{ order.memo_text }}\n}\n', 3, "undefined value"),
    ('{\n  "DocNumber": {{ order.order_id | nosuchfilter }}\n}\n', 2, "No filter named 'nosuchfilter'"),
])
def test_a_template_error_points_at_the_line_in_the_preview_and_on_save(designer_console, text, line, words):
    client, csrf = designer_console.signed_in("bookkeeper")
    before = _files(designer_console.workspace.root)
    preview = client.post(f"{TEMPLATE}/preview", data={"csrf_token": csrf, "text": text,
                                                       "records": _record(designer_console)})
    assert preview.status_code == 422
    body = html.unescape(preview.text)
    assert f"template receipt.json.j2, line {line}" in body and words in body
    assert f'<span class="badline"><span class="lineno">{line}</span>' in preview.text
    saved = client.post(TEMPLATE, data={"csrf_token": csrf, "text": text, "action": "save"})
    assert saved.status_code == 422 and f"line {line}" in saved.text and "Nothing was saved" in saved.text
    assert _files(designer_console.workspace.root) == before


def test_a_preview_needs_text_and_a_picked_record(designer_console):
    client, csrf = designer_console.signed_in("bookkeeper")
    assert "form.records" in client.post(f"{TEMPLATE}/preview", data={"csrf_token": csrf, "text": "{}"}).text
    assert "form.text" in client.post(f"{TEMPLATE}/preview", data={"csrf_token": csrf, "records": "a/b"}).text
    unknown = client.post(f"{TEMPLATE}/preview", data={"csrf_token": csrf, "text": "{}", "records": "orders/nope"})
    assert unknown.status_code == 422 and "no staged orders record" in unknown.text


def test_saving_a_template_writes_the_pipeline_s_own_copy(designer_console):
    client, csrf = designer_console.signed_in("bookkeeper")
    diff = client.post(TEMPLATE, data={"csrf_token": csrf, "text": GOOD_TEMPLATE, "action": "diff"})
    assert diff.status_code == 200 and '+  "PrivateNote": "made in the designer",' in html.unescape(diff.text)
    assert "+    receipt.json.j2: mappings/shop/receipt.json.j2" in diff.text
    saved = client.post(TEMPLATE, data={"csrf_token": csrf, "text": GOOD_TEMPLATE, "action": "save"})
    assert saved.status_code == 200 and "Saved" in saved.text
    root = designer_console.workspace.root
    assert (root / "mappings" / "shop" / "receipt.json.j2").read_text() == GOOD_TEMPLATE
    assert designer_console.shop.pipeline.destination.mappings == {"receipt.json.j2": "mappings/shop/receipt.json.j2"}
    page = client.get(TEMPLATE)
    assert "the pipeline's own copy" in html.unescape(page.text) and "made in the designer" in page.text
    nothing = client.post(TEMPLATE, data={"csrf_token": csrf, "text": GOOD_TEMPLATE, "action": "save"})
    assert nothing.status_code == 400 and "nothing to save" in nothing.text


def test_an_option_left_at_its_default_is_not_written(designer_console):
    client, csrf = designer_console.signed_in("bookkeeper")
    page = client.get("/designer/shop")
    assert re.search(r'name="options.create_items" value="1"\s+checked', page.text)  # the default shows
    same = client.post("/designer/shop/options", data={"csrf_token": csrf, "action": "diff",
                                                       "options.create_items:present": "1",
                                                       "options.create_items": "1"})
    assert same.status_code == 200 and "no change to the pipeline file" in same.text
    off = client.post("/designer/shop/options", data={"csrf_token": csrf, "action": "diff",
                                                      "options.create_items:present": "1"})
    assert "+    create_items: false" in off.text


def test_a_new_pipeline_s_options_start_from_a_shipped_example(designer_console, monkeypatch):
    from ledgerlink.designer import actions

    example = "name: x\nsource: {connector: fake_source}\ndestination:\n  connector: tiny_ledger\n  options:\n" \
              "    # where receipts are deposited\n    deposit_account: Undeposited Funds\n"
    monkeypatch.setattr(actions, "shipped_examples", lambda s, d: {"fake-to-tiny.yaml": example})
    client, csrf = designer_console.signed_in("bookkeeper")
    response = client.post("/designer/new", data=_new_form(csrf, action="diff", example="fake-to-tiny.yaml"))
    assert response.status_code == 200
    assert "+    # where receipts are deposited" in response.text and "+    deposit_account: Undeposited Funds" in \
        response.text
    bad = client.post("/designer/new", data=_new_form(csrf, action="diff", example="nope.yaml"))
    assert bad.status_code == 400 and "form.example" in bad.text


def test_a_save_over_a_newer_file_is_refused(designer_console):
    client, csrf = designer_console.signed_in("bookkeeper")
    base = re.search(r'name="base" value="(\w+)"', client.get("/designer/shop").text).group(1)
    form = {"csrf_token": csrf, "action": "save", "base": base}
    first = client.post("/designer/shop/options", data={**form, "options.income_account": "First"})
    assert first.status_code == 200 and "Saved" in first.text
    second = client.post("/designer/shop/options", data={**form, "options.income_account": "Second"})
    assert second.status_code == 400 and "changed since this page was opened" in second.text
    assert "income_account: First" in designer_console.shop_file().read_text()
    new_base = re.search(r'i.value = "(\w+)"', first.text).group(1)  # the page carries on from the saved file
    third = client.post("/designer/shop/options", data={**form, "base": new_base, "options.income_account": "Third"})
    assert third.status_code == 200 and "income_account: Third" in designer_console.shop_file().read_text()
