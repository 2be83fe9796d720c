"""The Amazon receiver (`/webhooks/amazon`): EventBridge events carrying SP-API notifications built from Amazon's
published notification schemas (each test payload is validated against its schema with jsonschema first).
The right API key asks for one sync; a wrong or missing key is a 401 and asks for nothing; a body that is no
EventBridge SP-API event is a 400, too big a body a 413; the same notificationId twice is one sync; an unknown
type is acknowledged and ignored; another seller's notification is a 403; the key never reaches a log."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from starlette.testclient import TestClient

from ledgerlink.serve import ServeContext
from ledgerlink_amazon_sp.notifications import dumps_event, read_event, route_keys_of
from ledgerlink_amazon_sp.webhooks import RecentNotifications, webhook_app

SELLER = "A2SELLERNOTIFY"
KEY = "eventbridge-api-key-0123456789"
HEADER = "x-ledgerlink-api-key"


@pytest.fixture(scope="module")
def schemas(reference_dir: Path) -> dict[str, dict[str, Any]]:
    folder = reference_dir / "amazon-sp-api" / "schemas" / "notifications"
    return {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}


def _valid(schema: dict[str, Any], notification: dict[str, Any]) -> dict[str, Any]:
    jsonschema.Draft7Validator(schema).validate(notification)
    return notification


@pytest.fixture(scope="module")
def notifications(schemas) -> Any:
    """make(kind, notification_id, seller): a notification of that type, valid under Amazon's schema."""

    def make(kind: str, notification_id: str = "n-1", seller: str = SELLER) -> dict[str, Any]:
        if kind == "ORDER_CHANGE":
            schema = schemas["OrderChangeNotification"]
            note = copy.deepcopy(schema["examples"][0])
            note["Payload"]["OrderChangeNotification"]["SellerId"] = seller
            note["NotificationMetadata"]["NotificationId"] = notification_id
        elif kind == "REPORT_PROCESSING_FINISHED":
            schema = schemas["ReportProcessingFinishedNotification"]
            note = copy.deepcopy(schema["examples"][0])
            note["payload"]["reportProcessingFinishedNotification"]["sellerId"] = seller
            note["payload"]["reportProcessingFinishedNotification"]["accountId"] = f"amzn1.merchant.o.{seller}"
            note["notificationMetadata"]["notificationId"] = notification_id
        elif kind == "FBA_INVENTORY_AVAILABILITY_CHANGES":
            schema = schemas["FBAInventoryAvailabilityChangeNotification"]
            payload = copy.deepcopy(schema["properties"]["Payload"]["examples"][0])
            payload["SellerId"] = seller
            note = {"NotificationVersion": "1.0", "NotificationType": kind, "PayloadVersion": "1.0",
                    "EventTime": "2026-12-07T10:00:00Z", "Payload": payload,
                    "NotificationMetadata": {"ApplicationId": "amzn1.sellerapps.app.x", "SubscriptionId": "s",
                                             "PublishTime": "2026-12-07T10:00:01Z",
                                             "NotificationId": notification_id}}
        elif kind == "TRANSACTION_UPDATE":
            schema = schemas["TransactionUpdateNotification"]
            note = copy.deepcopy(schema["examples"][0])
            note["Payload"]["TransactionUpdateNotification"]["SellingPartnerMetadata"]["SellingPartnerId"] = seller
            note["NotificationMetadata"]["NotificationId"] = notification_id
        elif kind == "FEED_PROCESSING_FINISHED":
            schema = schemas["FeedProcessingFinishedNotification"]
            note = copy.deepcopy(schema["examples"][0])
            note["payload"]["feedProcessingFinishedNotification"]["sellerId"] = seller
            note["payload"]["feedProcessingFinishedNotification"]["accountId"] = f"amzn1.merchant.o.{seller}"
            note["notificationMetadata"]["notificationId"] = notification_id
        elif kind == "ITEM_INVENTORY_EVENT_CHANGE":
            schema = schemas["ItemInventoryEventChangeNotification"]
            note = copy.deepcopy(schema["examples"][0])
            for change in note["payload"]["itemInventoryEventChanges"]:
                change["accountId"] = f"amzn1.merchant.o.{seller}"
            note["notificationMetadata"]["notificationId"] = notification_id
        else:
            raise AssertionError(kind)
        return _valid(schema, note)

    return make




