"""The receiver of MyShop's callbacks (`POST /webhooks/myshop` under `ledgerlink serve`): a signed callback about
this store asks for a sync, whose incremental read picks the change up.

MyShop signs each callback's body with the store's webhook secret (HMAC-SHA256, hex, in `X-MyShop-Signature`)
and names the store in it: `{"store": "s-1001", "event": "order.updated", "id": 12}`."""

from __future__ import annotations

import hashlib
import hmac

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import ledgerlink

SIGNATURE_HEADER = "X-MyShop-Signature"


def route_keys_of(body: bytes) -> list[str]:
    """The store a callback names, read WITHOUT verifying it: the fleet only uses it to choose which pipeline's
    receiver gets the callback, and that receiver checks the signature before anything happens."""
    try:
        payload = ledgerlink.parse_untrusted_json(body, what="the callback body")
    except ledgerlink.WebInputError:
        return []
    store = payload.get("store") if isinstance(payload, dict) else None
    return [store] if isinstance(store, str) and store else []


def webhook_app(context: ledgerlink.ServeContext) -> Starlette:
    """One pipeline's receiver, built from its source config (`serve` builds one per pipeline, the fleet one per
    tenant's pipeline)."""
    config = context.source_config or {}
    store, secret = config.get("store_id"), str(config.get("webhook_secret") or "")

    async def receive(request: Request) -> JSONResponse:
        try:  # a body over the limit is refused (413) before it is read whole
            body = await ledgerlink.read_body(request, ledgerlink.WEBHOOK_MAX_BYTES)
        except ledgerlink.WebInputError as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if not secret or not hmac.compare_digest(request.headers.get(SIGNATURE_HEADER, ""), expected):
            return JSONResponse({"error": f"missing or wrong {SIGNATURE_HEADER}"}, status_code=401)
        if route_keys_of(body) != [store]:
            return JSONResponse({"error": "this callback is about another store"}, status_code=403)
        context.trigger_sync("myshop callback")
        return JSONResponse({"status": "accepted"})

    app = Starlette(routes=[Route("/", receive, methods=["POST"])])
    # what the fleet routes by: the account this pipeline answers for (None: not routed), and how to read the
    # account(s) a callback names
    app.state.route_key = store
    app.state.route_keys_of = route_keys_of
    return app
