"""Who may do what: every route refused without a sign-in (401) and to a role below the one it needs (403),
sessions (cookie flags, expiry, CSRF), login throttling and lockout, API tokens."""

from __future__ import annotations

import os
import stat

from console_helpers import PASSWORD

P = "/api/v1/pipelines/shop"
#: (method, path, least role) for every route but sign-in itself (`/runs` is the Runs page unless a client asks
#: for JSON only: these tests ask for JSON, see JSON)
ROUTES = [
    ("GET", "/health", "viewer"), ("GET", "/runs?pipeline=shop", "viewer"), ("POST", "/sync?pipeline=shop", "bookkeeper"),
    ("GET", "/api/v1/session", "viewer"), ("DELETE", "/api/v1/session", "viewer"),
    ("GET", "/api/v1/pipelines", "viewer"), ("GET", P, "viewer"), ("GET", f"{P}/status", "viewer"),
    ("GET", f"{P}/runs", "viewer"), ("POST", f"{P}/runs", "bookkeeper"),
    ("GET", f"{P}/dead-letters", "viewer"), ("GET", f"{P}/dead-letters/1", "viewer"),
    ("POST", f"{P}/dead-letters/retry", "bookkeeper"), ("POST", f"{P}/dead-letters/discard", "bookkeeper"),
    ("GET", f"{P}/revisions", "viewer"), ("POST", f"{P}/revisions/apply", "bookkeeper"),
    ("POST", f"{P}/revisions/discard", "bookkeeper"), ("GET", f"{P}/settlements", "viewer"),
    ("GET", f"{P}/settlements/123", "viewer"), ("GET", f"{P}/reconcile", "viewer"),
    ("POST", f"{P}/reconcile", "bookkeeper"), ("GET", f"{P}/trace?stream=orders&key=O-0000", "viewer"),
    ("GET", "/api/v1/audit", "admin"), ("GET", "/api/v1/users", "admin"), ("POST", "/api/v1/users", "admin"),
    ("DELETE", "/api/v1/users/viewer", "admin"), ("GET", "/api/v1/tokens", "admin"),
    ("POST", "/api/v1/tokens", "admin"), ("DELETE", "/api/v1/tokens/nope", "admin"),
]
RANK = {"viewer": 0, "bookkeeper": 1, "admin": 2}
JSON = {"Accept": "application/json"}


def test_every_route_refuses_anyone_not_signed_in(console):
    for method, path, _ in ROUTES:
        response = console.anonymous.request(method, path, json={"ids": [1]} if method == "POST" else None,
                                             headers=JSON)
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["message"] == "sign in or send an API token"
    assert console.shop.store.dead_letters.count_open() == 1


def test_every_route_checks_the_role_it_needs(console):
    clients = {role: console.with_token(role) for role in RANK}
    for method, path, needed in ROUTES:
        for role, client in clients.items():
            response = client.request(method, path, json={}, headers=JSON)
            if RANK[role] < RANK[needed]:
                assert response.status_code == 403, (method, path, role, response.text)
                assert f"this needs the {needed} role" in response.json()["error"]["message"]
            else:
                assert response.status_code not in (401, 403, 500), (method, path, role, response.text)
    assert console.shop.store.dead_letters.count_open() == 1  # the empty bodies changed nothing


def test_healthz_answers_anyone_and_reveals_nothing(console):
    response = console.anonymous.get("/healthz")
    assert response.status_code == 200 and response.json() == {"ok": True}


def test_vendor_callbacks_answer_without_sign_in_but_their_status_does_not(tmp_path):
    import fakes
    from starlette.testclient import TestClient

    from console_helpers import write_pipeline
    from ledgerlink.console import Workspace
    from ledgerlink.console.app import build_console_app

    host = fakes.fresh_host(tmp_path)
    host.register(fakes.web_plugin, name="fake_web")
    ws = Workspace.open(write_pipeline(tmp_path, "hooked"), host, every=None, debounce=0, announce=lambda s: None)
    try:
        client = TestClient(build_console_app(ws))
        assert client.post("/webhooks/fake/event").json() == {"ok": True, "pipeline": "hooked"}
        assert client.get("/webhooks/fake/status").status_code == 401
    finally:
        ws.stop()


def test_a_session_cookie_is_httponly_samesite_and_expires(console):
    client = console.anonymous
    response = client.post("/api/v1/session", json={"name": "viewer", "password": PASSWORD})
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=28800" in cookie
    assert "Secure" not in cookie  # plain http on loopback; behind TLS it is Secure
    assert client.get("/api/v1/session").json()["user"] == "viewer"
    console.clock.now += 8 * 3600 + 1
    expired = client.get("/api/v1/pipelines")
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]


