"""Bad-input corpus for the webhook receivers (BigCommerce, QuickBooks Online) over a real loopback server:
random JSON shapes, deep nesting, wrong types, huge and invalid bodies, wrong secrets and signatures. Each is a
4xx naming what is wrong (never a 500), asks for no sync, and the clean callback right after is accepted."""

from __future__ import annotations

import asyncio
import itertools
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerlink import WEBHOOK_MAX_BYTES
from ledgerlink.sandbox import running_app
from ledgerlink_bigcommerce.webhooks import SECRET_HEADER
from ledgerlink_bigcommerce.webhooks import webhook_app as bigcommerce_app
from ledgerlink_qbo.webhooks import SIGNATURE_HEADER, sign
from ledgerlink_qbo.webhooks import webhook_app as qbo_app

SECRET, TOKEN, REALM, STORE = "bc-secret-123", "verifier-token-xyz", "9130", "abc123"
_serial = itertools.count()


class Context:
    def __init__(self, **kw):
        self.__dict__.update(kw)
        self.triggers: list[str] = []

    def trigger_sync(self, reason: str) -> None:
        self.triggers.append(reason)


@pytest.fixture(scope="module")
def bc():
    ctx = Context(source_connector="bigcommerce", source_config={"webhook_secret": SECRET, "store_hash": STORE})
    with running_app(bigcommerce_app(ctx)) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http, ctx


@pytest.fixture(scope="module")
def qbo():
    ctx = Context(source_connector="qbo", source_config={"webhook_verifier_token": TOKEN, "realm_id": REALM})
    with running_app(qbo_app(ctx)) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http, ctx


def bc_post(http, body: bytes, secret: str | None = SECRET):
    headers = {"Content-Type": "application/json"} | ({SECRET_HEADER: secret} if secret is not None else {})
    return http.post("/", content=body, headers=headers)


def qbo_post(http, body: bytes, signature: str | None = None):
    signature = sign(body, TOKEN) if signature is None else signature
    return http.post("/", content=body, headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature})


def clean_bc() -> bytes:
    return json.dumps({"scope": "store/order/updated", "store_id": "1", "producer": f"stores/{STORE}",
                       "hash": "h", "created_at": next(_serial), "data": {"type": "order", "id": 250}}).encode()


def clean_qbo() -> bytes:
    return json.dumps({"eventNotifications": [{"realmId": REALM, "dataChangeEvent": {"entities": [
        {"name": "Invoice", "id": str(next(_serial)), "operation": "Create",
         "lastUpdated": "2026-01-01T00:00:00Z"}]}}]}).encode()


def assert_refused_then_clean_works(answer, post_clean, ctx, *, statuses=(400,), says=""):
    """The answer is a 4xx naming the problem, no sync was asked for, and a clean callback still works."""
    before = len(ctx.triggers)
    assert answer.status_code in statuses, (answer.status_code, answer.text[:300])
    error = answer.json()["error"]
    assert says in error, error
    assert len(ctx.triggers) == before
    assert post_clean().status_code == 200 and len(ctx.triggers) == before + 1


# ------------------------------------------------------------------------------------------ deep nesting

def _nested(depth: int, kind: str) -> bytes:
    return (("[" * depth + "]" * depth) if kind == "array" else ('{"a":' * depth + "1" + "}" * depth)).encode()


DEPTHS = [33, 200, 1_000, 5_000, 150_000]


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("kind", ["array", "object"])
def test_bigcommerce_deeply_nested_json_is_a_400(bc, depth, kind):
    http, ctx = bc
    assert_refused_then_clean_works(bc_post(http, _nested(depth, kind)), lambda: bc_post(http, clean_bc()), ctx,
                                    says="nested deeper than")


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("kind", ["array", "object"])
def test_qbo_deeply_nested_json_is_a_400(qbo, depth, kind):
    http, ctx = qbo
    assert_refused_then_clean_works(qbo_post(http, _nested(depth, kind)), lambda: qbo_post(http, clean_qbo()), ctx,
                                    says="nested deeper than")


def test_nesting_inside_a_valid_callback_is_a_400(bc, qbo):
    http, ctx = bc
    deep = json.loads(clean_bc())
    deep["data"]["extra"] = json.loads("[" * 40 + "]" * 40)
    assert_refused_then_clean_works(bc_post(http, json.dumps(deep).encode()), lambda: bc_post(http, clean_bc()), ctx,
                                    says="nested deeper than")
    http, ctx = qbo
    deep = json.loads(clean_qbo())
    deep["eventNotifications"][0]["dataChangeEvent"]["entities"][0]["id"] = json.loads("[" * 40 + "]" * 40)
    assert_refused_then_clean_works(qbo_post(http, json.dumps(deep).encode()), lambda: qbo_post(http, clean_qbo()),
                                    ctx, says="nested deeper than")


# ------------------------------------------------------------------------------------------ not JSON, not UTF-8

NOT_JSON = [b"", b"   ", b"{", b"[1,", b"nul", b"{'a': 1}", b'{"a": NaN}', b'{"a": Infinity}', b"\x00\x01",
            b'{"a": 1}{"b": 2}', b"<xml/>"]