def receiver(seen: RecentNotifications | None = None, **config: Any) -> tuple[TestClient, list[str]]:
    asked: list[str] = []
    source = {"seller_id": SELLER, "notifications_api_key": KEY, "client_id": "c", **config}
    context = ServeContext(pipeline_name="amazon-to-qbo", source_connector="amazon_sp", source_config=source,
                           destination_connector="qbo", destination_config={}, destination_options={},
                           trigger_sync=asked.append)
    return TestClient(webhook_app(context, seen=seen or RecentNotifications(), max_body_bytes=50_000)), asked


def test_the_right_key_asks_for_one_sync_per_notification(notifications):
    client, asked = receiver()
    for i, kind in enumerate(("ORDER_CHANGE", "REPORT_PROCESSING_FINISHED", "FBA_INVENTORY_AVAILABILITY_CHANGES",
                              "TRANSACTION_UPDATE")):
        body = dumps_event(notifications(kind, f"n-{i}"), event_id=f"e-{i}")
        answer = client.post("/", content=body, headers={HEADER: KEY})
        assert answer.status_code == 200 and answer.json() == {"status": "accepted", "notificationType": kind}
    assert asked == ["amazon ORDER_CHANGE n-0", "amazon REPORT_PROCESSING_FINISHED n-1",
                     "amazon FBA_INVENTORY_AVAILABILITY_CHANGES n-2", "amazon TRANSACTION_UPDATE n-3"]
    assert client.get("/").json()["accepted"] == 4


def test_a_wrong_or_missing_key_is_a_401_and_asks_for_nothing(notifications, caplog):
    client, asked = receiver()
    body = dumps_event(notifications("ORDER_CHANGE"), event_id="e-1")
    with caplog.at_level(logging.DEBUG):
        for headers in ({HEADER: "not-the-key"}, {}, {"x-api-key": KEY}, {HEADER: KEY[:-1]}):
            refused = client.post("/", content=body, headers=headers)
            assert refused.status_code == 401 and HEADER in refused.json()["error"]
    assert asked == []
    assert KEY not in caplog.text
    # a key the pipeline never set refuses everything (503), rather than accepting unverified notifications
    unset, asked_unset = receiver(notifications_api_key=None)
    assert unset.post("/", content=body, headers={HEADER: ""}).status_code == 503 and asked_unset == []
    # the header's name is the pipeline's choice (what the EventBridge connection sends)
    named, asked_named = receiver(notifications_api_key_header="X-Books-Key")
    assert named.post("/", content=body, headers={HEADER: KEY}).status_code == 401
    assert named.post("/", content=body, headers={"X-Books-Key": KEY}).status_code == 200 and len(asked_named) == 1


def test_a_body_that_is_no_eventbridge_sp_api_event_is_a_400_and_too_big_a_413(notifications):
    client, asked = receiver()
    note = notifications("ORDER_CHANGE")
    for body in (b"{not json", b"[]", json.dumps(note).encode(),  # a bare notification: no EventBridge envelope
                 json.dumps({"id": "e", "source": "s", "detail-type": "t"}).encode(),
                 json.dumps({"id": "e", "source": "s", "detail-type": "t", "detail": {"hello": 1}}).encode(),
                 json.dumps({"id": "e", "source": "s", "detail-type": "t", "detail": "ORDER_CHANGE"}).encode(),
                 json.dumps({"eventSource": "aws:sqs", "messageId": "m", "body": "{nope"}).encode(),
                 b"[" * 500 + b"]" * 500):
        refused = client.post("/", content=body, headers={HEADER: KEY})
        assert refused.status_code == 400, body[:80]
        assert refused.json()["status"] == "refused" and refused.json()["error"]
    big = dumps_event({**note, "padding": "x" * 60_000}, event_id="e-big")
    assert client.post("/", content=big, headers={HEADER: KEY}).status_code == 413
    assert asked == []


def test_the_same_notification_id_twice_is_one_sync_even_through_a_rebuilt_receiver(notifications):
    seen = RecentNotifications()
    client, asked = receiver(seen)
    first = dumps_event(notifications("ORDER_CHANGE", "same-id"), event_id="e-1")
    # Amazon's redelivery is a new EventBridge event carrying the same notification
    redelivered = dumps_event(notifications("ORDER_CHANGE", "same-id"), event_id="e-2")
    assert client.post("/", content=first, headers={HEADER: KEY}).json()["status"] == "accepted"
    assert client.post("/", content=redelivered, headers={HEADER: KEY}).json() == {"status": "duplicate"}
    rebuilt, asked_again = receiver(seen)  # the fleet rebuilds receivers; the memory is shared
    assert rebuilt.post("/", content=first, headers={HEADER: KEY}).json() == {"status": "duplicate"}
    assert asked == ["amazon ORDER_CHANGE same-id"] and asked_again == []
    # another notification is another sync
    other = dumps_event(notifications("ORDER_CHANGE", "other-id"), event_id="e-3")
    assert client.post("/", content=other, headers={HEADER: KEY}).json()["status"] == "accepted"
    assert len(asked) == 2


