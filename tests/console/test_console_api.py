"""The API does what the CLI does, through the same core functions, and answers bad input with a 4xx that says
what is wrong (the CLI's wording), changing nothing."""

from __future__ import annotations

from sandbox_helpers import wait_for

P = "/api/v1/pipelines/shop"


def test_pipelines_list_with_their_health(console):
    client = console.with_token("viewer")
    found = {p["name"]: p for p in client.get("/api/v1/pipelines").json()}
    assert set(found) == {"shop", "outlet"}  # notes.yaml is not a pipeline
    shop = found["shop"]
    assert shop["last_run"]["status"] and shop["last_run"]["read"] == 8
    assert shop["dead_letters_open"] == 1 and shop["held_revisions"] == 0 and shop["reconcile"] is None
    assert "1 dead letter(s) open" in shop["alerts"]
    detail = client.get(P).json()
    assert detail["status_lines"] == [] and detail["destination"] == "fake_dest"
    assert client.get(f"{P}/status").json() == {"pipeline": "shop", "lines": []}


def test_each_finished_run_logs_one_line(console):
    lines = console.workspace.lines
    assert any(line.startswith("run finished: shop ") and "read 8" in line and "dead letters open 1" in line
               and line.endswith("s") for line in lines)


def test_runs_history_and_run_now(console):
    client = console.with_token("bookkeeper")
    runs = client.get(f"{P}/runs?limit=5").json()
    assert len(runs) == 1 and runs[0]["counts"]["read_total"] == 8
    queued = client.post(f"{P}/runs")
    assert queued.status_code == 202 and queued.json()["queued"] is True
    assert wait_for(lambda: console.shop.syncs >= 2 and console.shop.idle)
    assert len(client.get(f"{P}/runs").json()) == 2
    assert console.workspace.audit.list()[0]["action"] == "sync requested"


def test_dead_letters_list_explain_retry_in_bulk(console):
    client = console.with_token("bookkeeper")
    letters = client.get(f"{P}/dead-letters").json()
    assert len(letters) == 1 and letters[0]["status"] == "open"
    letter = client.get(f"{P}/dead-letters/{letters[0]['id']}").json()
    assert letter["message"] and letter["record"] is not None
    done = client.post(f"{P}/dead-letters/retry", json={"all": True}).json()
    assert done == [{"id": letter["id"], "result": "will be normalised again on the next sync"}]
    assert client.get(f"{P}/dead-letters").json() == []
    assert [d["status"] for d in client.get(f"{P}/dead-letters?status=all").json()] == ["retried"]
    entry = console.workspace.audit.list()[0]
    assert entry["actor"] == "token:bookkeeper-script" and entry["pipeline"] == "shop"


def test_bad_input_is_a_4xx_that_changes_nothing(console):
    client = console.with_token("admin")
    before = console.shop.store.dead_letters.count_open()
    cases = [
        ("GET", f"{P}/runs?limit=abc", None, 400, "'abc' is not a whole number", "query parameter limit"),
        ("GET", "/runs?pipeline=shop&limit=-1", None, 400, "out of range", "query parameter limit"),
        ("GET", f"{P}/dead-letters?status=lost", None, 400, "'lost' is not one of", "query parameter status"),
        ("GET", f"{P}/dead-letters/abc", None, 400, "not a dead letter id", "id"),
        ("GET", f"{P}/dead-letters/999", None, 404, "no dead letter 999", "id"),
        ("POST", f"{P}/dead-letters/retry", b"{not json", 400, "not valid JSON", "body"),
        ("POST", f"{P}/dead-letters/retry", b"[1, 2]", 400, "must be a JSON object", "body"),
        ("POST", f"{P}/dead-letters/retry", {"ids": "1"}, 400, "must be a list, not str", "body.ids"),
        ("POST", f"{P}/dead-letters/retry", {"ids": [True]}, 400, "whole numbers", "body.ids"),
        ("POST", f"{P}/dead-letters/retry", {}, 400, "is required", "body.ids"),
        ("POST", f"{P}/dead-letters/discard", {"ids": [1, 999]}, 404, "no dead letter 999", "ids"),
        ("POST", f"{P}/revisions/apply", {"keys": ["nope"]}, 404, "no held revision for 'nope'", "keys"),
        ("POST", f"{P}/reconcile", {"checks": ["astrology"]}, 404, "no reconcile check named astrology", None),
        ("POST", f"{P}/reconcile", {"offline": "yes"}, 400, "must be a bool", "body.offline"),
        ("GET", f"{P}/trace?stream=orders", None, 400, "is required", "query parameter key"),
        ("GET", f"{P}/settlements/123", None, 404, "settlement 123 has not been planned", "settlement_id"),
        ("GET", f"{P}/reconcile", None, 404, "has not been reconciled", None),
        ("GET", "/api/v1/pipelines/nope", None, 404, "no pipeline named 'nope'", "pipeline"),
        ("GET", "/api/v1/nothing-here", None, 404, "no such page or API route", "/api/v1/nothing-here"),
        ("PUT", "/api/v1/pipelines", None, 405, "PUT is not allowed here", "/api/v1/pipelines"),
        ("POST", "/api/v1/users", {"name": "x", "role": "king", "password": "p" * 12}, 400, "no role named 'king'", "body.role"),
        ("POST", "/api/v1/users", {"name": "short", "role": "viewer", "password": "p"}, 400, "shorter than", "password"),
        ("POST", "/sync", None, 400, "several pipelines", "query parameter pipeline"),
    ]
    for method, path, body, status, message, where in cases:
        kwargs = {"content": body} if isinstance(body, bytes) else {"json": body} if body is not None else {}
        response = client.request(method, path, headers={"Accept": "application/json"}, **kwargs)
        assert response.status_code == status, (path, body, response.text)
        error = response.json()["error"]
        assert message in error["message"] and error["where"] == where, (path, error)
        assert set(error) == {"message", "where", "hint"}
    huge = client.post(f"{P}/dead-letters/retry", content=b" " * (2 << 20))
    assert huge.status_code == 413
    assert console.shop.store.dead_letters.count_open() == before
    assert [u.name for u in console.workspace.accounts.list()] == ["admin", "bookkeeper", "viewer"]


