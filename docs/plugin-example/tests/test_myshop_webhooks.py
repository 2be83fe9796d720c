"""The receiver: a signed callback about the pipeline's store asks for a sync; what the fleet routes by."""

import hashlib
import hmac
import json

import ledgerlink
from ledgerlink_myshop.webhooks import SIGNATURE_HEADER, route_keys_of, webhook_app
from starlette.testclient import TestClient


def receiver(asked: list[str]):
    context = ledgerlink.ServeContext(
        pipeline_name="myshop-to-books", source_connector="myshop",
        source_config={"api_key": "k", "store_id": "s-1001", "webhook_secret": "whsec-1"},
        destination_connector="qbo", destination_config={}, destination_options={}, trigger_sync=asked.append)
    return webhook_app(context)


def signed(payload: dict, secret: str = "whsec-1") -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {SIGNATURE_HEADER: hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def test_a_signed_callback_about_this_store_asks_for_a_sync_and_others_are_refused():
    asked: list[str] = []
    client = TestClient(receiver(asked))
    body, headers = signed({"store": "s-1001", "event": "order.updated", "id": 12})
    assert client.post("/", content=body, headers=headers).status_code == 200
    assert client.post("/", content=body, headers={SIGNATURE_HEADER: "0" * 64}).status_code == 401
    other, other_headers = signed({"store": "s-2002", "event": "order.updated", "id": 3})
    assert client.post("/", content=other, headers=other_headers).status_code == 403
    assert asked == ["myshop callback"]


def test_the_fleet_routes_a_callback_by_the_store_it_names():
    app = receiver([])
    assert app.state.route_key == "s-1001"  # the account this pipeline answers for
    # the store a callback names, read without verifying it (the receiver checks the signature)
    assert app.state.route_keys_of(b'{"store": "s-1001", "event": "order.updated"}') == ["s-1001"]
    assert route_keys_of(b"not json") == [] and route_keys_of(b'{"event": "ping"}') == []