NOT_UTF8 = [b"\xff\xfe{}", b'{"scope": "\xc3\x28"}', b'{"a": "\xed\xa0\x80"}', b"\x80", b'["\xf8\x88\x80\x80\x80"]']


@pytest.mark.parametrize("body", NOT_JSON)
def test_a_body_that_is_not_json_is_a_400(bc, qbo, body):
    http, ctx = bc
    assert_refused_then_clean_works(bc_post(http, body), lambda: bc_post(http, clean_bc()), ctx, says="not JSON")
    http, ctx = qbo
    assert_refused_then_clean_works(qbo_post(http, body), lambda: qbo_post(http, clean_qbo()), ctx, says="not JSON")


@pytest.mark.parametrize("body", NOT_UTF8)
def test_a_body_that_is_not_utf8_is_a_400(bc, qbo, body):
    http, ctx = bc
    assert_refused_then_clean_works(bc_post(http, body), lambda: bc_post(http, clean_bc()), ctx, says="not UTF-8")
    http, ctx = qbo
    assert_refused_then_clean_works(qbo_post(http, body), lambda: qbo_post(http, clean_qbo()), ctx, says="not UTF-8")


# ------------------------------------------------------------------------------------------ wrong types

BC_WRONG = [
    ({"scope": 1}, "scope, producer, hash and data are required"),
    ({"data": [1]}, "scope, producer, hash and data are required"),
    ({"data": "x"}, "scope, producer, hash and data are required"),
    ({"hash": None}, "scope, producer, hash and data are required"),
    ({"hash": ""}, "scope, producer, hash and data are required"),
    ({"producer": ["stores/abc123"]}, "scope, producer, hash and data are required"),
    ({"producer": "stores/" + "z" * 100_000}, "not this store"),
    ({"producer": "stores/other"}, "not this store"),
]


@pytest.mark.parametrize("change,says", BC_WRONG)
def test_bigcommerce_fields_of_the_wrong_type_are_4xx(bc, change, says):
    http, ctx = bc
    body = json.loads(clean_bc()) | change
    assert_refused_then_clean_works(bc_post(http, json.dumps(body).encode()), lambda: bc_post(http, clean_bc()), ctx,
                                    statuses=(400, 403), says=says)
    assert len(bc_post(http, json.dumps(body).encode()).text) < 2_000  # the answer does not echo a huge value


@pytest.mark.parametrize("body", [[], [1], "text", 12, None, True, {"scope": "store/order/x"}])
def test_bigcommerce_json_that_is_not_a_callback_is_a_400(bc, body):
    http, ctx = bc
    assert_refused_then_clean_works(bc_post(http, json.dumps(body).encode()), lambda: bc_post(http, clean_bc()), ctx,
                                    says="not a BigCommerce callback")


QBO_WRONG = [
    ({"eventNotifications": "x"}, "is not a list"),
    ({"eventNotifications": [1]}, "is not an object"),
    ({"eventNotifications": [{"realmId": REALM, "dataChangeEvent": []}]}, "dataChangeEvent is not an object"),
    ({"eventNotifications": [{"realmId": REALM, "dataChangeEvent": "x"}]}, "dataChangeEvent is not an object"),
    ({"eventNotifications": [{"realmId": REALM, "dataChangeEvent": {"entities": {}}}]}, "entities is not a list"),
    ({"eventNotifications": [{"realmId": REALM, "dataChangeEvent": {"entities": [7]}}]}, "is not an object"),
    ({"eventNotifications": [{"dataChangeEvent": {"entities": []}}]}, "`realmId` is missing"),
    ({"eventNotifications": [{"realmId": REALM, "dataChangeEvent": {"entities": [{"id": "1"}]}}]},
     "`name` is missing"),
    ([{"type": 5}], "is not qbo.<entity>.<operation>.v1"),
    ([{"type": "x" * 50_000}], "is not qbo.<entity>.<operation>.v1"),
    ([{"type": "qbo.invoice.created.v1"}], "`intuitaccountid` is missing"),
    ([7], "is not an object"),
    ("text", "neither"),
    (12, "neither"),
]


@pytest.mark.parametrize("body,says", QBO_WRONG)
def test_qbo_notifications_of_the_wrong_shape_are_400(qbo, body, says):
    http, ctx = qbo
    answer = qbo_post(http, json.dumps(body).encode())
    assert len(answer.text) < 2_000
    assert_refused_then_clean_works(answer, lambda: qbo_post(http, clean_qbo()), ctx, says=says)


# ------------------------------------------------------------------------------------------ secrets, signatures

@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET.upper(), SECRET + "x", "x" * 8_000])
def test_bigcommerce_wrong_secret_is_a_401(bc, secret):
    http, ctx = bc
    assert_refused_then_clean_works(bc_post(http, clean_bc(), secret=secret), lambda: bc_post(http, clean_bc()), ctx,
                                    statuses=(401,), says=SECRET_HEADER)


