"""The Runs page's address and what is left of the first release's JSON routes, and the issue's "Bad input" list
walked through the pages (the API's own cases are in test_console_api / test_console_access): an expired session,
a bad token, a malformed body and a query parameter of the wrong type are each a 4xx with a clear message,
never a 500, and change nothing."""

from __future__ import annotations

from test_pages_console import sign_in

JSON = {"Accept": "application/json"}


def test_the_runs_page_lives_at_runs_and_the_old_address_redirects(console):
    client, _ = sign_in(console, "viewer")
    for accept in ({}, {"Accept": "*/*"}, {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}):
        page = client.get("/runs", headers=accept)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), accept
        assert "<h1>Runs</h1>" in page.text and 'href="/runs" class="here"' in page.text
    moved = client.get("/runs-history?limit=5", follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"] == "/runs?limit=5"
    assert "<h1>Runs</h1>" in client.get("/runs-history").text
    assert console.anonymous.get("/runs", follow_redirects=False).headers["location"] == "/signin?next=/runs"


def test_runs_still_answers_json_to_a_client_that_asks_only_for_json(console):
    client = console.with_token("viewer")
    runs = client.get("/runs?pipeline=shop&limit=1", headers=JSON)
    assert runs.headers["content-type"] == "application/json" and len(runs.json()) == 1
    assert runs.json() == client.get("/api/v1/pipelines/shop/runs?limit=1").json()
    several = client.get("/runs", headers=JSON)
    assert several.status_code == 400 and several.json()["error"]["where"] == "query parameter pipeline"
    assert console.anonymous.get("/runs", headers=JSON).status_code == 401
    # the other two first-release routes stay as signed-in JSON aliases
    assert {p["pipeline"] for p in client.get("/health").json()["pipelines"]} == {"shop", "outlet"}


def test_a_runs_query_of_the_wrong_type_is_a_400_page_naming_it(console):
    client, _ = sign_in(console, "viewer")
    token = console.with_token("viewer")
    for query, words in [("limit=abc", "&#39;abc&#39; is not a whole number"),
                         ("limit=0", "0 is out of range (1 to 1000)"), ("limit=1001", "1001 is out of range"),
                         ("limit=" + "9" * 40, "is out of range")]:
        page = client.get(f"/runs?{query}")
        assert page.status_code == 400 and words in page.text and "query parameter limit" in page.text, query
        api = token.get(f"/runs?pipeline=shop&{query}", headers=JSON)
        assert api.status_code == 400 and api.json()["error"]["where"] == "query parameter limit", query


def test_an_expired_session_sends_pages_to_sign_in_and_refuses_actions(console):
    client, csrf = sign_in(console, "bookkeeper")
    console.clock.now += 8 * 3600 + 1  # past the session's lifetime
    page = client.get("/dead-letters", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/signin?next=/dead-letters"
    action = client.post("/dead-letters/discard", data={"csrf_token": csrf, "pipeline": "shop", "all": "1"},
                         follow_redirects=False)
    assert action.status_code == 401 and "session has expired" in action.text and "Traceback" not in action.text
    assert console.shop.store.dead_letters.count_open() == 1  # nothing changed


def test_a_bad_token_is_refused_by_pages_too(console):
    from starlette.testclient import TestClient

    bad = TestClient(console.app, headers={"Authorization": "Bearer llt_not-a-token"})
    assert bad.get("/", follow_redirects=False).headers["location"] == "/signin?next=/"
    action = bad.post("/dead-letters/discard", data={"pipeline": "shop", "all": "1"}, follow_redirects=False)
    assert action.status_code == 401 and "Traceback" not in action.text
    assert console.shop.store.dead_letters.count_open() == 1


def test_a_malformed_body_to_a_page_action_is_a_clear_4xx(console):
    client, csrf = sign_in(console, "bookkeeper")
    syncs = console.shop.syncs
    broken = client.post("/dead-letters/discard", content=b"{not json",
                         headers={"Content-Type": "application/json", "X-CSRF-Token": csrf})
    assert broken.status_code == 400 and "not valid JSON" in broken.text
    garbled = client.post("/dead-letters/discard", content=b"%%%&&&=",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert garbled.status_code == 403 and "CSRF token is missing or wrong" in garbled.text
    for path, data, words in [
        ("/run-now", {"csrf_token": csrf}, "is required"),
        ("/run-now", {"csrf_token": csrf, "pipeline": "x" * 600}, "longer than 512 characters"),
        ("/reconcile/run", {"csrf_token": csrf}, "is required"),
        ("/signout", {}, "CSRF token is missing or wrong"),
    ]:
        response = client.post(path, data=data, follow_redirects=False)
        assert response.status_code in (400, 403) and words in response.text, (path, response.text[:300])
    assert console.shop.store.dead_letters.count_open() == 1
    assert console.shop.syncs == syncs and client.get("/").status_code == 200  # no sync queued; still signed in


#: every page action (POST), each needing the bookkeeper role but signing out
ACTIONS = ["/run-now", "/dead-letters/retry", "/dead-letters/discard", "/revisions/apply", "/revisions/discard",
           "/review/approve", "/review/reject", "/reconcile/run"]


def test_every_page_action_is_refused_without_a_sign_in_and_to_a_viewer(console):
    for path in [*ACTIONS, "/signout"]:
        response = console.anonymous.post(path, data={"pipeline": "shop", "all": "1", "reason": "x"},
                                          follow_redirects=False)
        assert response.status_code == 401 and "sign in" in response.text, path
    assert console.anonymous.get("/settlements/shop/1", follow_redirects=False).status_code == 303
    viewer, csrf = sign_in(console, "viewer")
    for path in ACTIONS:
        response = viewer.post(path, data={"csrf_token": csrf, "pipeline": "shop", "all": "1", "reason": "x"})
        assert response.status_code == 403 and "needs the bookkeeper role" in response.text, path
    assert console.shop.store.dead_letters.count_open() == 1
    assert [e["action"] for e in console.workspace.audit.list()] == ["signed in"]  # nothing else was done
