"""The sandbox's map of BigCommerce's API: every path it answers, and which endpoint answers it."""

from __future__ import annotations

from starlette.routing import Route

from .catalog import CatalogEndpoints
from .controls import ControlEndpoints
from .hooks import HookEndpoints
from .inventory import InventoryEndpoints
from .orders import OrderEndpoints
from .payments import PaymentEndpoints

__all__ = ["Store"]


class Store(OrderEndpoints, PaymentEndpoints, CatalogEndpoints, InventoryEndpoints, HookEndpoints, ControlEndpoints):
    """One served store: all its endpoints, and the routes that reach them."""

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
            Route(s + "/v3/catalog/products/{product_id}/variants", v3(self.product_variants), methods=["GET"]),
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
