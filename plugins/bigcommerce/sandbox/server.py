"""`bigcommerce` sandbox: a local BigCommerce store API that answers and refuses as BigCommerce does.

BigCommerce's paths (`/stores/{store_hash}/v2|v3/...`), `X-Auth-Token`, page/limit paging (204 on an empty
v2 page), its error bodies (v2: `[{"status", "message"}]`; v3: `{"status", "title", "type", "errors"}`), and
the store's quota window on every reply (`X-Rate-Limit-*`; 429 once the window's quota is spent, window length
divided by `time_scale`). Webhooks registered through `/v3/hooks` are delivered for real, on a background
thread, with the subscription's custom headers. Tests steer it through `/_sandbox/*` (not BigCommerce's):
create or update orders, inject faults, read call counts and webhook deliveries.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import AwareDatetime, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledgerlink import Sandbox, SandboxOptions

from ..client import rfc2822 as _parse_rfc
from .seed import LOCATIONS, STATUSES, StoreBook

__all__ = ["BigCommerceSandbox", "BigCommerceSandboxOptions"]

_STATUS_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"


class BigCommerceSandboxOptions(SandboxOptions):
    orders: int = Field(150, ge=0, description="orders over the last ~60 days")
    store_hash: str = Field("abc123", description="the store's hash (paths are /stores/{store_hash}/...)")
    #: pin the token the sandbox accepts (None: any non-empty token)
    access_token: str | None = None
    quota: int = Field(150, ge=1, description="requests per quota window (Standard plan: 150 per 30 s)")
    window_ms: int = Field(30000, ge=1, description="the quota window, before time_scale")
    anchor: AwareDatetime | None = Field(None, description="seed data ends 10 minutes before this (default: now)")
    webhook_retries: int = Field(3, ge=0, description="redeliveries of a webhook answered with a non-2xx")
    stores: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9]+$")]] = Field(default_factory=list, description=(
        "more store hashes to serve beside store_hash, each a store of its own (seeded from seed and its hash, "
        "so its order ids overlap the first store's; its own quota, hooks and controls under "
        "/_sandbox/stores/{hash}/...)"))


#: statuses a shipment moves on (Awaiting Payment, Pickup, Shipment, Fulfillment; Partially Shipped)
_SHIPPABLE = frozenset({7, 8, 9, 11, 3})


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return int(o) if o == o.to_integral_value() and o.as_tuple().exponent >= 0 else float(o)
    raise TypeError(type(o).__name__)


def _dumps(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"), default=_default)


def _v3_error(status: int, title: str, errors: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"status": status, "title": title, "type": _STATUS_TYPE}
    if errors is not None:
        out["errors"] = errors
    return out


class _Invalid(Exception):
    def __init__(self, status: int, title: str, errors: dict[str, str] | None = None):
        super().__init__(title)
        self.status, self.title, self.errors = status, title, errors


class _Quota:
    """BigCommerce's store quota: `quota` requests per window; the window starts at its first request."""

    def __init__(self, quota: int, window_s: float):
        self.quota, self.window_s = quota, window_s
        self.start, self.used = time.monotonic(), 0
        self.lock = threading.Lock()

    def take(self) -> tuple[bool, dict[str, str]]:
        with self.lock:
            now = time.monotonic()
            if now - self.start >= self.window_s:
                self.start, self.used = now, 0
            ok = self.used < self.quota
            if ok:
                self.used += 1
            reset_ms = max(1, int((self.window_s - (now - self.start)) * 1000))
            return ok, {"X-Rate-Limit-Time-Window-Ms": str(max(1, int(self.window_s * 1000))),
                        "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
                        "X-Rate-Limit-Requests-Quota": str(self.quota),
                        "X-Rate-Limit-Requests-Left": str(self.quota - self.used)}


