"""Inventory by location (v3): locations, their items, and absolute or relative adjustments (each a webhook)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from .replies import Invalid, json_body
from .seed import LOCATIONS
from .store import StoreState

__all__ = ["InventoryEndpoints"]


class InventoryEndpoints(StoreState):
    """Inventory by location (v3): locations, their items, and absolute or relative adjustments (each a webhook)."""

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
            raise Invalid(404, f"Location with id {request.path_params['location_id']} not found")
        return self._v3_page(request, self.book.inventory_items(lid))

    async def adjust(self, request: Request, relative: bool) -> Any:
        body = await json_body(request)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise Invalid(422, "JSON data is missing or invalid", {"items": "is required"})
        if len(items) > 2000:
            raise Invalid(422, "JSON data is missing or invalid", {"items": "at most 2000 items"})
        by_sku = {v["sku"]: vid for vid, v in self.book.variants.items()}
        locations = {loc[0] for loc in LOCATIONS}
        resolved = []
        for i, item in enumerate(items):
            vid = item.get("variant_id") if "variant_id" in item else by_sku.get(item.get("sku"))
            if "product_id" in item:
                product = self.book.products.get(item["product_id"])
                vid = product.get("base_variant_id") if product else None
                if product and vid is None:
                    raise Invalid(422, f"[Item with product_id {item['product_id']} is tracked by variant, please "
                                        "update stock by variant id]", {})
            if vid not in self.book.variants:
                raise Invalid(422, "JSON data is missing or invalid", {f"items.{i}": "the item does not exist"})
            if item.get("location_id") not in locations:
                raise Invalid(422, "JSON data is missing or invalid", {f"items.{i}.location_id": "unknown location"})
            qty = item.get("quantity")
            if not isinstance(qty, int) or isinstance(qty, bool) or (not relative and qty < 0):
                raise Invalid(422, "JSON data is missing or invalid", {f"items.{i}.quantity": "must be an integer"
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
