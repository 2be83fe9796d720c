"""Test controls under `/_sandbox/*` (not BigCommerce's): place or change an order now, corrupt a field, queue
faults, read call counts and webhook deliveries."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from .replies import json_body
from .store import StoreState

__all__ = ["ControlEndpoints"]


class ControlEndpoints(StoreState):
    """Test controls under `/_sandbox/*`, not BigCommerce's."""

    async def control_create_order(self, request: Request) -> Response:
        """`{"status_id": 11}`: a shopper places an order now (webhook store/order/created)."""
        body = await json_body(request)
        with self.lock:
            order = self.book.create_order(placed=time.time(), status_id=body.get("status_id", 11))
            self._event("store/order/created", {"type": "order", "id": order["id"]})
        return self._reply(order)

    async def control_update_order(self, request: Request) -> Response:
        """`{"status_id": 2}`: the merchant changes an order now (webhooks store/order/updated, statusUpdated)."""
        oid = int(request.path_params["order_id"])
        if oid not in self.book.orders:
            return self._reply({"error": "no such order"}, 404)
        body = await json_body(request)
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
        body = await json_body(request)
        with self.lock:
            order = self.book.orders[oid]
            target = order if body.get("where", "order") == "order" else self.book.order_products[oid][0]
            target[body["field"]] = body["value"]
            order["date_modified"] = self.book.touch(oid, time.time())["date_modified"]
        return self._reply(order)

    async def control_faults(self, request: Request) -> Response:
        """`{"path_contains": "/v2/orders", "status": 500, "count": 1, "after": 0, "method": "GET"}`."""
        spec = await json_body(request)
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