class _Deliverer:
    """Delivers webhook callbacks on one background thread, retrying non-2xx replies a few times."""

    def __init__(self, retries: int, time_scale: float):
        self.queue: queue.Queue[tuple[dict[str, Any], dict[str, Any]]] = queue.Queue()
        self.retries, self.time_scale = retries, time_scale
        self.log: list[dict[str, Any]] = []
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def send(self, hook: dict[str, Any], payload: dict[str, Any]) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="bigcommerce-webhooks", daemon=True)
                self._thread.start()
        self.queue.put((hook, payload))

    def _run(self) -> None:
        import httpx

        with httpx.Client(timeout=5.0) as client:
            while True:
                hook, payload = self.queue.get()
                status: int | str = "not sent"
                for attempt in range(self.retries + 1):
                    try:
                        reply = client.post(hook["destination"], content=_dumps(payload),
                                            headers={"Content-Type": "application/json", **(hook.get("headers") or {})})
                        status = reply.status_code
                    except httpx.HTTPError as exc:
                        status = type(exc).__name__
                    if isinstance(status, int) and 200 <= status < 300:
                        break
                    time.sleep(min(60.0 * (attempt + 1) / self.time_scale, 2.0))
                self.log.append({"hook_id": hook["id"], "scope": payload["scope"], "hash": payload["hash"],
                                 "data": payload["data"], "status": status})


