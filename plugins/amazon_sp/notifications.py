"""Reading an SP-API notification as it reaches ledgerlink: inside an Amazon EventBridge event, POSTed by an
EventBridge API destination (or by an EventBridge Pipe from the SQS queue Amazon delivers most types to).

Amazon's notification types do not agree on the case of their envelope: ORDER_CHANGE, TRANSACTION_UPDATE and
FBA_INVENTORY_AVAILABILITY_CHANGES write `NotificationType`, `Payload`, `NotificationMetadata.NotificationId`;
REPORT_PROCESSING_FINISHED, FEED_PROCESSING_FINISHED and the listings types write `notificationType`,
`payload`, `notificationMetadata.notificationId`. `read_event` accepts both, and names the seller(s) a
notification is about by looking for `SellerId`/`sellerId`/`SellingPartnerId` (and `amzn1.merchant.o.<id>`
account ids) in its payload, in whatever case.

Two carriers are accepted:

- an EventBridge event: `{"id", "source", "detail-type", "detail": <the notification>, ...}` (what a rule on
  the SP-API partner event bus sends to an API destination, and what the documented Pipe input transformer
  writes);
- one SQS message as an EventBridge Pipe sends it without a transformer: `{"messageId", "eventSource":
  "aws:sqs", "body": "<the notification as JSON text>", ...}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ledgerlink import WebInputError, parse_untrusted_json

__all__ = ["Notification", "NotificationError", "read_event", "parse_body", "route_keys_of", "describe",
           "dumps_event", "SYNCING_TYPES", "EVENTBRIDGE_TYPES", "PAYLOAD_VERSIONS"]

#: the notification types that ask for a sync, and what they announce (the source's streams then read it)
SYNCING_TYPES: dict[str, str] = {
    "ORDER_CHANGE": "an order changed (orders, order_items, orders_2026)",
    "ORDER_STATUS_CHANGE": "an order's status changed (orders, order_items, orders_2026)",
    "REPORT_PROCESSING_FINISHED": "a report is ready (settlements and the report streams)",
    "FBA_INVENTORY_AVAILABILITY_CHANGES": "FBA stock changed (fba_inventory)",
    "TRANSACTION_UPDATE": "a financial transaction was posted or changed (finances)",
}
#: the types Amazon delivers through its EventBridge workflow; every other type goes to an SQS queue
EVENTBRIDGE_TYPES = frozenset({"BRANDED_ITEM_CONTENT_CHANGE", "ITEM_PRODUCT_TYPE_CHANGE", "LISTINGS_ITEM_STATUS_CHANGE",
                               "LISTINGS_ITEM_ISSUES_CHANGE", "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
                               "PRODUCT_TYPE_DEFINITIONS_CHANGE"})
#: the payload version a subscription asks for, per type (Amazon's "Notification type values" page)
PAYLOAD_VERSIONS: dict[str, str] = {
    "ORDER_CHANGE": "1.0", "ORDER_STATUS_CHANGE": "1.0", "REPORT_PROCESSING_FINISHED": "2020-09-04",
    "FEED_PROCESSING_FINISHED": "2020-09-04", "FBA_INVENTORY_AVAILABILITY_CHANGES": "1.0",
    "TRANSACTION_UPDATE": "1.0", "ANY_OFFER_CHANGED": "1.0", "FBA_OUTBOUND_SHIPMENT_STATUS": "1.0",
    "FULFILLMENT_ORDER_STATUS": "1.0", "ACCOUNT_STATUS_CHANGED": "2021-01-01",
    "ITEM_INVENTORY_EVENT_CHANGE": "2020-09-04", "ITEM_SALES_EVENT_CHANGE": "2020-09-04",
    "BRANDED_ITEM_CONTENT_CHANGE": "1.0", "ITEM_PRODUCT_TYPE_CHANGE": "1.0", "LISTINGS_ITEM_STATUS_CHANGE": "1.0",
    "LISTINGS_ITEM_ISSUES_CHANGE": "1.0", "LISTINGS_ITEM_MFN_QUANTITY_CHANGE": "1.0",
    "PRODUCT_TYPE_DEFINITIONS_CHANGE": "1.0",
}
_SELLER_KEYS = frozenset({"sellerid", "sellingpartnerid", "merchantid"})
_MERCHANT_PREFIX = "amzn1.merchant.o."
_MAX_DEPTH = 8


class NotificationError(ValueError):
    """The body is not an SP-API notification in an EventBridge event (what is wrong, for the 400 answer)."""


@dataclass(frozen=True)
class Notification:
    """What the receiver needs from one notification: its type, its id (for deduplication), the sellers it
    names, and the carrier's event id."""

    type: str
    notification_id: str
    sellers: tuple[str, ...]
    event_id: str


