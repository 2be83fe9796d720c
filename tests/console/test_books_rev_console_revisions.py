"""The console's revisions, filtered (issue 19): `{"all": true}` with document types and a date range takes only
the held revisions they select, in the API and on the Revisions page; a bad date is a 400 naming the field."""

from __future__ import annotations

P = "/api/v1/pipelines/shop"


def _hold_receipts(console, tmp_path):
    import fakes
    from ledgerlink.runtime import sync

    template = tmp_path / "receipt.json.j2"
    template.write_text(fakes.RECEIPT.replace('"Total"', '"PrivateNote": "revised", "Total"'))
    sync(console.shop.pipeline, plugin_host=console.workspace.plugin_host, store=console.shop.store, replan=True)


def test_discard_all_takes_only_what_the_filters_select(console, tmp_path):
    _hold_receipts(console, tmp_path)
    client = console.with_token("bookkeeper")
    held = client.get(f"{P}/revisions").json()
    assert held and {h["stream"] for h in held} == {"Receipt"}
    bad = client.post(f"{P}/revisions/discard", json={"all": True, "from": "last week"})
    assert bad.status_code == 400 and bad.json()["error"]["where"] == "body.from"
    none = client.post(f"{P}/revisions/discard", json={"all": True, "types": ["Invoice"]})
    assert none.status_code == 200 and none.json() == []
    assert len(client.get(f"{P}/revisions").json()) == len(held)
    done = client.post(f"{P}/revisions/discard", json={"all": True, "types": ["receipt"]}).json()
    assert {d["key"] for d in done} == {h["key"] for h in held}
    assert client.get(f"{P}/revisions").json() == []


def test_the_revisions_page_shows_and_acts_on_the_filtered_ones(console, tmp_path):
    _hold_receipts(console, tmp_path)
    client, csrf = console.signed_in("bookkeeper")
    everything = client.get("/revisions").text
    assert "Receipt:" in everything and "Apply all shown" in everything
    assert "Nothing held." in client.get("/revisions", params={"type": "Invoice"}).text.split("<h2>shop")[1]
    kept = client.post("/revisions/discard", data={"pipeline": "shop", "all": "1", "type": "Invoice",
                                                  "csrf_token": csrf})
    assert kept.status_code == 200 and "no held revisions" in kept.text
    assert client.get(f"{P}/revisions").json()  # still held