class _Store:
    """The sandbox's state and endpoints."""

    def __init__(self, options: BigCommerceSandboxOptions):
        self.options = options
        self.book = StoreBook(orders_count=options.orders, seed=options.seed, anchor=options.anchor,
                              store_hash=options.store_hash)
        self.quota = _Quota(options.quota, options.window_ms / 1000.0 / options.time_scale)
        self.faults: list[dict[str, Any]] = []
        self.calls: dict[str, int] = {}
        self.hooks: dict[int, dict[str, Any]] = {}
        self.deliverer = _Deliverer(options.webhook_retries, options.time_scale)
        self.lock = threading.RLock()

    # ------------------------------------------------------------------ plumbing

    def _reply(self, body: Any, status: int = 200, headers: dict[str, str] | None = None,
               media: str = "application/json") -> Response:
        text = "" if body is None else _dumps(body)
        return Response(text, status_code=status, media_type=None if body is None else media, headers=headers)

    def endpoint(self, handler: Any, version: str) -> Any:
        """Auth, store, injected faults and quota, in BigCommerce's order; then the handler; errors shaped."""

        async def run(request: Request) -> Response:
            key = f"{request.method} {request.url.path}"
            ok, rate = self.quota.take()
            token = request.headers.get("x-auth-token")
            if request.path_params.get("store_hash") != self.options.store_hash:
                return self._count(key, self._error(version, 404, "Store not found", rate))
            if not token or (self.options.access_token is not None and token != self.options.access_token):
                return self._count(key, self._error(
                    version, 401, "You have not been authenticated. Please provide a valid X-Auth-Token.", rate))
            fault = self._fault(request)
            if fault is not None:
                return self._count(key, self._error(version, fault, "Injected fault" if fault != 429 else
                                                    "Too many requests", rate))
            if not ok:
                return self._count(key, self._error(version, 429, "Too many requests", rate))
            try:
                with self.lock:
                    result = await handler(request)
            except _Invalid as exc:
                return self._count(key, self._error(version, exc.status, exc.title, rate, exc.errors))
            if isinstance(result, Response):
                result.headers.update(rate)
                return self._count(key, result)
            status, body = result
            if body is None or (version == "v2" and body == []):
                return self._count(key, Response(status_code=204, headers=rate))
            return self._count(key, self._reply(body, status, rate))

        return run

    def _error(self, version: str, status: int, title: str, headers: dict[str, str],
               errors: dict[str, str] | None = None) -> Response:
        if version == "v2":
            return self._reply([{"status": status, "message": title + (
                " (" + "; ".join(f"{k}: {v}" for k, v in errors.items()) + ")" if errors else "")}], status, headers)
        return self._reply(_v3_error(status, title, errors), status, headers, media="application/problem+json"
                           if status == 422 else "application/json")

    def _fault(self, request: Request) -> int | None:
        with self.lock:
            for fault in self.faults:
                if fault["path_contains"] in request.url.path and fault.get("method", request.method) == request.method:
                    if fault.get("after", 0) > 0:
                        fault["after"] -= 1
                        return None
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                    return int(fault["status"])
        return None

    def _count(self, key: str, response: Response) -> Response:
        name = f"{key} {response.status_code}"
        self.calls[name] = self.calls.get(name, 0) + 1
        return response

    @staticmethod
    def _paging(request: Request, default: int, maximum: int) -> tuple[int, int]:
        q = request.query_params
        try:
            page, limit = int(q.get("page", "1")), int(q.get("limit", str(default)))
        except ValueError:
            raise _Invalid(400, "The request parameters are invalid: page and limit must be integers") from None
        if page < 1 or not 1 <= limit <= maximum:
            raise _Invalid(400, f"The request parameters are invalid: page >= 1, 1 <= limit <= {maximum}")
        return page, limit

    def _v3_page(self, request: Request, items: list[Any], default: int = 50) -> tuple[int, dict[str, Any]]:
        page, limit = self._paging(request, default, 250)
        total = len(items)
        chunk = items[(page - 1) * limit: page * limit]
        pages = max(1, -(-total // limit))
        links: dict[str, str] = {"current": f"?page={page}&limit={limit}"}
        if page > 1:
            links["previous"] = f"?page={page - 1}&limit={limit}"
        if page < pages:
            links["next"] = f"?page={page + 1}&limit={limit}"
        return 200, {"data": chunk, "meta": {"pagination": {
            "total": total, "count": len(chunk), "per_page": limit, "current_page": page, "total_pages": pages,
            "links": links}}}

    def _order(self, request: Request) -> int:
        try:
            oid = int(request.path_params["order_id"])
        except ValueError:
            raise _Invalid(404, "The requested resource was not found.") from None
        if oid not in self.book.orders:
            raise _Invalid(404, "The requested resource was not found.")
        return oid

    # ------------------------------------------------------------------ v2

    async def store(self, request: Request) -> Any:
        h = self.options.store_hash
        return 200, {
            "id": h, "account_uuid": "8d4d492f-17a1-4d95-b396-e1c5720815a5", "domain": "ledgerlink-sandbox.store",
            "secure_url": "https://ledgerlink-sandbox.store", "control_panel_base_url": f"https://store-{h}.mybigcommerce.com",
            "status": "live", "name": "ledgerlink sandbox store", "first_name": "Jane", "last_name": "Doe",
            "address": "455 Main Street, Austin, TX 78751", "country": "United States", "country_code": "US",
            "phone": "555-123-4567", "admin_email": "jane@example.com", "order_email": "orders@example.com",
            "favicon_url": "", "timezone": {"name": "America/Chicago", "raw_offset": -21600, "dst_offset": -18000,
                                            "dst_correction": True, "date_format": {
                                                "display": "M jS Y", "export": "M jS Y",
                                                "extended_display": "M jS Y @ g:i A"}},
            "language": "en", "currency": "USD", "currency_symbol": "$", "decimal_separator": ".",
            "thousands_separator": ",", "decimal_places": 2, "currency_symbol_location": "left",
            "weight_units": "Ounces", "dimension_units": "Inches", "dimension_decimal_places": 2,
            "dimension_decimal_token": ".", "dimension_thousands_token": ",", "plan_name": "Standard",
            "plan_level": "Standard", "plan_is_trial": False, "industry": "Home & Garden", "logo": [],
            "is_price_entered_with_tax": False, "store_id": 1025646, "default_channel_id": 1, "default_site_id": 1000,
            "active_comparison_modules": [], "features": {
                "stencil_enabled": True, "sitewidehttps_enabled": True, "facebook_catalog_id": "",
                "checkout_type": "optimized", "wishlists_enabled": True, "graphql_storefront_api_enabled": True,
                "shopper_consent_tracking_enabled": True, "multi_storefront_enabled": False,
                "storefront_limits": {"active": 1, "total_including_inactive": 1}}}

    async def orders(self, request: Request) -> Any:
        q = request.query_params
        page, limit = self._paging(request, 50, 250)
        rows = list(self.book.orders.values())

        def when(name: str) -> float | None:
            text = q.get(name)
            if text is None:
                return None
            try:
                return _parse_rfc(text, stream="", key="", field=name).timestamp()
            except Exception:
                try:
                    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
                except ValueError:
                    raise _Invalid(400, f"The filter '{name}' is not a valid date: {text!r}") from None
                return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()

        def ts(order: dict[str, Any], name: str) -> float:
            return _parse_rfc(order[name], stream="", key="", field=name).timestamp()

        for name, field, op in (("min_date_modified", "date_modified", "ge"), ("max_date_modified", "date_modified", "le"),
                                ("min_date_created", "date_created", "ge"), ("max_date_created", "date_created", "le")):
            bound = when(name)
            if bound is not None:
                rows = [o for o in rows if (ts(o, field) >= bound if op == "ge" else ts(o, field) <= bound)]
        if q.get("status_id") is not None:
            rows = [o for o in rows if str(o["status_id"]) == q["status_id"]]
        sort = q.get("sort", "id:asc")
        field, _, direction = sort.partition(":")
        if field not in ("id", "date_modified", "date_created", "status_id"):
            raise _Invalid(400, f"The sort field '{field}' is not supported")
        keyf = (lambda o: (ts(o, field), o["id"])) if field.startswith("date") else (lambda o: (o[field], o["id"]))
        rows.sort(key=keyf, reverse=direction == "desc")
        chunk = rows[(page - 1) * limit: page * limit]
        return 200, chunk or None

    async def order(self, request: Request) -> Any:
        return 200, self.book.orders[self._order(request)]

    async def update_order(self, request: Request) -> Any:
        oid = self._order(request)
        body = await _json_body(request)
        unknown = set(body) - {"status_id", "staff_notes", "customer_message"}
        if unknown:
            raise _Invalid(400, f"The field(s) {', '.join(sorted(unknown))} cannot be updated by the ledgerlink sandbox")
        if "status_id" in body and body["status_id"] not in STATUSES:
            raise _Invalid(400, f"The field 'status_id' is invalid: {body['status_id']!r} is not an order status")
        before = self.book.orders[oid]["status_id"]
        order = self.book.touch(oid, time.time(), **{k: v for k, v in body.items() if k == "status_id"})
        for k in ("staff_notes", "customer_message"):
            if k in body:
                order[k] = body[k]
        self._event("store/order/updated", {"type": "order", "id": oid})
        if order["status_id"] != before:
            self._event("store/order/statusUpdated", {"type": "order", "id": oid, "status": {
                "previous_status_id": before, "new_status_id": order["status_id"]}})
        return 200, order

    async def order_products(self, request: Request) -> Any:
        return self._v2_list(request, self.book.order_products[self._order(request)])

    async def shipping_addresses(self, request: Request) -> Any:
        return self._v2_list(request, self.book.shipping_addresses[self._order(request)])

    async def coupons(self, request: Request) -> Any:
        return self._v2_list(request, self.book.coupons[self._order(request)])

    async def shipments(self, request: Request) -> Any:
        return self._v2_list(request, self.book.shipments[self._order(request)])

    def _v2_list(self, request: Request, rows: list[Any]) -> Any:
        page, limit = self._paging(request, 50, 250)
        return 200, rows[(page - 1) * limit: page * limit] or None

    async def create_shipment(self, request: Request) -> Any:
        oid = self._order(request)
        body = await _json_body(request)
        errors = {}
        addresses = {a["id"] for a in self.book.shipping_addresses[oid]}
        if body.get("order_address_id") not in addresses:
            errors["order_address_id"] = f"must be one of the order's shipping address ids {sorted(addresses)}"
        items = body.get("items")
        lines = {li["id"]: li for li in self.book.order_products[oid]}
        if not isinstance(items, list) or not items:
            errors["items"] = "is required"
        else:
            for i, item in enumerate(items):
                line = lines.get(item.get("order_product_id")) if isinstance(item, dict) else None
                if line is None:
                    errors[f"items[{i}].order_product_id"] = "is not a product of this order"
                elif not isinstance(item.get("quantity"), int) or not 0 < item["quantity"] <= line["quantity"] - line["quantity_shipped"]:
                    errors[f"items[{i}].quantity"] = "exceeds the quantity left to ship"
        if errors:
            raise _Invalid(400, "The request body is invalid", errors)
        shipment = self.book.add_shipment(oid, tracking=str(body.get("tracking_number") or ""),
                                          provider=str(body.get("shipping_provider") or ""), items=items,
                                          when=time.time(), comments=str(body.get("comments") or ""),
                                          tracking_carrier=str(body.get("tracking_carrier") or ""))
        self._event("store/shipment/created", {"type": "shipment", "id": shipment["id"], "orderId": oid})
        self._ship_status(oid)
        return 201, shipment

    def _ship_status(self, oid: int) -> None:
        """BigCommerce moves an order it ships to Shipped, or Partially Shipped while items are left to ship."""
        order, lines = self.book.orders[oid], self.book.order_products[oid]
        before = order["status_id"]
        if before not in _SHIPPABLE:
            return
        done = all(li["quantity_shipped"] >= li["quantity"] for li in lines)
        self.book.touch(oid, time.time(), status_id=2 if done else 3)
        if done:
            order["date_shipped"] = order["date_modified"]
        if order["status_id"] != before:
            self._event("store/order/statusUpdated", {"type": "order", "id": oid, "status": {
                "previous_status_id": before, "new_status_id": order["status_id"]}})

    # ------------------------------------------------------------------ v3

    async def transactions(self, request: Request) -> Any:
        oid = self._order(request)
        return self._v3_page(request, self.book.transactions[oid])

    async def refunds(self, request: Request) -> Any:
        rows = self.book.refunds
        wanted = request.query_params.get("order_id:in")
        if wanted:
            ids = {int(x) for x in wanted.split(",") if x.strip().isdigit()}
            rows = [r for r in rows if r["order_id"] in ids]
        return self._v3_page(request, rows)

    async def order_refunds(self, request: Request) -> Any:
        oid = self._order(request)
        return self._v3_page(request, [r for r in self.book.refunds if r["order_id"] == oid])

    async def customers(self, request: Request) -> Any:
        return self._v3_page(request, list(self.book.customers.values()))

    async def products(self, request: Request) -> Any:
        include = request.query_params.get("include", "")
        rows = []
        for p in self.book.products.values():
            row = {k: v for k, v in p.items() if k != "base_variant_id"}
            if "variants" in include.split(","):
                row["variants"] = [v for v in self.book.variants.values() if v["product_id"] == p["id"]]
            rows.append(row)
        return self._v3_page(request, rows)

    async def variants(self, request: Request) -> Any:
        return self._v3_page(request, list(self.book.variants.values()))

    async def locations(self, request: Request) -> Any:
        rows = [{"id": lid, "code": code, "label": label, "description": "", "managed_by_external_source": False,
                 "type_id": "PHYSICAL", "enabled": True, "operating_hours": {}, "time_zone": tz,
                 "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
                 "address": {"address1": "1 Depot Road", "address2": "", "city": "Austin" if country == "US" else "Toronto",
                             "state": "TX" if country == "US" else "ON", "zip": "78751" if country == "US" else "M5V 2A2",
                             "email": "stock@example.com", "phone": "555-0100",
                             "geo_coordinates": {"latitude": 30.26, "longitude": -97.74}, "country_code": country},
                 "storefront_visibility": True, "special_hours": []} for lid, code, label, tz, country in LOCATIONS]
        return self._v3_page(request, rows)

    async def location_items(self, request: Request) -> Any:
        try:
            lid = int(request.path_params["location_id"])
        except ValueError:
            lid = -1
        if lid not in {loc[0] for loc in LOCATIONS}:
            raise _Invalid(404, f"Location with id {request.path_params['location_id']} not found")
        return self._v3_page(request, self.book.inventory_items(lid))

    async def adjust(self, request: Request, relative: bool) -> Any:
        body = await _json_body(request)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise _Invalid(422, "JSON data is missing or invalid", {"items": "is required"})
        if len(items) > 2000:
            raise _Invalid(422, "JSON data is missing or invalid", {"items": "at most 2000 items"})
        by_sku = {v["sku"]: vid for vid, v in self.book.variants.items()}
        locations = {loc[0] for loc in LOCATIONS}
        resolved = []
        for i, item in enumerate(items):
            vid = item.get("variant_id") if "variant_id" in item else by_sku.get(item.get("sku"))
            if "product_id" in item:
                product = self.book.products.get(item["product_id"])
                vid = product.get("base_variant_id") if product else None
                if product and vid is None:
                    raise _Invalid(422, f"[Item with product_id {item['product_id']} is tracked by variant, please "
                                        "update stock by variant id]", {})
            if vid not in self.book.variants:
                raise _Invalid(422, "JSON data is missing or invalid", {f"items.{i}": "the item does not exist"})
            if item.get("location_id") not in locations:
                raise _Invalid(422, "JSON data is missing or invalid", {f"items.{i}.location_id": "unknown location"})
            qty = item.get("quantity")
            if not isinstance(qty, int) or isinstance(qty, bool) or (not relative and qty < 0):
                raise _Invalid(422, "JSON data is missing or invalid", {f"items.{i}.quantity": "must be an integer"
                                                                       + ("" if relative else " >= 0")})
            resolved.append((item["location_id"], vid, qty))
        for lid, vid, qty in resolved:
            self.book.adjust(lid, vid, qty, relative)
            v = self.book.variants[vid]
            self._event("store/product/inventory/updated", {
                "type": "product", "id": v["product_id"], "inventory": {
                    "product_id": v["product_id"], "method": "relative" if relative else "absolute",
                    "value": qty, "variant_id": vid, "location_id": lid}})
        self.book.next_ids["transaction"] += 1
        return 200, {"transaction_id": f"adj-{self.book.next_ids['transaction']}"}

    async def absolute(self, request: Request) -> Any:
        return await self.adjust(request, relative=False)

    async def relative(self, request: Request) -> Any:
        return await self.adjust(request, relative=True)

    # ------------------------------------------------------------------ webhooks (/v3/hooks)

    async def list_hooks(self, request: Request) -> Any:
        rows = list(self.hooks.values())
        if request.query_params.get("scope"):
            rows = [h for h in rows if h["scope"] == request.query_params["scope"]]
        if request.query_params.get("destination"):
            rows = [h for h in rows if h["destination"] == request.query_params["destination"]]
        return self._v3_page(request, rows)

    async def create_hook(self, request: Request) -> Any:
        body = await _json_body(request)
        errors = {k: "error.path.missing." for k in ("scope", "destination") if not body.get(k)}
        if errors:
            raise _Invalid(422, "JSON data is missing or invalid", errors)
        if not str(body["destination"]).startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise _Invalid(422, "JSON data is missing or invalid", {"destination": "must be an https URL"})
        if body.get("headers") is not None and not (isinstance(body["headers"], dict) and all(
                isinstance(v, str) for v in body["headers"].values())):
            raise _Invalid(422, "JSON data is missing or invalid", {"headers": "must be an object of strings"})
        now = int(time.time())
        hook_id = max(self.hooks, default=18048286) + 1
        hook = {"id": hook_id, "client_id": "ledgerlinksandboxclient", "store_hash": self.options.store_hash,
                "scope": body["scope"], "destination": body["destination"], "headers": body.get("headers"),
                "is_active": bool(body.get("is_active", True)), "created_at": now, "updated_at": now}
        self.hooks[hook_id] = hook
        return 200, {"data": hook, "meta": {}}

    def _hook(self, request: Request) -> dict[str, Any]:
        try:
            return self.hooks[int(request.path_params["webhook_id"])]
        except (ValueError, KeyError):
            raise _Invalid(404, f"Webhook with id [{request.path_params['webhook_id']}] not found") from None

    async def get_hook(self, request: Request) -> Any:
        return 200, {"data": self._hook(request), "meta": {}}

    async def update_hook(self, request: Request) -> Any:
        hook = self._hook(request)
        body = await _json_body(request)
        for k in ("scope", "destination", "is_active", "headers"):
            if k in body:
                hook[k] = body[k]
        hook["updated_at"] = int(time.time())
        return 200, {"data": hook, "meta": {}}

    async def delete_hook(self, request: Request) -> Any:
        hook = self._hook(request)
        del self.hooks[hook["id"]]
        return 200, {"data": hook, "meta": {}}

    def _event(self, scope: str, data: dict[str, Any]) -> None:
        """Deliver `scope` to every active hook whose scope matches (exactly, or `store/order/*`)."""
        payload = {"scope": scope, "store_id": "1025646", "data": data,
                   "hash": hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest(),
                   "created_at": int(time.time()), "producer": f"stores/{self.options.store_hash}"}
        for hook in list(self.hooks.values()):
            pattern = hook["scope"]
            if hook["is_active"] and (pattern == scope or (pattern.endswith("/*") and scope.startswith(pattern[:-1]))):
                self.deliverer.send(hook, payload)

    # ------------------------------------------------------------------ test controls (not BigCommerce's)

    async def control_create_order(self, request: Request) -> Response:
        """`{"status_id": 11}`: a shopper places an order now (webhook store/order/created)."""
        body = await _json_body(request)
        with self.lock:
            order = self.book.create_order(placed=time.time(), status_id=body.get("status_id", 11))
            self._event("store/order/created", {"type": "order", "id": order["id"]})
        return self._reply(order)

    async def control_update_order(self, request: Request) -> Response:
        """`{"status_id": 2}`: the merchant changes an order now (webhooks store/order/updated, statusUpdated)."""
        oid = int(request.path_params["order_id"])
        if oid not in self.book.orders:
            return self._reply({"error": "no such order"}, 404)
        body = await _json_body(request)
        with self.lock:
            before = self.book.orders[oid]["status_id"]
            order = self.book.touch(oid, time.time(), **body)
            self._event("store/order/updated", {"type": "order", "id": oid})
            if order["status_id"] != before:
                self._event("store/order/statusUpdated", {"type": "order", "id": oid, "status": {
                    "previous_status_id": before, "new_status_id": order["status_id"]}})
        return self._reply(order)

    async def control_break_order(self, request: Request) -> Response:
        """`{"field": "total_inc_tax", "value": "12,50"}`: corrupt one order field, as a bad upstream would."""
        oid = int(request.path_params["order_id"])
        body = await _json_body(request)
        with self.lock:
            order = self.book.orders[oid]
            target = order if body.get("where", "order") == "order" else self.book.order_products[oid][0]
            target[body["field"]] = body["value"]
            order["date_modified"] = self.book.touch(oid, time.time())["date_modified"]
        return self._reply(order)

    async def control_faults(self, request: Request) -> Response:
        """`{"path_contains": "/v2/orders", "status": 500, "count": 1, "after": 0, "method": "GET"}`."""
        spec = await _json_body(request)
        fault = {"path_contains": str(spec.get("path_contains", "")), "status": int(spec.get("status", 500)),
                 "count": int(spec.get("count", 1)), "after": int(spec.get("after", 0))}
        if spec.get("method"):
            fault["method"] = str(spec["method"]).upper()
        with self.lock:
            self.faults.append(fault)
        return self._reply({"queued": self.faults})

    async def control_stats(self, request: Request) -> Response:
        return self._reply({"calls": self.calls, "orders": len(self.book.orders), "hooks": len(self.hooks),
                            "deliveries": self.deliverer.log})

    def routes(self) -> list[Route]:
        s = "/stores/{store_hash}"
        v2, v3 = lambda h: self.endpoint(h, "v2"), lambda h: self.endpoint(h, "v3")  # noqa: E731
        return [
            Route(f"{s}/v2/store", v2(self.store), methods=["GET"]),
            Route(f"{s}/v2/orders", v2(self.orders), methods=["GET"]),
            Route(s + "/v2/orders/{order_id}", v2(self.order), methods=["GET"]),
            Route(s + "/v2/orders/{order_id}", v2(self.update_order), methods=["PUT"]),
            Route(s + "/v2/orders/{order_id}/products", v2(self.order_products), methods=["GET"]),
            Route(s + "/v2/orders/{order_id}/shipping_addresses", v2(self.shipping_addresses), methods=["GET"]),
            Route(s + "/v2/orders/{order_id}/coupons", v2(self.coupons), methods=["GET"]),
            Route(s + "/v2/orders/{order_id}/shipments", v2(self.shipments), methods=["GET"]),
            Route(s + "/v2/orders/{order_id}/shipments", v2(self.create_shipment), methods=["POST"]),
            Route(s + "/v3/orders/{order_id}/transactions", v3(self.transactions), methods=["GET"]),
            Route(s + "/v3/orders/payment_actions/refunds", v3(self.refunds), methods=["GET"]),
            Route(s + "/v3/orders/{order_id}/payment_actions/refunds", v3(self.order_refunds), methods=["GET"]),
            Route(f"{s}/v3/customers", v3(self.customers), methods=["GET"]),
            Route(f"{s}/v3/catalog/products", v3(self.products), methods=["GET"]),
            Route(f"{s}/v3/catalog/variants", v3(self.variants), methods=["GET"]),
            Route(f"{s}/v3/inventory/locations", v3(self.locations), methods=["GET"]),
            Route(s + "/v3/inventory/locations/{location_id}/items", v3(self.location_items), methods=["GET"]),
            Route(f"{s}/v3/inventory/adjustments/absolute", v3(self.absolute), methods=["PUT"]),
            Route(f"{s}/v3/inventory/adjustments/relative", v3(self.relative), methods=["POST"]),
            Route(f"{s}/v3/hooks", v3(self.list_hooks), methods=["GET"]),
            Route(f"{s}/v3/hooks", v3(self.create_hook), methods=["POST"]),
            Route(s + "/v3/hooks/{webhook_id}", v3(self.get_hook), methods=["GET"]),
            Route(s + "/v3/hooks/{webhook_id}", v3(self.update_hook), methods=["PUT"]),
            Route(s + "/v3/hooks/{webhook_id}", v3(self.delete_hook), methods=["DELETE"]),
            Route("/_sandbox/orders", self.control_create_order, methods=["POST"]),
            Route("/_sandbox/orders/{order_id}", self.control_update_order, methods=["POST"]),
            Route("/_sandbox/orders/{order_id}/corrupt", self.control_break_order, methods=["POST"]),
            Route("/_sandbox/faults", self.control_faults, methods=["POST"]),
            Route("/_sandbox/stats", self.control_stats, methods=["GET"]),
        ]


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise _Invalid(400, "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _Invalid(400, "The request body must be a JSON object")
    return body


class BigCommerceSandbox(Sandbox):
    """A local BigCommerce store (orders v2/v3, catalog, customers, inventory, store, webhooks), seeded."""

    name: ClassVar[str] = "bigcommerce"
    default_port: ClassVar[int] = 8713
    description: ClassVar[str] = ("BigCommerce orders v2/v3, catalog, customers, inventory by location, store "
                                  "information and webhooks, with a seeded store")
    options_model: ClassVar[type[SandboxOptions]] = BigCommerceSandboxOptions

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.store = _Store(self.options)  # type: ignore[arg-type]
        #: every store served, by hash (the first is `store`)
        self.stores: dict[str, _Store] = {self.options.store_hash: self.store}  # type: ignore[attr-defined]
        for h in self.options.stores:  # type: ignore[attr-defined]
            if h not in self.stores:
                self.stores[h] = _Store(self.options.model_copy(update={  # type: ignore[arg-type]
                    "store_hash": h, "stores": [], "seed": store_seed(self.options.seed, h)}))

    def app(self) -> Any:
        if len(self.stores) == 1:
            return Starlette(routes=self.store.routes())
        return _StoreRouter({h: Starlette(routes=s.routes()) for h, s in self.stores.items()},
                            self.options.store_hash)  # type: ignore[attr-defined]


def store_seed(seed: int, store_hash: str) -> int:
    """Another store's seed: fixed by the sandbox's seed and the store's hash, whatever other stores are served."""
    return int.from_bytes(hashlib.sha256(f"{seed}/{store_hash}".encode()).digest()[:4], "big")


class _StoreRouter:
    """Several stores on one port, as BigCommerce serves them: `/stores/{hash}/...` goes to that store,
    `/_sandbox/stores/{hash}/...` to its test controls; everything else to the first store (which answers an
    unknown hash with BigCommerce's 404)."""

    def __init__(self, apps: dict[str, Any], default: str):
        self.apps, self.default = apps, apps[default]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        app = self.default
        if scope["type"] == "http":
            parts = scope["path"].split("/")
            if len(parts) > 2 and parts[1] == "stores" and parts[2] in self.apps:
                app = self.apps[parts[2]]
            elif len(parts) > 4 and parts[1:3] == ["_sandbox", "stores"] and parts[3] in self.apps:
                app = self.apps[parts[3]]
                path = "/_sandbox/" + "/".join(parts[4:])
                scope = {**scope, "path": path, "raw_path": path.encode()}
        await app(scope, receive, send)
