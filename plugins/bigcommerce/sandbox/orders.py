"""Orders (v2): the store's information, orders, their lines, addresses, coupons and shipments; shipping moves an
order's status as BigCommerce moves it."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request

from ..client import rfc2822 as parse_rfc2822
from .replies import Invalid, json_body
from .seed import STATUSES
from .store import StoreState

__all__ = ["OrderEndpoints"]

#: statuses a shipment moves on (Awaiting Payment, Pickup, Shipment, Fulfillment; Partially Shipped)
_SHIPPABLE = frozenset({7, 8, 9, 11, 3})


class OrderEndpoints(StoreState):
    """Orders (v2): the store's information, orders and what hangs off them; a shipment moves the order's status."""

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
                return parse_rfc2822(text, stream="", key="", field=name).timestamp()
            except Exception:
                try:
                    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
                except ValueError:
                    raise Invalid(400, f"The filter '{name}' is not a valid date: {text!r}") from None
                return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()

        def ts(order: dict[str, Any], name: str) -> float:
            return parse_rfc2822(order[name], stream="", key="", field=name).timestamp()

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
            raise Invalid(400, f"The sort field '{field}' is not supported")
        keyf = (lambda o: (ts(o, field), o["id"])) if field.startswith("date") else (lambda o: (o[field], o["id"]))
        rows.sort(key=keyf, reverse=direction == "desc")
        chunk = rows[(page - 1) * limit: page * limit]
        return 200, chunk or None

    async def order(self, request: Request) -> Any:
        return 200, self.book.orders[self._order(request)]

    async def update_order(self, request: Request) -> Any:
        oid = self._order(request)
        body = await json_body(request)
        unknown = set(body) - {"status_id", "staff_notes", "customer_message"}
        if unknown:
            raise Invalid(400, f"The field(s) {', '.join(sorted(unknown))} cannot be updated by the ledgerlink sandbox")
        if "status_id" in body and body["status_id"] not in STATUSES:
            raise Invalid(400, f"The field 'status_id' is invalid: {body['status_id']!r} is not an order status")
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
        body = await json_body(request)
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
            raise Invalid(400, "The request body is invalid", errors)
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