def test_cookies_are_secure_when_asked(console):
    from starlette.testclient import TestClient

    from ledgerlink.console.app import build_console_app

    client = TestClient(build_console_app(console.workspace, cookie_secure=True))
    response = client.post("/api/v1/session", json={"name": "viewer", "password": PASSWORD})
    assert "Secure" in response.headers["set-cookie"]


def test_unsafe_calls_with_a_cookie_need_the_csrf_token(console):
    client, csrf = console.signed_in("bookkeeper")
    open_ids = [d.id for d in console.shop.store.dead_letters.list("open")]
    refused = client.post(f"{P}/dead-letters/discard", json={"ids": open_ids})
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]
    wrong = client.post(f"{P}/dead-letters/discard", json={"ids": open_ids}, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    assert console.shop.store.dead_letters.count_open() == 1  # nothing changed
    done = client.post(f"{P}/dead-letters/discard", json={"ids": open_ids}, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200 and done.json() == [{"id": open_ids[0], "result": "discarded"}]
    audit = console.workspace.audit.list()
    assert audit[0]["actor"] == "bookkeeper" and audit[0]["action"] == "dead letters discarded"


def test_signing_out_ends_the_session(console):
    client, csrf = console.signed_in("viewer")
    assert client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert client.get("/api/v1/pipelines").status_code == 401


def test_failed_sign_ins_are_throttled_then_locked_out(console):
    client = console.anonymous
    for _ in range(5):
        wrong = client.post("/api/v1/session", json={"name": "admin", "password": "not it at all"})
        assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "wrong user name or password"
    locked = client.post("/api/v1/session", json={"name": "admin", "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert "too many failed sign-ins" in locked.json()["error"]["message"]
    assert "set-cookie" not in locked.headers
    console.clock.now += 901
    assert client.post("/api/v1/session", json={"name": "admin", "password": PASSWORD}).status_code == 200
    actions = [a["action"] for a in console.workspace.audit.list(limit=10)]
    assert "sign-in refused (locked out)" in actions and actions.count("sign-in failed") == 5


def test_an_unknown_user_gets_the_same_answer(console):
    response = console.anonymous.post("/api/v1/session", json={"name": "nobody", "password": PASSWORD})
    assert response.status_code == 401 and response.json()["error"]["message"] == "wrong user name or password"


def test_bad_and_revoked_tokens_are_refused(console):
    from starlette.testclient import TestClient

    bad = TestClient(console.app, headers={"Authorization": "Bearer llt_not-a-token"})
    assert bad.get("/api/v1/pipelines").status_code == 401
    basic = TestClient(console.app, headers={"Authorization": "Basic YWRtaW46eA=="})
    assert basic.get("/api/v1/pipelines").json()["error"]["where"] == "Authorization"
    token, secret = console.workspace.tokens.create("nightly", "viewer")
    good = TestClient(console.app, headers={"Authorization": f"Bearer {secret}"})
    assert good.get("/api/v1/pipelines").status_code == 200
    console.workspace.tokens.revoke(token.id)
    assert good.get("/api/v1/pipelines").status_code == 401


def test_tokens_need_no_csrf_token(console):
    client = console.with_token("bookkeeper")
    assert client.post(f"{P}/runs").status_code == 202


def test_the_console_database_is_readable_by_its_owner_only(console):
    mode = stat.S_IMODE(os.stat(console.workspace.db.path).st_mode)
    assert mode == 0o600
    assert console.workspace.db.path == console.workspace.root / ".ledgerlink" / "console.db"
    stored = console.workspace.db.fetchall("SELECT password_hash FROM users")
    assert all(h.startswith("scrypt$") and PASSWORD not in h for (h,) in stored)


def test_a_plain_form_can_sign_in_and_carry_the_csrf_token(console):
    client = console.anonymous
    signed = client.post("/api/v1/session", data={"name": "admin", "password": PASSWORD})
    assert signed.status_code == 200
    csrf = signed.json()["csrf_token"]
    refused = client.post("/api/v1/tokens", data={"name": "x", "role": "viewer"})
    assert refused.status_code == 403
    made = client.post("/api/v1/tokens", data={"name": "x", "role": "viewer", "csrf_token": csrf})
    assert made.status_code == 201 and made.json()["token"].startswith("llt_")
