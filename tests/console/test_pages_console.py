"""The web console's pages through Starlette's TestClient: every page for every role, sign-in and its failures,
CSRF, bad form fields, and the actions (retry, discard, apply) working for a bookkeeper and refused to a viewer."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from console_helpers import PASSWORD

PAGES = ["/", "/runs", "/dead-letters", "/dead-letters?status=all", "/revisions", "/settlements",
         "/reconcile", "/trace", "/trace?stream=orders&key=O-0000"]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "every form carries a CSRF token"
    return found.group(1)


def sign_in(console, name: str, password: str = PASSWORD) -> tuple[TestClient, str]:
    client = TestClient(console.app)
    form = client.get("/signin")
    response = client.post("/signin", data={"csrf_token": _csrf(form.text), "name": name, "password": password},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    page = client.get("/")
    assert page.status_code == 200 and f"{name} ({name})" in page.text
    return client, _csrf(page.text)


@pytest.mark.parametrize("role", ["viewer", "bookkeeper", "admin"])
def test_every_page_renders_for_every_role(console, role):
    client, _ = sign_in(console, role)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        assert response.headers["content-type"].startswith("text/html")
        assert "Sign out" in response.text
    overview = client.get("/").text
    assert "shop" in overview and "outlet" in overview and "1 dead letter(s) open" in overview
    letters = client.get("/dead-letters").text
    assert ("Retry selected" in letters) is (role != "viewer")
    assert ('name="ids"' in letters) is (role != "viewer")
    assert ("Run now" in overview) is (role != "viewer")


def test_unauthenticated_pages_redirect_to_sign_in_and_actions_are_refused(console):
    for path in PAGES:
        response = console.anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/signin?next=/")
    refused = console.anonymous.post("/dead-letters/retry", data={"pipeline": "shop", "ids": "1"})
    assert refused.status_code == 401 and "sign in" in refused.text
    assert console.shop.store.dead_letters.count_open() == 1
    assert console.anonymous.get("/static/htmx.min.js").status_code == 200
    assert console.anonymous.get("/static/htmx.LICENSE").status_code == 200


def test_sign_in_failures_are_clear_and_throttled(console):
    client = TestClient(console.app)
    token = _csrf(client.get("/signin").text)
    wrong = client.post("/signin", data={"csrf_token": token, "name": "viewer", "password": "nope"})
    assert wrong.status_code == 401 and "wrong user name or password" in wrong.text
    no_csrf = client.post("/signin", data={"name": "viewer", "password": PASSWORD})
    assert no_csrf.status_code == 403 and "sign-in form has expired" in no_csrf.text
    missing = client.post("/signin", data={"csrf_token": token, "name": "viewer"})
    assert missing.status_code == 400 and "enter your user name and password" in missing.text
    huge = client.post("/signin", data={"csrf_token": token, "name": "x" * 100_000, "password": "p"})
    assert huge.status_code in (400, 413) and "Traceback" not in huge.text
    last = None
    for _ in range(12):  # bounded: the throttle locks out well before this
        last = client.post("/signin", data={"csrf_token": token, "name": "viewer", "password": "nope"})
        if last.status_code == 429:
            break
    assert last is not None and last.status_code == 429 and "too many failed sign-ins" in last.text
    assert "Retry-After" in last.headers


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(console):
    client = TestClient(console.app)
    token = _csrf(client.get("/signin").text)
    data = {"csrf_token": token, "name": "viewer", "password": PASSWORD}
    assert client.post("/signin?next=/runs", data=data, follow_redirects=False).headers["location"] == "/runs"
    assert client.post("/signin?next=//evil.example", data=data, follow_redirects=False).headers["location"] == "/"


def test_sign_out_needs_csrf_and_ends_the_session(console):
    client, csrf = sign_in(console, "viewer")
    assert client.post("/signout", data={}).status_code == 403
    out = client.post("/signout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/signin"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_retry_a_dead_letter_shows_the_result_and_is_audited(console):
    client, csrf = sign_in(console, "bookkeeper")
    letter = console.shop.store.dead_letters.list("open")[0]
    page = client.get("/dead-letters").text
    assert "order line has no SKU" in page and f'value="{letter.id}"' in page
    done = client.post("/dead-letters/retry", data={"csrf_token": csrf, "pipeline": "shop", "ids": str(letter.id)})
    assert done.status_code == 200 and f"dead letter {letter.id}:" in done.text
    assert console.shop.store.dead_letters.count_open() == 0
    assert console.workspace.audit.list(limit=1)[0]["action"] == "dead letters retry"


def test_discard_every_open_dead_letter(console):
    client, csrf = sign_in(console, "admin")
    done = client.post("/dead-letters/discard", data={"csrf_token": csrf, "pipeline": "shop", "all": "1"})
    assert done.status_code == 200 and "discarded" in done.text
    assert console.shop.store.dead_letters.count_open() == 0


def test_actions_refused_for_viewers_and_without_csrf(console):
    viewer, csrf = sign_in(console, "viewer")
    refused = viewer.post("/dead-letters/retry", data={"csrf_token": csrf, "pipeline": "shop", "all": "1"})
    assert refused.status_code == 403 and "needs the bookkeeper role" in refused.text
    refused = viewer.post("/revisions/apply", data={"csrf_token": csrf, "pipeline": "shop", "all": "1"})
    assert refused.status_code == 403
    bookkeeper, _ = sign_in(console, "bookkeeper")
    no_csrf = bookkeeper.post("/dead-letters/retry", data={"pipeline": "shop", "all": "1"})
    assert no_csrf.status_code == 403 and "CSRF token is missing or wrong" in no_csrf.text
    assert console.shop.store.dead_letters.count_open() == 1  # nothing changed


def test_forms_with_missing_or_huge_fields_are_a_clear_4xx(console):
    client, csrf = sign_in(console, "bookkeeper")
    cases = [
        ("/dead-letters/retry", {"csrf_token": csrf, "pipeline": "shop"}, 400, "select at least one dead letter"),
        ("/dead-letters/retry", {"csrf_token": csrf, "pipeline": "shop", "ids": "abc"}, 400, "whole numbers"),
        ("/dead-letters/retry", {"csrf_token": csrf, "pipeline": "shop", "ids": "99999"}, 404, "no dead letter 99999"),
        ("/dead-letters/retry", {"csrf_token": csrf, "ids": "1"}, 400, "is required"),
        ("/dead-letters/retry", {"csrf_token": csrf, "pipeline": "nope", "ids": "1"}, 404, "nope"),
        ("/dead-letters/retry", {"csrf_token": csrf, "pipeline": "shop", "ids": "1" * 5000}, 400, "longer than"),
        ("/revisions/apply", {"csrf_token": csrf, "pipeline": "shop"}, 400, "select at least one revision"),
        ("/revisions/apply", {"csrf_token": csrf, "pipeline": "shop", "keys": "nope"}, 404, "no held revision"),
    ]
    for path, data, status, words in cases:
        response = client.post(path, data=data)
        assert response.status_code == status, (path, data, response.text[:300])
        assert words in response.text and "Traceback" not in response.text
    huge = client.post("/dead-letters/retry", data={"csrf_token": csrf, "pipeline": "shop", "ids": "1" * 2_000_000})
    assert huge.status_code == 413 and "larger than" in huge.text
    assert client.get("/dead-letters?status=bogus").status_code == 400
    assert client.get("/trace?key=O-1").status_code == 400
    assert client.get("/settlements/shop/123").status_code == 404
    assert console.shop.store.dead_letters.count_open() == 1


def test_revisions_side_by_side_then_apply_refused_and_discard(console, tmp_path):
    import fakes
    from ledgerlink.runtime import sync

    template = tmp_path / "receipt.json.j2"
    template.write_text(fakes.RECEIPT.replace('"Total"', '"PrivateNote": "revised", "Total"'))
    sync(console.shop.pipeline, plugin_host=console.workspace.plugin_host, store=console.shop.store, replan=True)
    client, csrf = sign_in(console, "bookkeeper")
    page = client.get("/revisions").text
    assert 'class="new"><th>PrivateNote</th><td>revised</td>' in page and "Posted" in page
    key = re.search(r'name="keys" value="([^"]+)"', page).group(1)
    refused = client.post("/revisions/apply", data={"csrf_token": csrf, "pipeline": "shop", "keys": key})
    assert refused.status_code == 422 and "cannot revise a posted Receipt" in refused.text
    done = client.post("/revisions/discard", data={"csrf_token": csrf, "pipeline": "shop", "all": "1"})
    assert done.status_code == 200 and "kept as posted" in done.text
    assert "Nothing held." in client.get("/revisions").text


def test_reconcile_now_and_trace(console):
    client, csrf = sign_in(console, "bookkeeper")
    done = client.post("/reconcile/run", data={"csrf_token": csrf, "pipeline": "shop", "offline": "1"})
    assert done.status_code == 200 and "checked" in done.text
    traced = client.get("/trace?stream=orders&key=O-0000").text
    assert "<td>done</td>" in traced and "Ledger id" in traced


def test_runs_page_draws_a_chart_of_each_day(console):
    client, _ = sign_in(console, "viewer")
    page = client.get("/runs").text
    assert page.count("<svg") == 2 and "posted</title>" in page and "dead letters</title>" in page
    shop = page.split("<h2>shop", 1)[1].split("</section>", 1)[0]
    assert ": 1 dead letters</title>" in shop  # the fake source's line without a SKU, counted on its day


def test_runs_chart_counts_each_day():
    from ledgerlink.console.pages import runs_chart

    runs = [{"started_at": "2026-03-01T10:00:00", "counts": {"created": {"Receipt": 3}, "plan_dead_letters": 1}},
            {"started_at": "2026-03-01T11:00:00", "counts": {"created": {"Receipt": 1}, "normalise_dead_letters": 2}},
            {"started_at": "2026-03-02T09:00:00", "counts": {"created": {}}}]
    chart = runs_chart(runs)
    assert [(b["day"], b["posted"], b["dead"]) for b in chart["bars"]] == [("2026-03-01", 4, 3), ("2026-03-02", 0, 0)]
    assert chart["top"] == 4 and chart["bars"][0]["h1"] == chart["plot_h"]
