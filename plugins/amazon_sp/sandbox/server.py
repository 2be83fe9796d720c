"""`amazon_sp` sandbox: a local SP-API (Orders v0, Orders 2026-01-01 searchOrders, LWA) that answers and refuses
as Amazon does.

Amazon's paths, auth header, NextToken paging, validation errors, usage plans (scaled by `time_scale`)
and `x-amzn-RateLimit-Limit` header, over a deterministic seller (`seed.SellerBook`). Tests steer it
through `/_sandbox/*`, which is outside Amazon's paths: inject faults, expire tokens, update orders.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any, ClassVar
from urllib.parse import parse_qs

from pydantic import AwareDatetime, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledgerlink import Sandbox, SandboxOptions

from . import finances, inventory, notifications, reports, writes
from .consent import SellerConsent
from .replies import Invalid as _Invalid
from .replies import parse_time as _time
from .replies import refuse as _errors
from .replies import reply as _json
from .seed import ORDER_MARKETPLACES, SellerBook, iso

__all__ = ["AmazonSandbox", "AmazonSandboxOptions", "SANDBOX_PLANS"]

try:  # optional: a faster encoder for the sandbox's biggest replies (searchOrders pages)
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None


def _dumps(value: Any) -> str:
    """Compact JSON. The seeded data holds only str/int/bool/list/dict, so both encoders write the same text."""
    return _orjson.dumps(value).decode() if _orjson is not None else json.dumps(value, separators=(",", ":"))

#: Amazon's default usage plans (rate/s, burst) for the operations the sandbox serves
SANDBOX_PLANS: dict[str, tuple[float, int]] = {"getOrders": (0.0167, 20), "getOrderItems": (0.5, 30),
                                               "searchOrders": (0.0056, 20)}
#: the other API families' endpoints, each in its own module (`routes(api)`, `PLANS`)
_FAMILIES = (inventory, finances, reports, writes, notifications)
for _family in _FAMILIES:
    SANDBOX_PLANS.update(_family.PLANS)
_SETTLE_S = 120  # Before/After must be at least two minutes before the request
_ORDER_ID = "3-7-7"
_UNSUPPORTED = ("OrderStatuses", "FulfillmentChannels", "PaymentMethods", "BuyerEmail", "SellerOrderId",
                "AmazonOrderIds", "EasyShipShipmentStatuses", "ElectronicInvoiceStatuses")
#: Orders 2026-01-01 `includedData` values (the model's enum)
INCLUDED_DATA = ("BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT", "PACKAGES",
                 "TAX", "PAYMENT", "FULFILLMENT_ORDERS")
_FULFILLMENT_STATUSES = ("PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED",
                         "UNFULFILLABLE")
_FAULTS = {
    429: ("QuotaExceeded", "You exceeded your quota for the requested resource."),
    500: ("InternalFailure", "We encountered an internal error. Please try again."),
    503: ("ServiceUnavailable", "Service temporarily unavailable. Please try again."),
    403: ("Unauthorized", "Access to requested resource is denied."),
}


class AmazonSandboxOptions(SandboxOptions):
    orders: int = Field(300, ge=0, description="orders over the last ~60 days")
    uk_orders: int | None = Field(None, ge=0, description="Amazon.co.uk orders besides them (GBP, 20% VAT "
                                                           "included in prices; orders only); None: a tenth of orders")
    defects: int = Field(0, ge=0, description="orders given an item without SellerSKU")
    lines_per_order: int | None = Field(None, ge=1, le=12, description="items per order (None: 1-3 at random)")
    items_page_size: int = Field(100, ge=1, le=100, description="OrderItems per getOrderItems page")
    anchor: AwareDatetime | None = Field(None, description="seed data ends 10 minutes before this (default: now)")
    #: pin the LWA credentials the sandbox accepts (None: any, as a sandbox)
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    #: hand out a new refresh token on every exchange (LWA normally does not; exercises on_rotate)
    rotate_refresh_token: bool = False
    #: the merchant token Listings Items paths must name (None: any, as a sandbox)
    seller_id: str | None = None
    #: the seller who authorises on the consent page (default: `seller_id`, else this)
    consent_seller_id: str = "A2SANDBOXSELLER1"
    #: the SP-API application id the consent page accepts (None: any) and whether it is a draft (needs version=beta)
    application_id: str | None = None
    draft_application: bool = True
    #: the application's OAuth redirect URIs (None: any http(s) URI)
    redirect_uris: list[str] | None = None
    inventory_page_size: int = Field(50, ge=1, le=50, description="InventorySummaries per getInventorySummaries page")
    next_token_life_s: float = Field(30, gt=0, description="getInventorySummaries nextToken life in Amazon seconds "
                                                           "(scaled by time_scale, like the usage plans)")
    transactions_page_size: int = Field(100, ge=1, le=500, description="transactions per listTransactions page")
    deferred_settlements: bool = Field(False, description=(
        "settle deferred transactions as Amazon does: a sale Amazon holds (DD7, B2B) is in no settlement report "
        "while DEFERRED, then in the one covering its release, posted on the release date"))
    report_queue_s: float = Field(5, ge=0, description="reports wait IN_QUEUE this many Amazon seconds (scaled)")
    report_processing_s: float = Field(20, ge=0, description="then IN_PROGRESS this many Amazon seconds (scaled)")
    report_url_life_s: float = Field(300, gt=0, description="a report document URL works this many Amazon seconds "
                                                            "(scaled by time_scale, never under 2 real seconds)")
    report_gzip_min_bytes: int = Field(0, ge=0, description="gzip report documents of at least this size (0: all)")
    pre_encode: str | None = Field(None, description="encode every order's searchOrders JSON at start, with these "
                                                     "includedData (comma-separated), so pages are served from "
                                                     "memory and a benchmark measures the reader, not the sandbox")


class _Bucket:
    """Amazon's token bucket: `rate` tokens a second up to `burst`; a request without a token gets 429."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _raw_json(text: str, status: int = 200) -> Response:
    """A body already written as JSON text."""
    return Response(text, status_code=status, media_type="application/json",
                    headers={"x-amzn-RequestId": str(uuid.uuid4())})