@pytest.mark.parametrize("signature", ["", "not-base64!!", sign(b"another body", TOKEN), sign(b"{}", "other-token"),
                                       "A" * 8_000, "==="])
def test_qbo_wrong_signature_is_a_401(qbo, signature):
    http, ctx = qbo
    assert_refused_then_clean_works(qbo_post(http, clean_qbo(), signature=signature),
                                    lambda: qbo_post(http, clean_qbo()), ctx, statuses=(401,), says=SIGNATURE_HEADER)


def test_a_huge_string_under_the_cap_is_handled_and_over_it_is_a_413(bc, qbo):
    http, ctx = bc
    body = json.loads(clean_bc())
    body["data"]["note"] = "y" * (WEBHOOK_MAX_BYTES - 1_000)
    before = len(ctx.triggers)
    assert bc_post(http, json.dumps(body).encode()).status_code == 200 and len(ctx.triggers) == before + 1
    body["data"]["note"] = "y" * (WEBHOOK_MAX_BYTES + 10)
    assert_refused_then_clean_works(bc_post(http, json.dumps(body).encode()), lambda: bc_post(http, clean_bc()), ctx,
                                    statuses=(413,), says="limit")
    http, ctx = qbo
    assert_refused_then_clean_works(qbo_post(http, b" " * (WEBHOOK_MAX_BYTES + 1)),
                                    lambda: qbo_post(http, clean_qbo()), ctx, statuses=(413,), says="limit")


# ------------------------------------------------------------------------------------------ 50 MB, streamed

async def _asgi_post(app, chunks, headers=()):
    """POST straight into an ASGI app, counting how many body chunks it pulled: proof that an oversized body
    is cut off while it streams in, not buffered whole first."""
    pulled, sent = 0, []
    chunks = list(chunks) if not callable(chunks) else chunks

    async def receive():
        nonlocal pulled
        if callable(chunks):
            chunk = chunks(pulled)
        else:
            chunk = chunks[pulled] if pulled < len(chunks) else None
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/", "raw_path": b"/", "root_path": "", "query_string": b"", "client": ("127.0.0.1", 5),
             "server": ("127.0.0.1", 80), "headers": [(k.lower().encode(), v.encode()) for k, v in headers]}
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, pulled


FIFTY_MB_IN_64K = (50 * 1024 * 1024) // 65536


def _stream_of(size_chunks):
    chunk = b"[" * 65536
    return lambda n: chunk if n < size_chunks else None


@pytest.mark.parametrize("which", ["bigcommerce", "qbo"])
@pytest.mark.parametrize("declared", [True, False])
def test_a_50mb_body_is_a_413_without_reading_it_all(which, declared):
    ctx = Context(source_connector=which, source_config={"webhook_secret": SECRET, "store_hash": STORE,
                                                         "webhook_verifier_token": TOKEN, "realm_id": REALM})
    app = bigcommerce_app(ctx) if which == "bigcommerce" else qbo_app(ctx)
    headers = [(SECRET_HEADER, SECRET), (SIGNATURE_HEADER, "x")]
    if declared:
        headers.append(("content-length", str(50 * 1024 * 1024)))
    status, body, pulled = asyncio.run(_asgi_post(app, _stream_of(FIFTY_MB_IN_64K), headers))
    assert status == 413 and b"limit" in body and not ctx.triggers
    assert pulled <= (0 if declared else WEBHOOK_MAX_BYTES // 65536 + 1)


# ------------------------------------------------------------------------------------------ random shapes

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=30)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25)
callback_keys = st.sampled_from(["scope", "producer", "hash", "data", "created_at", "store_id", "eventNotifications",
                                 "realmId", "dataChangeEvent", "entities", "type", "intuitaccountid", "id"])
callback_like = st.dictionaries(callback_keys, json_values, max_size=6) | st.lists(
    st.dictionaries(callback_keys, json_values, max_size=5), max_size=3) | json_values

RANDOM = settings(max_examples=60, derandomize=True, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@RANDOM
@given(payload=callback_like)
def test_bigcommerce_random_json_shapes_never_get_a_5xx(bc, payload):
    http, ctx = bc
    answer = bc_post(http, json.dumps(payload).encode())
    assert answer.status_code in (200, 400, 403), answer.text[:300]
    if answer.status_code != 200:
        assert answer.json()["error"]
    assert bc_post(http, clean_bc()).status_code == 200


@RANDOM
@given(payload=callback_like)
def test_qbo_random_json_shapes_never_get_a_5xx(qbo, payload):
    http, ctx = qbo
    answer = qbo_post(http, json.dumps(payload).encode())
    assert answer.status_code in (200, 400), answer.text[:300]
    if answer.status_code != 200:
        assert answer.json()["error"]
    assert qbo_post(http, clean_qbo()).status_code == 200


@RANDOM
@given(body=st.binary(max_size=200))
def test_random_bytes_never_get_a_5xx(bc, qbo, body):
    for post, (http, _), clean in ((bc_post, bc, clean_bc), (qbo_post, qbo, clean_qbo)):
        assert post(http, body).status_code in (200, 400, 403)
        assert post(http, clean()).status_code == 200
