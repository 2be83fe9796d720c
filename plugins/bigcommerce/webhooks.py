"""The webhook receiver: BigCommerce's real-time path into a sync.

BigCommerce does not sign callbacks. What it supports is custom `headers` on the subscription, sent with every
callback; `ledgerlink bigcommerce webhooks create` subscribes with `X-Ledgerlink-Webhook-Secret: <the source
config's webhook_secret>`, and the receiver compares it in constant time. It also checks that the payload's
`producer` is this store (`stores/{store_hash}`).

Payloads carry ids only (`{"type": "order", "id": 250}`), so the receiver does not fetch anything itself: it
asks for a sync (`context.trigger_sync`, debounced by `ledgerlink serve`), whose incremental read picks the
change up and stages it. It answers 200 at once, so BigCommerce neither retries nor deactivates the hook.

Duplicates are dropped: a redelivery repeats the payload, `hash` and `created_at` included. The key is the pair:
BigCommerce's `hash` is the SHA-1 of `data` alone, so two genuine updates of one order share a hash and differ
only in `created_at`, and dropping the second would delay that update until the next scheduled sync. The set of
seen keys is bounded; staging is keyed by primary key, so anything that slips past it is still harmless.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections import OrderedDict
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ledgerlink import WEBHOOK_MAX_BYTES, WebInputError, parse_untrusted_json, read_body

__all__ = ["webhook_app", "WebhookContext", "SECRET_HEADER", "SCOPES", "Deduplicator"]

log = logging.getLogger("ledgerlink.bigcommerce.webhooks")

SECRET_HEADER = "X-Ledgerlink-Webhook-Secret"
#: the subscriptions `webhooks create` makes, and the scopes the receiver acts on
SCOPES = ("store/order/*", "store/product/inventory/*", "store/sku/inventory/*", "store/shipment/*")
_PREFIXES = tuple(s[:-1] for s in SCOPES)


class WebhookContext(Protocol):
    """What `ledgerlink serve` hands a plugin's web app."""

    source_config: dict[str, Any]

    def trigger_sync(self, reason: str) -> None: ...


class Deduplicator:
    """The last `size` keys seen, thread-safe."""

    def __init__(self, size: int = 10_000):
        self.size = size
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                return False
            self._seen[key] = None
            if len(self._seen) > self.size:
                self._seen.popitem(last=False)
            return True


def _short(value: Any, size: int = 80) -> str:
    """A caller-supplied value as it may appear in an answer or a log line: bounded."""
    text = str(value)
    return text if len(text) <= size else text[:size] + "…"


def webhook_app(context: WebhookContext, *, dedupe_size: int = 10_000,
                max_body_bytes: int = WEBHOOK_MAX_BYTES) -> Starlette:
    """The receiver as an ASGI app; POST callbacks to its root (`/webhooks/bigcommerce` under serve). A body over
    `max_body_bytes` is refused (413) while it streams in; one that is not JSON, or nested too deep, is a 400."""
    config = context.source_config or {}
    secret = str(config.get("webhook_secret") or "")
    producer = f"stores/{config.get('store_hash')}"
    seen = Deduplicator(dedupe_size)
    stats = {"accepted": 0, "duplicate": 0, "ignored": 0, "refused": 0}

    def refuse(status: int, why: str) -> JSONResponse:
        stats["refused"] += 1
        why = why if len(why) <= 300 else why[:300] + "…"  # a message may quote the caller's input
        log.warning("bigcommerce webhook refused: %s", why)
        return JSONResponse({"status": "refused", "error": why}, status_code=status)

    async def receive(request: Request) -> JSONResponse:
        if not secret:
            return refuse(503, "source.config.webhook_secret is not set: no callback can be verified")
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return refuse(401, f"missing or wrong {SECRET_HEADER} header")
        try:
            payload = parse_untrusted_json(await read_body(request, max_body_bytes), what="the callback body")
        except WebInputError as exc:
            return refuse(exc.status, exc.message)
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict) or not all(
                isinstance(payload.get(k), str) and payload.get(k) for k in ("scope", "hash", "producer")):
            return refuse(400, "not a BigCommerce callback: scope, producer, hash and data are required")
        if payload["producer"] != producer:
            return refuse(403, f"callback from {_short(payload['producer'])!r}, not this store ({producer})")
        scope = payload["scope"]
        if not scope.startswith(_PREFIXES):
            stats["ignored"] += 1
            return JSONResponse({"status": "ignored", "scope": _short(scope)})
        if not seen.first_time(f"{payload['hash']}:{payload.get('created_at')}"):
            stats["duplicate"] += 1
            return JSONResponse({"status": "duplicate"})
        stats["accepted"] += 1
        data = payload["data"]
        reason = f"bigcommerce {_short(scope)} {_short(data.get('type', ''))} {_short(data.get('id', ''))}".strip()
        try:
            context.trigger_sync(reason)
        except Exception:  # the sync's own failures are serve's to report; BigCommerce must still get its 200
            log.exception("trigger_sync failed for %s", reason)
        return JSONResponse({"status": "accepted"})

    async def status(request: Request) -> JSONResponse:
        return JSONResponse({"receiver": "bigcommerce", **stats})

    app = Starlette(routes=[Route("/", receive, methods=["POST"]), Route("/", status, methods=["GET"])])
    app.state.stats = stats
    # fleet routing (issue 21): the store this receiver answers for, and the store a callback names (unverified)
    app.state.route_key = str(config.get("store_hash") or "") or None
    app.state.route_keys_of = route_keys_of
    return app


def route_keys_of(body: bytes) -> list[str]:
    """The store hash a callback's `producer` (`stores/{hash}`) names, not yet verified: it only picks which
    tenant's receiver checks the callback (fleet routing, issue 21)."""
    payload = parse_untrusted_json(body, what="the callback body")
    producer = payload.get("producer") if isinstance(payload, dict) else None
    if isinstance(producer, str) and producer.startswith("stores/") and len(producer) > len("stores/"):
        return [producer[len("stores/"):]]
    return []
