"""Intuit's webhooks: verifying a notification and reading which objects changed.

Intuit signs each POST with `intuit-signature`: the base64 HMAC-SHA256 of the raw body, keyed with the app's
verifier token (shown in the developer portal; not the client secret). `verify` recomputes it over the bytes
as received (re-serialised JSON would not match) and compares in constant time.

Two payload shapes exist, and `parse_events` reads both:

- the original one: `{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"name", "id",
  "operation", "lastUpdated"}]}}]}`;
- CloudEvents, which Intuit made mandatory in 2026: `[{"specversion": "1.0", "id", "type":
  "qbo.invoice.created.v1", "time", "intuitentityid", "intuitaccountid", "data": {}}]`.

Notifications carry ids only. `webhook_app` is the receiver `ledgerlink serve` mounts at /webhooks/qbo: it
verifies, keeps the events of the pipeline's company and streams, and asks for a sync (debounced by serve),
whose change data capture then reads the objects. It answers 200 at once, as Intuit expects.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ledgerlink import WEBHOOK_MAX_BYTES, WebInputError, parse_untrusted_json, read_body

from .client import ENTITY_PATHS

__all__ = ["ChangeEvent", "WebhookError", "SIGNATURE_HEADER", "sign", "verify", "parse_events", "webhook_app"]

log = logging.getLogger("ledgerlink.qbo.webhooks")

SIGNATURE_HEADER = "intuit-signature"
#: CloudEvents' past-tense verbs → the operations of the original payload
_OPERATIONS = {"created": "Create", "updated": "Update", "deleted": "Delete", "merged": "Merge", "voided": "Void",
               "emailed": "Emailed"}
_ENTITY_NAMES = {name.lower(): name for name in (*ENTITY_PATHS, "Bill", "BillPayment", "Estimate", "Purchase",
                                                 "PurchaseOrder", "TimeActivity", "Transfer", "VendorCredit",
                                                 "Budget", "Currency", "JournalCode", "Term", "TaxAgency",
                                                 "Preferences")}


class WebhookError(ValueError):
    """The body is not an Intuit notification (what is wrong, for the log and the 400 answer)."""


@dataclass(frozen=True)
class ChangeEvent:
    """One changed object: the company, QBO's entity name, its Id, the operation and when it happened."""

    realm_id: str
    entity: str
    id: str
    operation: str
    last_updated: datetime | None


def sign(body: bytes, verifier_token: str) -> str:
    """The `intuit-signature` Intuit would send with `body`."""
    return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()


def verify(body: bytes, signature: str | None, verifier_token: str) -> bool:
    """True when `signature` is the body's HMAC under the verifier token (constant-time comparison)."""
    if not signature or not verifier_token:
        return False
    return hmac.compare_digest(sign(body, verifier_token).encode(), signature.strip().encode())


def _time(value: Any) -> datetime | None:
    """`2015-10-05T14:42:19-0700`, `...Z` or with nanoseconds: Python reads microseconds at most."""
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    if "." in text:  # 21:31:25.179851517+00:00 → 21:31:25.179851+00:00
        head, _, tail = text.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        text = f"{head}.{tail[:min(digits, 6)]}{tail[digits:]}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _entity(name: str) -> str:
    return _ENTITY_NAMES.get(name.lower(), name[:1].upper() + name[1:])


def _required(node: dict[str, Any], key: str, where: str) -> str:
    value = node.get(key)
    if value in (None, ""):
        raise WebhookError(f"{where}: `{key}` is missing")
    return str(value)


def _original(payload: dict[str, Any]) -> list[ChangeEvent]:
    notifications = payload.get("eventNotifications")
    if not isinstance(notifications, list):
        raise WebhookError("`eventNotifications` is not a list")
    events = []
    for n, notification in enumerate(notifications):
        where = f"eventNotifications[{n}]"
        if not isinstance(notification, dict):
            raise WebhookError(f"{where} is not an object")
        realm = _required(notification, "realmId", where)
        change = notification.get("dataChangeEvent")
        if not isinstance(change, dict):
            raise WebhookError(f"{where}.dataChangeEvent is not an object")
        entities = change.get("entities")
        if not isinstance(entities, list):
            raise WebhookError(f"{where}.dataChangeEvent.entities is not a list")
        for e, item in enumerate(entities):
            at = f"{where}.dataChangeEvent.entities[{e}]"
            if not isinstance(item, dict):
                raise WebhookError(f"{at} is not an object")
            events.append(ChangeEvent(realm, _entity(_required(item, "name", at)), _required(item, "id", at),
                                      _required(item, "operation", at), _time(item.get("lastUpdated"))))
    return events