def test_a_forgotten_notification_is_accepted_again(notifications):
    seen = RecentNotifications()
    client, asked = receiver(seen)
    body = dumps_event(notifications("ORDER_CHANGE", "forget-me"), event_id="e-1")
    assert client.post("/", content=body, headers={HEADER: KEY}).json()["status"] == "accepted"
    client.app.state.forget(body)  # type: ignore[attr-defined]  # what the fleet calls when queueing failed
    assert client.post("/", content=body, headers={HEADER: KEY}).json()["status"] == "accepted"
    assert asked == ["amazon ORDER_CHANGE forget-me"] * 2


def test_remembered_ids_are_forgotten_after_their_time():
    now = [0.0]
    seen = RecentNotifications(ttl_s=10, size=3, clock=lambda: now[0])
    assert seen.first_time("a") and not seen.first_time("a")
    now[0] = 11
    assert seen.first_time("a")  # forgotten after ten seconds
    for key in "bcd":
        assert seen.first_time(key)
    assert seen.first_time("a")  # and the oldest beyond `size` is dropped


def test_unknown_types_are_acknowledged_and_ignored_and_logged_once(notifications, caplog):
    client, asked = receiver()
    with caplog.at_level(logging.INFO, logger="ledgerlink.amazon_sp.webhooks"):
        for i in range(3):
            answer = client.post("/", content=dumps_event(notifications("FEED_PROCESSING_FINISHED", f"f-{i}"),
                                                          event_id=f"e-{i}"), headers={HEADER: KEY})
            assert answer.status_code == 200 and answer.json()["status"] == "ignored"
    assert asked == []
    assert caplog.text.count("FEED_PROCESSING_FINISHED starts no sync") <= 1  # once per process
    assert client.get("/").json()["ignored"] == 3


def test_another_sellers_notification_is_refused(notifications):
    client, asked = receiver()
    body = dumps_event(notifications("ORDER_CHANGE", seller="A9OTHERSELLER"), event_id="e-1")
    refused = client.post("/", content=body, headers={HEADER: KEY})
    assert refused.status_code == 403 and "A9OTHERSELLER" in refused.json()["error"] and asked == []


def test_an_sqs_message_from_a_pipe_is_read_like_an_event(notifications):
    client, asked = receiver()
    message = {"messageId": "m-1", "receiptHandle": "r", "body": json.dumps(notifications("ORDER_CHANGE", "q-1")),
               "attributes": {}, "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
               "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}
    answer = client.post("/", content=json.dumps(message).encode(), headers={HEADER: KEY})
    assert answer.status_code == 200 and asked == ["amazon ORDER_CHANGE q-1"]


def test_route_keys_name_the_seller_of_every_payload_shape(notifications):
    for kind in ("ORDER_CHANGE", "REPORT_PROCESSING_FINISHED", "FBA_INVENTORY_AVAILABILITY_CHANGES",
                 "TRANSACTION_UPDATE", "FEED_PROCESSING_FINISHED", "ITEM_INVENTORY_EVENT_CHANGE"):
        body = dumps_event(notifications(kind, seller="A7ROUTED"), event_id="e")
        assert route_keys_of(body) == ["A7ROUTED"], kind
        assert read_event(json.loads(body)).type == kind
    with pytest.raises(ValueError):
        route_keys_of(b'{"id": "x"}')


def test_a_pipeline_whose_source_is_not_amazon_is_not_routed():
    context = ServeContext(pipeline_name="bc", source_connector="bigcommerce", source_config={"store_hash": "s"},
                           destination_connector="qbo", destination_config={}, destination_options={},
                           trigger_sync=lambda reason: None)
    app = webhook_app(context)
    assert app.state.route_key is None
    amazon, _ = receiver()
    assert amazon.app.state.route_key == SELLER  # type: ignore[attr-defined]
