"""OAuth2RefreshAuth: refresh on first use and on expiry or 401, persist rotated refresh tokens first."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from ledgerlink import PermanentError, TransientError
from ledgerlink.http import HttpClient, OAuth2RefreshAuth, RetryPolicy
from ledgerlink.secrets import mask

TOKEN_URL = "https://auth.example.com/oauth2/token"


class TokenServer:
    """A token endpoint that hands out access-1, access-2… and optionally rotates the refresh token."""

    def __init__(self, rotate: bool = False, expires_in: int = 3600):
        self.rotate, self.expires_in = rotate, expires_in
        self.calls: list[dict[str, list[str]]] = []
        self.headers: list[httpx.Headers] = []
        self.fail_with: httpx.Response | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(parse_qs(request.content.decode()))
        self.headers.append(request.headers)
        if self.fail_with is not None:
            return self.fail_with
        n = len(self.calls)
        body = {"access_token": f"access-{n}", "token_type": "bearer", "expires_in": self.expires_in}
        if self.rotate:
            body["refresh_token"] = f"refresh-{n}"
        return httpx.Response(200, json=body)


class Api:
    """The protected API: 401 unless the bearer token is one of `valid`."""

    def __init__(self, valid: set[str] | None = None):
        self.valid = valid
        self.seen: list[str | None] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("Authorization")
        self.seen.append(auth)
        if self.valid is not None and (auth or "").removeprefix("Bearer ") not in self.valid:
            return httpx.Response(401, json={"message": "AuthenticationFailed"})
        return httpx.Response(200, json={"ok": True})


@pytest.fixture
def token_server():
    return TokenServer()


def make_auth(token_server, clock, isolated_secrets, **kwargs) -> OAuth2RefreshAuth:
    return OAuth2RefreshAuth(TOKEN_URL, "client-id", "client-secret-xyz", "refresh-0",
                             transport=httpx.MockTransport(token_server), clock=clock, **kwargs)


def api_client(auth, api, clock) -> HttpClient:
    return HttpClient("https://api.example.com", auth=auth, transport=httpx.MockTransport(api), sleep=clock.sleep,
                      clock=clock, retry=RetryPolicy(max_attempts=3, jitter=False))


def test_first_request_refreshes_and_sends_the_bearer_token(token_server, clock, isolated_secrets):
    auth = make_auth(token_server, clock, isolated_secrets)
    api = Api()
    api_client(auth, api, clock).get("/x", operation="op")
    assert api.seen == ["Bearer access-1"]
    assert token_server.calls == [{"grant_type": ["refresh_token"], "refresh_token": ["refresh-0"],
                                   "client_id": ["client-id"], "client_secret": ["client-secret-xyz"]}]


def test_token_is_reused_until_it_is_about_to_expire(token_server, clock, isolated_secrets):
    auth = make_auth(token_server, clock, isolated_secrets, leeway=60)
    api = Api()
    client = api_client(auth, api, clock)
    client.get("/x", operation="op")
    clock.advance(3600 - 61)
    client.get("/x", operation="op")
    assert auth.refreshes == 1
    clock.advance(2)  # now inside the leeway
    client.get("/x", operation="op")
    assert auth.refreshes == 2
    assert api.seen == ["Bearer access-1", "Bearer access-1", "Bearer access-2"]


def test_a_401_refreshes_and_replays_the_request_once(token_server, clock, isolated_secrets):
    auth = make_auth(token_server, clock, isolated_secrets)
    auth.access_token()  # access-1, which the API has revoked
    api = Api(valid={"access-2"})
    response = api_client(auth, api, clock).get("/x", operation="op")
    assert response.status_code == 200
    assert api.seen == ["Bearer access-1", "Bearer access-2"]


def test_a_second_401_after_refresh_is_permanent_not_a_loop(token_server, clock, isolated_secrets):
    auth = make_auth(token_server, clock, isolated_secrets)
    api = Api(valid=set())
    with pytest.raises(PermanentError) as info:
        api_client(auth, api, clock).get("/x", operation="op")
    assert info.value.status == 401
    assert len(api.seen) == 2 and auth.refreshes == 2


def test_rotated_refresh_token_is_persisted_before_the_access_token_is_used(clock, isolated_secrets):
    server = TokenServer(rotate=True)
    events: list[str] = []

    class RecordingApi(Api):
        def __call__(self, request):
            events.append("api " + request.headers["Authorization"])
            return super().__call__(request)

    auth = make_auth(server, clock, isolated_secrets, on_rotate=lambda token: events.append("persist " + token))
    api_client(auth, RecordingApi(), clock).get("/x", operation="op")
    assert events == ["persist refresh-1", "api Bearer access-1"]
    assert auth.refresh_token == "refresh-1"
    # The next refresh uses the rotated token, not the one we started with.
    auth.access_token(force=True)
    assert server.calls[-1]["refresh_token"] == ["refresh-1"]


def test_an_unchanged_refresh_token_is_not_reported_as_rotated(clock, isolated_secrets):
    class SameToken(TokenServer):
        def __call__(self, request):
            super().__call__(request)
            return httpx.Response(200, json={"access_token": "a-token", "refresh_token": "refresh-0"})

    rotated: list[str] = []
    auth = make_auth(SameToken(), clock, isolated_secrets, on_rotate=rotated.append)
    auth.access_token()
    assert rotated == []


def test_invalid_grant_is_permanent_with_a_reauthorise_hint(token_server, clock, isolated_secrets):
    token_server.fail_with = httpx.Response(400, json={"error": "invalid_grant",
                                                       "error_description": "Token invalid"})
    auth = make_auth(token_server, clock, isolated_secrets)
    with pytest.raises(PermanentError) as info:
        api_client(auth, Api(), clock).get("/x", operation="op")
    err = info.value
    assert err.status == 400 and err.code == "invalid_grant" and err.operation == "token"
    assert "re-authorise" in err.hint
    assert "invalid_grant" in str(err)
    assert len(token_server.calls) == 1  # not retried


def test_token_endpoint_outage_is_transient_and_retried_by_the_client(token_server, clock, isolated_secrets):
    answers = [httpx.Response(503), None]

    def flaky(request):
        answer = answers.pop(0)
        return answer if answer is not None else token_server(request)

    auth = OAuth2RefreshAuth(TOKEN_URL, "client-id", "client-secret-xyz", "refresh-0",
                             transport=httpx.MockTransport(flaky), clock=clock)
    with pytest.raises(TransientError):
        auth.access_token()
    answers[:] = [httpx.Response(503), None]
    api = Api()
    assert api_client(auth, api, clock).get("/x", operation="op").status_code == 200
    assert api.seen == ["Bearer access-1"]


def test_basic_auth_sends_client_credentials_in_the_header(token_server, clock, isolated_secrets):
    auth = make_auth(token_server, clock, isolated_secrets, basic_auth=True)
    auth.access_token()
    assert token_server.headers[0]["authorization"].startswith("Basic ")
    assert "client_secret" not in token_server.calls[0]


def test_vendor_header_without_prefix(token_server, clock, isolated_secrets):
    auth = make_auth(token_server, clock, isolated_secrets, header="x-amz-access-token", prefix="")
    seen = []

    def api(request):
        seen.append(request.headers.get("x-amz-access-token"))
        return httpx.Response(200)

    api_client(auth, api, clock).get("/x", operation="op")
    assert seen == ["access-1"]


def test_every_credential_is_registered_for_masking(clock, isolated_secrets):
    auth = make_auth(TokenServer(rotate=True), clock, isolated_secrets)
    auth.access_token()
    text = "client-secret-xyz refresh-0 access-1 refresh-1 client-id"
    assert mask(text) == "**** **** **** **** client-id"


def test_vendor_specific_refresh_statuses():
    """SP-API answers an expired access token with 403, not 401: `refresh_on` lets a plugin say so."""
    issued = iter(["tok-1", "tok-2"])

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": next(issued), "expires_in": 3600})

    seen = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["x-amz-access-token"])
        return httpx.Response(403 if len(seen) == 1 else 200, json={})

    auth = OAuth2RefreshAuth("https://lwa.example/token", "cid", "csecret-xyz", "rtok-xyz",
                             header="x-amz-access-token", prefix="", refresh_on=(401, 403),
                             transport=httpx.MockTransport(token_endpoint))
    with httpx.Client(transport=httpx.MockTransport(api), auth=auth) as client:
        assert client.get("https://api.example/orders").status_code == 200
    assert seen == ["tok-1", "tok-2"]
