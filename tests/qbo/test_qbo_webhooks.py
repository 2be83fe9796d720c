"""Intuit's webhook notifications: the `intuit-signature` check (a signature computed independently with
openssl, tampered bodies), both payload shapes, and the receiver `ledgerlink serve` mounts, over loopback."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from ledgerlink.plugins import PluginHost
from ledgerlink.sandbox import Sandbox, running
from ledgerlink_qbo.webhooks import (
    SIGNATURE_HEADER, ChangeEvent, WebhookError, parse_events, sign, verify, webhook_app,
)

TOKEN = "00c8b7d1-fake-verifier-token"
#: Intuit's documented sample notification, byte for byte as signed below
BODY = (b'{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":[{"name":"Customer","id":"1",'
        b'"operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"}]}}]}')
#: printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$TOKEN" -binary | base64
KNOWN_GOOD = "MNp+3jn/UfAwgySK7HXUKaKoLSTCx8mKMdUte3twDgo="
#: the CloudEvents shape Intuit made mandatory in 2026 (from its announcement), two events
CLOUD_EVENTS = [
    {"specversion": "1.0", "id": "88cd52aa-33b6-4351-9aa4-47572edbd068", "source": "intuit.dsnBgbseACLLRZNxo2dfc4e",
     "type": "qbo.salesreceipt.created.v1", "datacontenttype": "application/json",
     "time": "2025-09-10T21:31:25.179851517Z", "intuitentityid": "1234", "intuitaccountid": "310687", "data": {}},
    {"specversion": "1.0", "id": "5f1c", "source": "intuit.x", "type": "qbo.invoice.deleted.v1",
     "time": "2025-09-10T21:32:00Z", "intuitentityid": "77", "intuitaccountid": "310687", "data": {}},
]


def test_a_known_good_signature_verifies():
    assert sign(BODY, TOKEN) == KNOWN_GOOD
    assert verify(BODY, KNOWN_GOOD, TOKEN)


@pytest.mark.parametrize("body,signature,token", [
    (BODY.replace(b'"id":"1"', b'"id":"2"'), KNOWN_GOOD, TOKEN),           # a changed id
    (BODY + b" ", KNOWN_GOOD, TOKEN),                                       # one byte more
    (json.dumps(json.loads(BODY)).encode(), KNOWN_GOOD, TOKEN),             # the same JSON, re-serialised
    (BODY, KNOWN_GOOD, TOKEN + "x"),                                        # another app's token
    (BODY, "", TOKEN), (BODY, None, TOKEN), (BODY, KNOWN_GOOD, ""),         # nothing to compare
    (BODY, KNOWN_GOOD[:-2] + "A=", TOKEN),                                  # a forged signature
])
def test_tampered_bodies_and_wrong_signatures_are_refused(body: bytes, signature: str | None, token: str):
    assert verify(body, signature, token) is False


def test_the_original_payload_parses_into_changed_objects():
    assert parse_events(BODY) == [ChangeEvent(realm_id="1185883450", entity="Customer", id="1", operation="Create",
                                              last_updated=datetime(2015, 10, 5, 14, 42, 19,
                                                                    tzinfo=timezone(timedelta(hours=-7))))]


def test_cloud_events_parse_into_the_same_changed_objects():
    events = parse_events(json.dumps(CLOUD_EVENTS))
    assert [(e.realm_id, e.entity, e.id, e.operation) for e in events] == [
        ("310687", "SalesReceipt", "1234", "Create"), ("310687", "Invoice", "77", "Delete")]
    assert events[0].last_updated == datetime(2025, 9, 10, 21, 31, 25, 179851, tzinfo=timezone.utc)


@pytest.mark.parametrize("body,where", [
    (b"not json", "not JSON"),
    (b'"a string"', "neither"),
    (b'{"eventNotifications": {}}', "not a list"),
    (b'{"eventNotifications": [{"dataChangeEvent": {"entities": []}}]}', "realmId"),
    (b'{"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": [{"name": "Item"}]}}]}',
     "entities[0]: `id` is missing"),
    (b'[{"type": "com.example.thing", "intuitentityid": "1", "intuitaccountid": "2"}]', "qbo.<entity>"),
    (b'[{"type": "qbo.item.updated.v1", "intuitaccountid": "2"}]', "intuitentityid"),
])
def test_malformed_notifications_say_what_is_wrong(body: bytes, where: str):
    with pytest.raises(WebhookError, match=where.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        parse_events(body)


# ------------------------------------------------------------------------------------------------ receiver


class FakeContext:
    def __init__(self, token: str | None = TOKEN, realm: str = "310687", connector: str = "qbo"):
        self.source_connector = connector
        self.source_config: dict[str, Any] = {"realm_id": realm, "webhook_verifier_token": token}
        self.reasons: list[str] = []

    def trigger_sync(self, reason: str) -> None:
        self.reasons.append(reason)


class _Receiver(Sandbox):
    """Serves the receiver on loopback (Sandbox.running is a uvicorn on a thread)."""

    name = "qbo-receiver"
    default_port = 0

    def __init__(self, ctx: FakeContext):
        super().__init__()
        self.ctx = ctx

    def app(self):  # type: ignore[override]
        return webhook_app(self.ctx)


def post(client: httpx.Client, body: bytes, token: str = TOKEN, signature: str | None = None) -> httpx.Response:
    return client.post("/", content=body, headers={SIGNATURE_HEADER: signature or sign(body, token),
                                                   "Content-Type": "application/json"})


def test_the_receiver_triggers_a_sync_for_signed_events_of_its_company_and_streams():
    ctx = FakeContext()
    body = json.dumps(CLOUD_EVENTS).encode()
    with running(_Receiver(ctx)) as url, httpx.Client(base_url=url) as client:
        accepted = post(client, body)
        assert accepted.status_code == 200 and accepted.json() == {"status": "accepted", "events": 2}
        assert ctx.reasons == ["qbo Invoice Delete, SalesReceipt Create"]
        other_realm = json.dumps([{**CLOUD_EVENTS[0], "intuitaccountid": "999"}]).encode()
        assert post(client, other_realm).json()["status"] == "ignored"
        not_read = json.dumps([{**CLOUD_EVENTS[0], "type": "qbo.vendor.updated.v1"}]).encode()
        assert post(client, not_read).json()["status"] == "ignored"
        assert post(client, body, signature=KNOWN_GOOD).status_code == 401
        assert post(client, body.replace(b"1234", b"1235"), signature=sign(body, TOKEN)).status_code == 401
        assert post(client, b"[1]").status_code == 400
        assert len(ctx.reasons) == 1
        assert client.get("/").json() == {"receiver": "qbo", "accepted": 1, "ignored": 2, "refused": 3}


def test_without_a_verifier_token_every_notification_is_refused():
    ctx = FakeContext(token=None)
    with running(_Receiver(ctx)) as url, httpx.Client(base_url=url) as client:
        response = post(client, BODY)
        assert response.status_code == 503 and "webhook_verifier_token" in response.json()["error"]
    assert ctx.reasons == []


def test_serve_mounts_the_receiver_at_webhooks_qbo():
    assert ("/webhooks/qbo", webhook_app, "qbo") in PluginHost().web_routes()