def _cloud_events(payload: list[Any]) -> list[ChangeEvent]:
    events = []
    for n, item in enumerate(payload):
        where = f"[{n}]"
        if not isinstance(item, dict):
            raise WebhookError(f"{where} is not an object")
        kind = _required(item, "type", where).split(".")  # qbo.invoice.created.v1
        if len(kind) < 3 or kind[0] != "qbo":
            raise WebhookError(f"{where}.type {str(item.get('type'))[:60]!r} is not qbo.<entity>.<operation>.v1")
        operation = _OPERATIONS.get(kind[2].lower(), kind[2][:1].upper() + kind[2][1:])
        events.append(ChangeEvent(_required(item, "intuitaccountid", where), _entity(kind[1]),
                                  _required(item, "intuitentityid", where), operation, _time(item.get("time"))))
    return events


def parse_events(body: bytes | str | dict[str, Any] | list[Any]) -> list[ChangeEvent]:
    """Every changed object a notification names, in either payload shape; WebhookError when it is neither."""
    payload = body
    if isinstance(body, (bytes, str)):
        try:
            payload = parse_untrusted_json(body)
        except WebInputError as exc:
            raise WebhookError(exc.message) from None
    if isinstance(payload, dict):
        return _original(payload)
    if isinstance(payload, list):
        return _cloud_events(payload)
    raise WebhookError("the body is neither {\"eventNotifications\": [...]} nor a list of CloudEvents")


class WebhookContext(Protocol):
    """What `ledgerlink serve` hands a plugin's web app (the part this receiver uses)."""

    source_connector: str
    source_config: dict[str, Any]

    def trigger_sync(self, reason: str) -> None: ...


def webhook_app(context: WebhookContext, *, max_body_bytes: int = WEBHOOK_MAX_BYTES) -> Starlette:
    """The receiver as an ASGI app: POST notifications to its root. Needs the qbo source config's
    `webhook_verifier_token`; events of other companies, or of entities the source does not read, are ignored.
    A body over `max_body_bytes` is refused (413) while it streams in, before its signature is computed."""
    from .streams import STREAMS

    config = context.source_config if getattr(context, "source_connector", "qbo") == "qbo" else {}
    token = str((config or {}).get("webhook_verifier_token") or "")
    realm = str((config or {}).get("realm_id") or "")
    entities = {cls.entity for cls in STREAMS}
    stats = {"accepted": 0, "ignored": 0, "refused": 0}

    def refuse(status: int, why: str) -> JSONResponse:
        stats["refused"] += 1
        why = why if len(why) <= 300 else why[:300] + "…"  # a message may quote the caller's input
        log.warning("qbo webhook refused: %s", why)
        return JSONResponse({"status": "refused", "error": why}, status_code=status)

    async def receive(request: Request) -> JSONResponse:
        if not token:
            return refuse(503, "source.config.webhook_verifier_token is not set (a qbo source): no notification "
                               "can be verified")
        try:
            body = await read_body(request, max_body_bytes, what="the notification body")
        except WebInputError as exc:
            return refuse(exc.status, exc.message)
        if not verify(body, request.headers.get(SIGNATURE_HEADER), token):
            return refuse(401, f"missing or wrong {SIGNATURE_HEADER} header")
        try:
            events = parse_events(body)
        except WebhookError as exc:
            return refuse(400, str(exc))
        ours = [e for e in events if e.realm_id == realm and e.entity in entities]
        if not ours:
            stats["ignored"] += 1
            return JSONResponse({"status": "ignored", "events": len(events)})
        stats["accepted"] += 1
        reason = "qbo " + ", ".join(sorted({f"{e.entity} {e.operation}" for e in ours}))
        try:
            context.trigger_sync(reason)
        except Exception:  # the sync's own failures are serve's to report; Intuit must still get its 200
            log.exception("trigger_sync failed for %s", reason)
        return JSONResponse({"status": "accepted", "events": len(ours)})

    async def status(request: Request) -> JSONResponse:
        return JSONResponse({"receiver": "qbo", **stats})

    app = Starlette(routes=[Route("/", receive, methods=["POST"]), Route("/", status, methods=["GET"])])
    app.state.stats = stats
    # fleet routing (issue 21): the company this receiver answers for, and the companies a notification names
    app.state.route_key = realm or None
    app.state.route_keys_of = route_keys_of
    return app


def route_keys_of(body: bytes) -> list[str]:
    """The realm ids a notification names, not yet verified: they only pick which tenants' receivers check its
    signature (fleet routing, issue 21). Intuit may batch several companies of one app in a notification."""
    return list(dict.fromkeys(e.realm_id for e in parse_events(body)))
