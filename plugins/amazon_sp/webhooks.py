"""The Amazon receiver: SP-API notifications, carried by Amazon EventBridge, start a sync.

Amazon never POSTs a notification to a URL: it delivers to an SQS queue (ORDER_CHANGE, REPORT_PROCESSING_FINISHED,
FBA_INVENTORY_AVAILABILITY_CHANGES, TRANSACTION_UPDATE, most types) or to an EventBridge partner event source
(the listings types). The supported road into ledgerlink is EventBridge's **API destination**: an HTTPS POST of
the EventBridge event (from a rule on the partner event bus, or from an EventBridge Pipe reading the SQS queue),
authenticated by the EventBridge connection's API-key header. The header's name and value are the pipeline's
`source.config.notifications_api_key_header` and `notifications_api_key`; the value is compared in constant
time and never logged.

Notifications name ids only, so the receiver fetches nothing: it asks for a sync (`context.trigger_sync`,
debounced by `serve`, queued in Postgres by the fleet) whose incremental read picks the change up. A
notification for another seller is refused (403); an unknown type is acknowledged (200) and ignored, logged
once per type. A syncing type that concerns none of the streams the pipeline reads (an ORDER_CHANGE for a
settlements-only pipeline, see `notification_routes`) is acknowledged (200) "ignored" with the reason, never a
4xx (EventBridge would retry it). Amazon delivers at least once, so a notificationId seen in the last
`DEDUPE_TTL_S` is answered 200 "duplicate" and asks for nothing. Under `serve` the memory is the process's, shared
by every receiver in it and keyed by the pipeline, so two pipelines of one seller each get their sync; in the
fleet it is the fleet's Postgres table (`context.seen_notifications`), shared by every console behind a load
balancer.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ledgerlink import WEBHOOK_MAX_BYTES, WebInputError, read_body, register_secret

from .notification_routes import not_concerned
from .notifications import SYNCING_TYPES, NotificationError, describe, parse_body, route_keys_of

__all__ = ["webhook_app", "RecentNotifications", "DEFAULT_KEY_HEADER", "DEDUPE_TTL_S"]

log = logging.getLogger("ledgerlink.amazon_sp.webhooks")

#: the API-key header an EventBridge connection sends unless the pipeline names another
DEFAULT_KEY_HEADER = "x-ledgerlink-api-key"
#: how long a notificationId is remembered (EventBridge retries for up to 24 hours; Amazon's own redeliveries
#: come within minutes)
DEDUPE_TTL_S = 6 * 3600.0


class WebhookContext(Protocol):
    """What `ledgerlink serve` (or the fleet's router) hands a plugin's web app."""

    pipeline_name: str
    source_connector: str
    source_config: dict[str, Any]

    def trigger_sync(self, reason: str) -> None: ...


class SharedMemory(Protocol):
    """The fleet's memory of a pipeline's notification ids (blocking calls, shared by every console)."""

    def first_time(self, notification_id: str, ttl_s: float) -> bool: ...

    def forget(self, notification_id: str) -> None: ...


class RecentNotifications:
    """The notification keys seen in the last `ttl_s` seconds (at most `size` of them), thread-safe."""

    def __init__(self, ttl_s: float = DEDUPE_TTL_S, size: int = 100_000, clock: Any = time.monotonic):
        self.ttl_s, self.size, self.clock = ttl_s, size, clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        with self._lock:
            now = self.clock()
            while self._seen:
                oldest, expires = next(iter(self._seen.items()))
                if expires > now and len(self._seen) <= self.size:
                    break
                self._seen.pop(oldest)
            if key in self._seen:
                return False
            self._seen[key] = now + self.ttl_s
            return True

    def forget(self, key: str) -> None:
        with self._lock:
            self._seen.pop(key, None)


#: shared by every receiver in the process, so a rebuilt receiver still knows what it accepted
_RECENT = RecentNotifications()
#: the unknown notification types already logged (once each per process)
_LOGGED_TYPES: set[str] = set()
_LOGGED_LOCK = threading.Lock()


def _short(value: Any, size: int = 80) -> str:
    text = str(value)
    return text if len(text) <= size else text[:size] + "…"


def _first_time_logged(kind: str) -> bool:
    with _LOGGED_LOCK:
        if kind in _LOGGED_TYPES or len(_LOGGED_TYPES) > 1000:
            return False
        _LOGGED_TYPES.add(kind)
        return True


def _streams_read(selection: list[str] | None) -> list[str]:
    """What the pipeline's sync reads (its `source.streams`, else the source's default), as the runtime decides."""
    from .source import AmazonSellingPartnerSource

    return AmazonSellingPartnerSource().streams_read(selection)


def webhook_app(context: WebhookContext, *, seen: RecentNotifications | None = None,
                max_body_bytes: int = WEBHOOK_MAX_BYTES) -> Starlette:
    """The receiver as an ASGI app; EventBridge POSTs to its root (`/webhooks/amazon` under serve,
    `/fleet/webhooks/amazon` on a fleet console). A body over `max_body_bytes` is refused (413) as it streams in."""
    config = context.source_config or {}
    amazon = getattr(context, "source_connector", "amazon_sp") == "amazon_sp"
    header = str(config.get("notifications_api_key_header") or DEFAULT_KEY_HEADER)
    key = str(config.get("notifications_api_key") or "")
    register_secret(key)
    seller = str(config.get("seller_id") or "")
    memory = seen if seen is not None else _RECENT
    shared: SharedMemory | None = getattr(context, "seen_notifications", None)
    scope = "\x1f".join((str(getattr(context, "pipeline_name", "")), seller, str(config.get("client_id") or ""),
                         str(getattr(context, "destination_connector", ""))))
    read = _streams_read(getattr(context, "source_streams", None)) if amazon else []
    stats = {"accepted": 0, "duplicate": 0, "ignored": 0, "refused": 0}

    def refuse(status: int, why: str) -> JSONResponse:
        stats["refused"] += 1
        why = why if len(why) <= 300 else why[:300] + "…"
        log.warning("amazon notification refused (%d): %s", status, why)
        return JSONResponse({"status": "refused", "error": why}, status_code=status)

    async def receive(request: Request) -> JSONResponse:
        if not amazon:
            return refuse(404, "this pipeline's source is not Amazon: it receives no SP-API notifications")
        if not key:
            return refuse(503, "source.config.notifications_api_key is not set: no notification can be verified")
        given = request.headers.get(header, "")
        if not hmac.compare_digest(given.encode(), key.encode()):
            return refuse(401, f"missing or wrong {header} header (the EventBridge connection's API key)")
        try:
            notification = parse_body(await read_body(request, max_body_bytes, what="the event body"))
        except WebInputError as exc:
            return refuse(exc.status, exc.message)
        except NotificationError as exc:
            return refuse(400, str(exc))
        if seller and notification.sellers and seller not in notification.sellers:
            return refuse(403, f"notification for seller {_short(notification.sellers[0])!r}, not this pipeline's "
                               f"({seller})")
        if notification.type not in SYNCING_TYPES:
            stats["ignored"] += 1
            if _first_time_logged(notification.type):
                log.info("amazon notification type %s starts no sync: acknowledged and ignored (logged once)",
                         _short(notification.type))
            return JSONResponse({"status": "ignored", "notificationType": _short(notification.type)})
        why_not = not_concerned(notification.type, read)
        if why_not:
            stats["ignored"] += 1
            return JSONResponse({"status": "ignored", "notificationType": notification.type, "reason": why_not})
        if shared is not None:
            try:
                first = await run_in_threadpool(shared.first_time, notification.notification_id, DEDUPE_TTL_S)
            except Exception as exc:  # the fleet's database (its address stays in our log): EventBridge retries
                log.warning("notification %s: the fleet's memory of notification ids failed: %s",
                            _short(notification.notification_id), _short(exc, 300))
                return refuse(503, f"cannot tell whether notification {_short(notification.notification_id)} was "
                                   "seen before (the fleet's database is out of reach): send it again later")
        else:
            first = memory.first_time(f"{scope}\x1f{notification.notification_id}")
        if not first:
            stats["duplicate"] += 1
            return JSONResponse({"status": "duplicate"})
        stats["accepted"] += 1
        reason = describe(notification)
        try:
            context.trigger_sync(reason)
        except Exception:  # the sync's own failures are serve's to report; EventBridge must still get its 200
            log.exception("trigger_sync failed for %s", reason)
        return JSONResponse({"status": "accepted", "notificationType": notification.type})

    async def status(request: Request) -> JSONResponse:
        return JSONResponse({"receiver": "amazon", **stats})

    app = Starlette(routes=[Route("/", receive, methods=["POST"]), Route("/", status, methods=["GET"])])
    app.state.stats = stats
    # fleet routing (issue 21): the seller this pipeline answers for, and the seller(s) an event names (unverified)
    app.state.route_key = (seller or None) if amazon else None
    app.state.route_keys_of = route_keys_of

    def forget(body: bytes) -> None:
        """The fleet could not queue the sync this notification asked for: accept its redelivery again."""
        notification_id = parse_body(body).notification_id
        if shared is not None:
            shared.forget(notification_id)
        else:
            memory.forget(f"{scope}\x1f{notification_id}")

    app.state.forget = forget
    return app