def _field(node: dict[str, Any], name: str) -> Any:
    """`name` as written, or with its first letter in the other case (Amazon writes both)."""
    if name in node:
        return node[name]
    other = (name[0].upper() if name[0].islower() else name[0].lower()) + name[1:]
    return node.get(other)


def _sellers(node: Any, depth: int = 0) -> list[str]:
    """Every seller id the payload names, in the order found."""
    found: list[str] = []
    if depth > _MAX_DEPTH:
        return found
    if isinstance(node, dict):
        for key, value in node.items():
            lowered = str(key).lower()
            if lowered in _SELLER_KEYS and isinstance(value, str) and value:
                found.append(value)
            elif lowered == "accountid" and isinstance(value, str) and value.startswith(_MERCHANT_PREFIX):
                found.append(value[len(_MERCHANT_PREFIX):])
            elif isinstance(value, (dict, list)):
                found.extend(_sellers(value, depth + 1))
    elif isinstance(node, list):
        for item in node[:1000]:
            found.extend(_sellers(item, depth + 1))
    return found


def _carried(event: Any) -> tuple[dict[str, Any], str]:
    """(the notification, the carrier's id) from an EventBridge event or a Pipe's SQS message."""
    if not isinstance(event, dict):
        raise NotificationError("the body is not a JSON object (an EventBridge event or an SQS message)")
    if event.get("eventSource") == "aws:sqs":
        body, message = event.get("body"), event.get("messageId")
        if not isinstance(body, str) or not isinstance(message, str) or not message:
            raise NotificationError("an SQS message needs messageId and body (the notification as JSON text)")
        try:
            detail = parse_untrusted_json(body.encode(), what="the SQS message body")
        except WebInputError as exc:
            raise NotificationError(exc.message) from None
        return detail, message
    missing = [k for k in ("id", "source", "detail-type") if not isinstance(event.get(k), str) or not event.get(k)]
    if missing or "detail" not in event:
        raise NotificationError("not an EventBridge event: id, source, detail-type and detail are required"
                                + (f" (missing {', '.join(missing)})" if missing else " (missing detail)"))
    return event["detail"], event["id"]


def read_event(event: Any) -> Notification:
    """The notification an EventBridge event (or a Pipe's SQS message) carries, checked for the fields the
    receiver acts on; NotificationError says what is missing."""
    detail, event_id = _carried(event)
    if not isinstance(detail, dict):
        raise NotificationError("the event's detail is not an SP-API notification (a JSON object)")
    kind = _field(detail, "notificationType")
    payload = _field(detail, "payload")
    if not isinstance(kind, str) or not kind or not isinstance(payload, (dict, list)):
        raise NotificationError("the event's detail is not an SP-API notification: notificationType and payload "
                                "are required")
    metadata = _field(detail, "notificationMetadata")
    notification_id = _field(metadata, "notificationId") if isinstance(metadata, dict) else None
    if notification_id is not None and (not isinstance(notification_id, str) or not notification_id):
        raise NotificationError("notificationMetadata.notificationId is not a text")
    return Notification(type=kind, notification_id=str(notification_id or f"event:{event_id}"),
                        sellers=tuple(dict.fromkeys(_sellers(payload))), event_id=event_id)


def parse_body(body: bytes) -> Notification:
    """`read_event` over the raw bytes of a callback (not JSON, or nested too deep: NotificationError)."""
    try:
        event = parse_untrusted_json(body, what="the event body")
    except WebInputError as exc:
        raise NotificationError(exc.message) from None
    return read_event(event)


def route_keys_of(body: bytes) -> list[str]:
    """The seller ids a callback names, NOT verified: they only choose which tenants' receivers check it (fleet
    routing, issue 21). Raises on a body that is no SP-API event (the fleet answers 400)."""
    return list(parse_body(body).sellers)


def describe(notification: Notification) -> str:
    """A short, bounded reason for the sync (the run's reason and the log)."""
    text = f"amazon {notification.type} {notification.notification_id}"
    return text if len(text) <= 160 else text[:160] + "…"


def dumps_event(detail: dict[str, Any], *, event_id: str, source: str = "aws.partner/sellingpartnerapi.amazon/app",
                detail_type: str | None = None) -> bytes:
    """An EventBridge event carrying `detail`, as an API destination POSTs it (tests and the docs' example)."""
    kind = detail.get("notificationType") or detail.get("NotificationType") or "SP-API notification"
    return json.dumps({"version": "0", "id": event_id, "detail-type": detail_type or kind, "source": source,
                       "account": "123456789012", "time": "2026-12-07T12:00:00Z", "region": "us-east-1",
                       "resources": [], "detail": detail}).encode()