def test_errors_use_the_cli_wording(console):
    client = console.with_token("viewer")
    error = client.get(f"{P}/dead-letters/999").json()["error"]
    assert error["message"] == "no dead letter 999"  # what `ledgerlink dlq show` says


def test_revisions_with_a_diff_then_apply_and_discard(console, tmp_path):
    import fakes

    template = tmp_path / "receipt.json.j2"
    template.write_text(fakes.RECEIPT.replace('"Total"', '"PrivateNote": "revised", "Total"'))
    from ledgerlink.runtime import sync

    sync(console.shop.pipeline, plugin_host=console.workspace.plugin_host, store=console.shop.store, replan=True)
    client = console.with_token("bookkeeper")
    held = client.get(f"{P}/revisions").json()
    assert held, "a changed mapping holds the posted receipts"
    assert {"path": "PrivateNote", "old": None, "new": "revised", "change": "added"} in held[0]["diff"]
    refused = client.post(f"{P}/revisions/apply", json={"keys": [held[0]["key"]]})
    assert refused.status_code == 422  # the fake ledger cannot revise: the CLI's own error and hint
    assert refused.json()["error"] == {"message": "fake_dest cannot revise a posted Receipt", "where": None,
                                       "hint": "correct it in the ledger by hand, then `ledgerlink revisions discard` it"}
    assert len(client.get(f"{P}/revisions").json()) == len(held)  # nothing changed
    rest = client.post(f"{P}/revisions/discard", json={"all": True}).json()
    assert {r["key"] for r in rest} == {h["key"] for h in held}
    assert client.get(f"{P}/revisions").json() == []
    assert console.workspace.audit.list(limit=1)[0]["action"] == "revisions discarded"


def test_reconcile_trace_and_settlements(console):
    client = console.with_token("bookkeeper")
    report = client.post(f"{P}/reconcile", json={"offline": True}).json()
    assert report["pipeline"] == "shop" and "checks" in report and report["offline"] is True
    assert client.get(f"{P}/reconcile").json()["at"] == report["at"]
    assert client.get(P).json()["reconcile"]["ok"] == report["ok"]
    traced = client.get(f"{P}/trace", params={"stream": "orders", "key": "O-0000"}).json()
    assert traced and traced[0]["status"] == "done" and traced[0]["destination_id"]
    assert client.get(f"{P}/settlements").json() == []  # this pipeline plans no payouts


def test_admins_manage_users_and_tokens_and_read_the_audit_log(console):
    client = console.with_token("admin")
    added = client.post("/api/v1/users", json={"name": "carol", "role": "viewer", "password": "p" * 12})
    assert added.status_code == 201 and added.json()["role"] == "viewer"
    assert "carol" in [u["name"] for u in client.get("/api/v1/users").json()]
    created = client.post("/api/v1/tokens", json={"name": "export", "role": "viewer"}).json()
    assert created["token"].startswith("llt_")
    listed = client.get("/api/v1/tokens").json()
    assert all("token" not in t and "token_hash" not in t for t in listed)
    assert client.delete(f"/api/v1/tokens/{created['id']}").json() == {"revoked": created["id"]}
    assert client.delete("/api/v1/users/carol").json() == {"removed": "carol"}
    actions = [a["action"] for a in client.get("/api/v1/audit?limit=4").json()]
    assert actions == ["user removed", "token revoked", "token created", "user added"]
    assert client.get("/api/v1/audit?limit=x").status_code == 400