_NAMES_V0 = {n: n for n in ("CreatedAfter", "CreatedBefore", "LastUpdatedAfter", "LastUpdatedBefore",
                            "MaxResultsPerPage")}
_NAMES_2026 = {n: n[0].lower() + n[1:] for n in _NAMES_V0}


class _SellingPartnerApi:
    """The sandbox's state (seller book, issued tokens, buckets, queued faults) and its endpoints."""

    def __init__(self, options: AmazonSandboxOptions):
        self.options = options
        anchor = options.anchor or datetime.now(timezone.utc).replace(second=0, microsecond=0)
        self.book = SellerBook(options.orders, options.seed, anchor, defects=options.defects,
                               lines_per_order=options.lines_per_order,
                               uk_orders=options.orders // 10 if options.uk_orders is None else options.uk_orders)
        self.tokens: set[str] = set()
        #: access tokens of the client_credentials grant (the Notifications API's grantless operations)
        self.grantless_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.buckets = {op: _Bucket(rate * options.time_scale, burst) for op, (rate, burst) in SANDBOX_PLANS.items()}
        self.faults: dict[str, list[int]] = {}
        self.calls: dict[str, dict[str, int]] = {}
        self.consent = SellerConsent(application_id=options.application_id,
                                     seller_id=options.seller_id or options.consent_seller_id,
                                     redirect_uris=options.redirect_uris, draft=options.draft_application,
                                     issue_refresh=self._issue_refresh, issue_access=self._issue_access)
        if options.pre_encode is not None:
            wanted = frozenset(v for v in options.pre_encode.split(",") if v)
            unknown = sorted(wanted - set(INCLUDED_DATA))
            if unknown:
                raise ValueError(f"pre_encode: unknown includedData {', '.join(unknown)}")
            for i in range(self.book.total):
                self.book.order_2026_json(i, wanted, _dumps)

    def _issue_access(self) -> str:
        access = "Atza|" + uuid.uuid4().hex + uuid.uuid4().hex
        self.tokens.add(access)
        return access

    def _issue_refresh(self) -> str:
        """A refresh token for a seller who just consented: from now on the LWA endpoint accepts it."""
        refresh = "Atzr|" + uuid.uuid4().hex
        self.refresh_tokens.add(refresh)
        return refresh

    # ------------------------------------------------------------------ LWA

    async def token(self, request: Request) -> Response:
        raw = (await request.body()).decode()
        if request.headers.get("content-type", "").startswith("application/json"):
            form = {k: str(v) for k, v in json.loads(raw or "{}").items()}
        else:
            form = {k: v[0] for k, v in parse_qs(raw).items()}
        opts = self.options

        def refuse(status: int, error: str, description: str) -> Response:
            return _json({"error": error, "error_description": description}, status)

        if form.get("grant_type") == "authorization_code":
            if not form.get("code") or not form.get("client_id") or not form.get("client_secret"):
                return refuse(400, "invalid_request", "The request is missing a required parameter : "
                              "code, client_id or client_secret")
            if (opts.client_id and form["client_id"] != opts.client_id) or (
                    opts.client_secret and form["client_secret"] != opts.client_secret):
                return refuse(401, "invalid_client", "Client authentication failed")
            status, body = self.consent.exchange(form)
            return _json(body, status)
        if form.get("grant_type") == "client_credentials":
            return self._grantless_token(form)
        if form.get("grant_type") != "refresh_token":
            return refuse(400, "unsupported_grant_type", "The authorization grant type is not supported by the "
                          "authorization server")
        if not form.get("refresh_token") or not form.get("client_id") or not form.get("client_secret"):
            return refuse(400, "invalid_request", "The request is missing a required parameter : "
                          "refresh_token, client_id or client_secret")
        if (opts.client_id and form["client_id"] != opts.client_id) or (
                opts.client_secret and form["client_secret"] != opts.client_secret):
            return refuse(401, "invalid_client", "Client authentication failed")
        pinned = opts.refresh_token is not None or self.refresh_tokens
        if pinned and form["refresh_token"] != opts.refresh_token and form["refresh_token"] not in self.refresh_tokens:
            return refuse(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
        access = "Atza|" + uuid.uuid4().hex + uuid.uuid4().hex
        self.tokens.add(access)
        refresh = form["refresh_token"]
        if opts.rotate_refresh_token:
            refresh = "Atzr|" + uuid.uuid4().hex
            self.refresh_tokens = {refresh}
        return _json({"access_token": access, "refresh_token": refresh, "token_type": "bearer", "expires_in": 3600})

    def _grantless_token(self, form: dict[str, str]) -> Response:
        """LWA's client_credentials grant: an access token for the application itself, for one scope (the
        Notifications API's grantless operations take `sellingpartnerapi::notifications`)."""
        opts = self.options
        if not form.get("client_id") or not form.get("client_secret") or not form.get("scope"):
            return _json({"error": "invalid_request", "error_description": "The request is missing a required "
                          "parameter : scope, client_id or client_secret"}, 400)
        if (opts.client_id and form["client_id"] != opts.client_id) or (
                opts.client_secret and form["client_secret"] != opts.client_secret):
            return _json({"error": "invalid_client", "error_description": "Client authentication failed"}, 401)
        if form["scope"] != notifications.GRANTLESS_SCOPE:
            return _json({"error": "invalid_scope", "error_description": "The request has an invalid parameter : "
                          "scope"}, 400)
        access = "Atc|" + uuid.uuid4().hex + uuid.uuid4().hex
        self.grantless_tokens.add(access)
        return _json({"access_token": access, "scope": form["scope"], "token_type": "bearer", "expires_in": 3600})

    # ------------------------------------------------------------------ gatekeeping

    def _gate(self, request: Request, operation: str) -> Response | None:
        """Auth, then injected faults, then the usage plan: what Amazon checks before the request itself."""
        if request.headers.get("x-amz-access-token") not in self.tokens:
            return self._count(operation, _errors(403, "Unauthorized", "Access to requested resource is denied.",
                                                  "The access token you provided is revoked, malformed or invalid."))
        return self._admit(operation)

    def _admit(self, operation: str) -> Response | None:
        """Injected faults, then the usage plan (after the caller's token was checked)."""
        queued = self.faults.get(operation)
        if queued:
            status = queued.pop(0)
            code, message = _FAULTS.get(status, ("InternalFailure", "Injected fault."))
            return self._count(operation, _errors(status, code, message))
        if not self.buckets[operation].take():
            return self._count(operation, _errors(429, *_FAULTS[429]))
        return None

    def _count(self, operation: str, response: Response) -> Response:
        """Every reply carries the (scaled) plan rate. Amazon documents it on 20x/400/404 only, best
        effort; sending it on every reply lets a client learn the scaled rate even from a first 429, and
        the client never depends on it (the contract cassettes have no such header)."""
        response.headers.setdefault("x-amzn-RateLimit-Limit", f"{self.buckets[operation].rate:g}")
        by_status = self.calls.setdefault(operation, {})
        by_status[str(response.status_code)] = by_status.get(str(response.status_code), 0) + 1
        return response

    # ------------------------------------------------------------------ getOrders

    async def get_orders(self, request: Request) -> Response:
        refused = self._gate(request, "getOrders")
        if refused is not None:
            return refused
        try:
            body = self._orders_page(request)
        except _Invalid as exc:
            return self._count("getOrders", _errors(400, "InvalidInput", str(exc)))
        return self._count("getOrders", _json(body))

    def _orders_page(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        marketplaces = [m for v in q.getlist("MarketplaceIds") for m in v.split(",") if m]
        if not marketplaces:
            raise _Invalid("Missing required parameter MarketplaceIds.")
        if len(marketplaces) > 50:
            raise _Invalid("MarketplaceIds accepts at most 50 values.")
        unknown = [m for m in marketplaces if m not in ORDER_MARKETPLACES]
        if unknown:
            raise _Invalid(f"Invalid MarketplaceIds: {', '.join(unknown)}. The seller does not sell there.")
        if q.get("NextToken") is not None:
            query = self._decode_token(q["NextToken"], marketplaces)
        else:
            query = self._new_query(q, marketplaces)
        created = query["k"] == "c"
        selected = self.book.select(query["m"], query["a"], query["b"], created=created)
        offset, size = query["o"], query["n"]
        page = [self.book.order(i) for i in selected[offset:offset + size]]
        payload: dict[str, Any] = {"Orders": page}
        if offset + size < len(selected):
            payload["NextToken"] = self._encode_token({**query, "o": offset + size})
        payload["CreatedBefore" if created else "LastUpdatedBefore"] = iso(query["b"])
        return {"payload": payload}

    def _new_query(self, q: Any, marketplaces: list[str], names: dict[str, str] | None = None) -> dict[str, Any]:
        """The time filters and page size, checked as Amazon checks them. `names` maps v0's parameter names
        to another version's (2026-01-01 spells them createdAfter, lastUpdatedAfter, maxResultsPerPage)."""
        n = names or _NAMES_V0
        if names is None:
            for name in _UNSUPPORTED:
                if name in q:
                    raise _Invalid(f"{name} is valid on Amazon but not implemented by the ledgerlink sandbox.")
        created_after, updated_after = q.get(n["CreatedAfter"]), q.get(n["LastUpdatedAfter"])
        if created_after and updated_after:
            raise _Invalid(f"Only one of {n['CreatedAfter']} or {n['LastUpdatedAfter']} may be specified, not both.")
        if not created_after and not updated_after:
            raise _Invalid(f"One of {n['CreatedAfter']} or {n['LastUpdatedAfter']} must be specified.")
        if created_after and q.get(n["LastUpdatedBefore"]):
            raise _Invalid(f"{n['LastUpdatedBefore']} cannot be set when {n['CreatedAfter']} is set.")
        if updated_after and q.get(n["CreatedBefore"]):
            raise _Invalid(f"{n['CreatedBefore']} cannot be set when {n['LastUpdatedAfter']} is set.")
        kind, prefix = ("c", "Created") if created_after else ("u", "LastUpdated")
        after_name, before_name = n[f"{prefix}After"], n[f"{prefix}Before"]
        latest = int(time.time()) - _SETTLE_S
        after = _time(after_name, created_after or updated_after)
        if after > latest:
            raise _Invalid(f"{after_name} must be no later than two minutes before the time of the request.")
        before_text = q.get(before_name)
        before = _time(before_name, before_text) if before_text else latest
        if before < after:
            raise _Invalid(f"{before_name} must be equal to or after {after_name}.")
        if before > latest:
            raise _Invalid(f"{before_name} must be at least two minutes before the time of the request.")
        size_name = n["MaxResultsPerPage"]
        try:
            size = int(q.get(size_name, "100"))
        except ValueError:
            raise _Invalid(f"{size_name} must be an integer between 1 and 100.") from None
        if not 1 <= size <= 100:
            raise _Invalid(f"{size_name} must be an integer between 1 and 100.")
        return {"k": kind, "a": after, "b": before, "m": sorted(set(marketplaces)), "o": 0, "n": size}

    @staticmethod
    def _encode_token(query: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(query, separators=(",", ":")).encode()).decode()

    @staticmethod
    def _decode_token(token: str, marketplaces: list[str] | None, *, with_included: bool = False) -> dict[str, Any]:
        """Amazon's NextToken carries the query; the sandbox's is readable but checked like an opaque one."""
        keys = {"k", "a", "b", "m", "o", "n"} | ({"i"} if with_included else set())
        try:
            query = json.loads(base64.urlsafe_b64decode(token.encode()))
            assert isinstance(query, dict) and set(query) == keys
        except (binascii.Error, ValueError, AssertionError, UnicodeDecodeError):
            raise _Invalid("Invalid paginationToken." if with_included else "Invalid NextToken.") from None
        if marketplaces is not None and sorted(set(marketplaces)) != query["m"]:
            raise _Invalid("MarketplaceIds must be the same as in the request that returned the NextToken.")
        return query

    # ------------------------------------------------------------------ searchOrders (2026-01-01)

    async def search_orders(self, request: Request) -> Response:
        refused = self._gate(request, "searchOrders")
        if refused is not None:
            return refused
        try:
            body = self._search_page(request)
        except _Invalid as exc:
            return self._count("searchOrders", _errors(400, "InvalidInput", str(exc)))
        return self._count("searchOrders", _raw_json(body))

    def _search_page(self, request: Request) -> str:
        """One page of searchOrders: orders with their items inline, `pagination.nextToken` while more remain.
        Returned as JSON text (assembled from per-order JSON, the hot path of the benchmarks)."""
        q = request.query_params

        def listed(name: str, allowed: tuple[str, ...] | None = None) -> list[str]:
            values = [v for raw in q.getlist(name) for v in raw.split(",") if v]
            bad = [v for v in values if allowed is not None and v not in allowed]
            if bad:
                raise _Invalid(f"Invalid {name}: {', '.join(bad)}. Allowed values: {', '.join(allowed or ())}.")
            return values

        marketplaces = listed("marketplaceIds")
        if len(marketplaces) > 50:
            raise _Invalid("marketplaceIds accepts at most 50 values.")
        unknown = [m for m in marketplaces if m not in ORDER_MARKETPLACES]
        if unknown:
            raise _Invalid(f"Invalid marketplaceIds: {', '.join(unknown)}. The seller does not sell there.")
        included = listed("includedData", INCLUDED_DATA)
        if listed("fulfillmentStatuses", _FULFILLMENT_STATUSES) or listed("fulfilledBy", ("MERCHANT", "AMAZON")):
            raise _Invalid("fulfillmentStatuses and fulfilledBy are valid on Amazon but not implemented by the "
                           "ledgerlink sandbox.")
        token = q.get("paginationToken")
        if token is not None:
            query = self._decode_token(token, marketplaces or None, with_included=True)
        else:  # marketplaceIds is optional in 2026-01-01: every marketplace of the seller
            query = self._new_query(q, marketplaces or list(ORDER_MARKETPLACES), names=_NAMES_2026)
            query["i"] = sorted(set(included))
        created = query["k"] == "c"
        selected = self.book.select(query["m"], query["a"], query["b"], created=created)
        offset, size = query["o"], query["n"]
        wanted = frozenset(query["i"])
        orders = ",".join(self.book.order_2026_json(i, wanted, _dumps) for i in selected[offset:offset + size])
        tail = f',"{"createdBefore" if created else "lastUpdatedBefore"}":"{iso(query["b"])}"'
        if offset + size < len(selected):
            tail += ',"pagination":' + json.dumps({"nextToken": self._encode_token({**query, "o": offset + size})})
        return '{"orders":[' + orders + "]" + tail + "}"

    # ------------------------------------------------------------------ getOrderItems

    async def get_order_items(self, request: Request) -> Response:
        op = "getOrderItems"
        refused = self._gate(request, op)
        if refused is not None:
            return refused
        order_id = request.path_params["orderId"]
        parts = order_id.split("-")
        if [len(p) for p in parts] != [3, 7, 7] or not all(p.isdigit() for p in parts):
            return self._count(op, _errors(400, "InvalidInput", f"Invalid AmazonOrderId {order_id!r}: expected the "
                                           f"{_ORDER_ID} format."))
        index = self.book.index_of(order_id)
        if index is None:
            return self._count(op, _errors(404, "NotFound", f"Order {order_id} was not found."))
        items = self.book.items(index)
        size = self.options.items_page_size
        token = request.query_params.get("NextToken")
        offset = 0
        if token is not None:
            try:
                offset = int(base64.urlsafe_b64decode(token.encode()).decode().split(":")[1])
            except (binascii.Error, ValueError, IndexError, UnicodeDecodeError):
                offset = -1
            if not 0 < offset < len(items):
                return self._count(op, _errors(400, "InvalidInput", "Invalid NextToken."))
        payload: dict[str, Any] = {"AmazonOrderId": order_id, "OrderItems": items[offset:offset + size]}
        if offset + size < len(items):
            payload["NextToken"] = base64.urlsafe_b64encode(f"{order_id}:{offset + size}".encode()).decode()
        return self._count(op, _json({"payload": payload}))

    # ------------------------------------------------------------------ test controls (not Amazon's)

    async def inject_faults(self, request: Request) -> Response:
        """`{"operation": "getOrders", "status": 500, "count": 2}`: the next 2 getOrders calls fail with 500."""
        spec = await request.json()
        operation, status, count = spec.get("operation"), int(spec.get("status", 500)), int(spec.get("count", 1))
        if operation not in SANDBOX_PLANS:
            return _json({"error": f"unknown operation {operation!r}; one of {sorted(SANDBOX_PLANS)}"}, 400)
        self.faults.setdefault(operation, []).extend([status] * count)
        return _json({"operation": operation, "queued": self.faults[operation]})

    async def expire_tokens(self, request: Request) -> Response:
        """Every issued access token stops working, as after an hour (clients must exchange again)."""
        self.tokens.clear()
        self.grantless_tokens.clear()
        return _json({"expired": True})

    async def update_order(self, request: Request) -> Response:
        """`{"OrderStatus": "Shipped", "LastUpdateDate": "..."}`: change an order as Amazon or the seller would."""
        index = self.book.index_of(request.path_params["orderId"])
        if index is None:
            return _json({"error": "no such order"}, 404)
        change = await request.json()
        when = _time("LastUpdateDate", change["LastUpdateDate"]) if change.get("LastUpdateDate") else int(time.time())
        fields = {k: v for k, v in change.items() if k == "OrderStatus"}
        self.book.update(index, when, **fields)
        return _json(self.book.order(index))

    async def expire_codes(self, request: Request) -> Response:
        return _json({"expired": self.consent.expire_codes()})

    async def stats(self, request: Request) -> Response:
        return _json({"calls": self.calls, "orders": self.book.count, "uk_orders": self.book.total - self.book.count})

    def routes(self) -> list[Route]:
        return [
            Route("/auth/o2/token", self.token, methods=["POST"]),
            Route("/apps/authorize/consent", self.consent.show, methods=["GET"]),
            Route("/apps/authorize/consent", self.consent.decide, methods=["POST"]),
            Route("/_sandbox/codes/expire", self.expire_codes, methods=["POST"]),
            Route("/orders/v0/orders", self.get_orders, methods=["GET"]),
            Route("/orders/v0/orders/{orderId}/orderItems", self.get_order_items, methods=["GET"]),
            Route("/orders/2026-01-01/orders", self.search_orders, methods=["GET"]),
            *[route for family in _FAMILIES for route in family.routes(self)],
            Route("/_sandbox/faults", self.inject_faults, methods=["POST"]),
            Route("/_sandbox/expire_tokens", self.expire_tokens, methods=["POST"]),
            Route("/_sandbox/orders/{orderId}", self.update_order, methods=["POST"]),
            Route("/_sandbox/stats", self.stats, methods=["GET"]),
        ]


class AmazonSandbox(Sandbox):
    """A local Selling Partner API (Orders v0; Orders 2026-01-01 searchOrders) and Login with Amazon, seeded
    with a seller's orders. Both Orders APIs serve the same orders, each in its own shape."""

    name: ClassVar[str] = "amazon_sp"
    default_port: ClassVar[int] = 8711
    description: ClassVar[str] = ("Amazon SP-API Orders v0, Orders 2026-01-01 searchOrders, Notifications v1 + LWA "
                                  "token endpoint (refresh-token and grantless grants), with a seeded seller")
    options_model: ClassVar[type[SandboxOptions]] = AmazonSandboxOptions

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.api = _SellingPartnerApi(self.options)  # type: ignore[arg-type]

    def app(self) -> Starlette:
        return Starlette(routes=self.api.routes())
