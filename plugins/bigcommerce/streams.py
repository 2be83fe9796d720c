"""BigCommerce's streams: orders (v2, by `date_modified`) with their products, shipping addresses, coupons,
transactions and shipments; refunds, customers, products with variants, variants on their own, locations,
inventory by location and store information (v3/v2).

Records are BigCommerce's own objects. The only additions: `inventory_items` records carry `location_id` and
`variant_id` (the location the list was read for, and `identity.variant_id` lifted so it can key the row).

Order children are read right after each order and yielded as ready-made RECORD messages before the
checkpoint that covers the page, so a committed state never stands in front of an order whose children were
not read.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Iterator

import httpx

from ledgerlink import CHECKPOINT, Checkpoint, ChildStream, HttpClient, HttpStream, PermanentError, Stream, protocol

from .client import read_json, rfc2822
from .config import BigCommerceConfig
from .schemas import ORDER_SCHEMA, PRODUCT_SCHEMA
from .stream_schemas import stream_schema

__all__ = ["OrdersStream", "OrderProductsStream", "OrderShippingAddressesStream", "OrderCouponsStream",
           "OrderTransactionsStream", "OrderShipmentsStream", "RefundsStream", "CustomersStream", "ProductsStream",
           "VariantsStream", "LocationsStream", "InventoryItemsStream", "StoreStream", "ORDER_CHILDREN", "get_json"]

_HINTS = {401: "check access_token and store_hash: BigCommerce refused the X-Auth-Token for this store",
          403: "the API account lacks an OAuth scope this stream needs (orders, products, customers, "
               "store_inventory or information: read-only is enough)",
          404: "check store_hash and base_url (requests go to {base_url}/stores/{store_hash}/...)"}


def get_json(client: HttpClient, path: str, operation: str, params: dict[str, Any] | None = None) -> Any:
    """One GET, parsed with Decimal numbers (None for 204 No Content); refusals get a hint."""
    try:
        response = client.get(path, operation=operation, bucket="store", params=params or {})
    except PermanentError as exc:
        exc.hint = exc.hint or _HINTS.get(exc.status or 0)
        raise
    return read_json(response) if response.status_code != 204 else None


#: "the whole history" when no start_date is set (BigCommerce was founded in 2009)
_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).replace(microsecond=0).isoformat()


class _ChildStream(ChildStream):
    """A list under one order (`/v2/orders/{id}/...`), read by OrdersStream; pages of `page_size` until a
    short or empty (204) page."""

    primary_key: ClassVar[str] = "id"
    v3: ClassVar[bool] = False

    def of(self, order_id: int) -> Iterator[dict[str, Any]]:
        path = self.path.format(order_id=order_id)
        page = 1
        while True:
            body = get_json(self.client, path, self.operation, {"page": page, "limit": self.config.page_size})
            rows = (body or {}).get("data") if self.v3 else body
            rows = rows or []
            yield from rows
            if self.v3:
                pagination = ((body or {}).get("meta") or {}).get("pagination") or {}
                if page >= int(pagination.get("total_pages") or 1):
                    return
            elif len(rows) < self.config.page_size:
                return
            page += 1

    def parent(self) -> Stream:
        return OrdersStream(self.config, self.client, children=[self])


class OrderProductsStream(_ChildStream):
    name: ClassVar[str] = "order_products"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("order_products")
    path: ClassVar[str] = "/v2/orders/{order_id}/products"
    operation: ClassVar[str] = "getOrderProducts"


class OrderShippingAddressesStream(_ChildStream):
    name: ClassVar[str] = "order_shipping_addresses"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("order_shipping_addresses")
    path: ClassVar[str] = "/v2/orders/{order_id}/shipping_addresses"
    operation: ClassVar[str] = "getOrderShippingAddresses"


class OrderCouponsStream(_ChildStream):
    name: ClassVar[str] = "order_coupons"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("order_coupons")
    path: ClassVar[str] = "/v2/orders/{order_id}/coupons"
    operation: ClassVar[str] = "getOrderCoupons"


class OrderShipmentsStream(_ChildStream):
    name: ClassVar[str] = "order_shipments"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("order_shipments")
    path: ClassVar[str] = "/v2/orders/{order_id}/shipments"
    operation: ClassVar[str] = "getOrderShipments"


class OrderTransactionsStream(_ChildStream):
    """v3 transactions: payment method (`method`, `offline.display_name`) and `gateway`."""

    name: ClassVar[str] = "order_transactions"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("order_transactions")
    path: ClassVar[str] = "/v3/orders/{order_id}/transactions"
    operation: ClassVar[str] = "getOrderTransactions"
    v3: ClassVar[bool] = True


ORDER_CHILDREN: tuple[type[_ChildStream], ...] = (OrderProductsStream, OrderShippingAddressesStream,
                                                   OrderCouponsStream, OrderTransactionsStream, OrderShipmentsStream)


class OrdersStream(HttpStream):
    """GET /v2/orders?min_date_modified=…&sort=date_modified:asc, 250 a page (204 when empty).

    Pages are keyset, not offset: each request starts at the last `date_modified` seen (page 1), and only moves
    to page 2, 3… while a whole page shares one timestamp. An order modified while we read moves to the end and
    is read then; offset paging would skip the order that slid into its place. Orders at the boundary second
    are read twice and deduplicated (here within a run, by primary key in staging across runs).

    State is `{"date_modified": ISO 8601}` (the greatest seen), committed after each page with its children.
    BigCommerce's RFC 2822 dates do not sort as text: `parse_cursor` reads them as times, so staging keeps an
    order's newest version.
    """

    name: ClassVar[str] = "orders"
    path: ClassVar[str] = "/v2/orders"
    operation: ClassVar[str] = "getOrders"
    primary_key: ClassVar[str] = "id"
    cursor_field: ClassVar[str | None] = "date_modified"
    source_cursor: ClassVar[str] = "date_modified"
    json_schema: ClassVar[dict[str, Any]] = ORDER_SCHEMA

    @classmethod
    def parse_cursor(cls, value: Any) -> datetime:
        """An order's RFC 2822 `date_modified`, or the ISO 8601 time the state keeps, as a time."""
        try:
            return datetime.fromisoformat(str(value))
        except ValueError:
            return rfc2822(value, stream=cls.name, key="-", field=cls.source_cursor)

    def __init__(self, config: BigCommerceConfig, client: HttpClient, *, children: list[_ChildStream] | None = None,
                 emit_orders: bool = True):
        super().__init__(config, client)
        self.children = children or []
        self.emit_orders = emit_orders

    @classmethod
    def airbyte_stream(cls) -> protocol.Stream:
        stream = super().airbyte_stream()
        stream.supported_sync_modes = [protocol.SyncMode.full_refresh, protocol.SyncMode.incremental]
        stream.source_defined_cursor = True
        stream.default_cursor_field = [cls.source_cursor]
        stream.is_resumable = True
        return stream

    def start(self, state: dict[str, Any]) -> datetime:
        floor = self.config.start_date or _EPOCH
        saved = state.get(self.source_cursor)
        if not saved:
            return floor
        when = datetime.fromisoformat(str(saved))
        return max(when - timedelta(minutes=self.config.lookback_minutes), floor)

    def read_records(self, state: dict[str, Any]) -> Iterator[dict[str, Any] | Checkpoint | protocol.Message]:
        self.state = dict(state)
        since = self.start(state).astimezone(timezone.utc).replace(microsecond=0)
        page = 1
        seen_at_since: set[int] = set()
        while True:
            body = get_json(self.client, self.path, self.operation, {
                "min_date_modified": _iso(since), "sort": "date_modified:asc", "page": page,
                "limit": self.config.page_size})
            orders = body if isinstance(body, list) else []
            if not orders:
                yield CHECKPOINT
                return
            last = since
            for order in orders:
                oid = order.get("id")
                when = rfc2822(order.get("date_modified"), stream=self.name, key=str(oid), field="date_modified")
                if when <= since and oid in seen_at_since:
                    continue  # re-read at the boundary second
                if self.emit_orders:
                    yield order
                for child in self.children:
                    for row in child.of(int(oid)):
                        yield protocol.record(child.name, row)
                if when > last:
                    last, seen_at_since = when, set()
                seen_at_since.add(oid)
            saved = self.state.get(self.source_cursor)
            if not saved or last > datetime.fromisoformat(str(saved)):
                self.state = {self.source_cursor: _iso(last)}
            yield CHECKPOINT
            if len(orders) < self.config.page_size:
                return
            if last > since:
                since, page = last, 1
            else:
                page += 1  # a whole page in one second: move on within it


class _V3ListStream(HttpStream):
    """A v3 list with `meta.pagination` (page/limit)."""

    params: ClassVar[dict[str, Any]] = {}
    records_path: ClassVar[tuple[str, ...]] = ("data",)

    def request_params(self, state: dict[str, Any], page_token: Any | None) -> dict[str, Any]:
        return {**self.params, "page": page_token or 1, "limit": self.config.page_size}

    def next_page_token(self, response: httpx.Response, body: Any) -> Any | None:
        pagination = ((body or {}).get("meta") or {}).get("pagination") or {}
        current, total = int(pagination.get("current_page") or 1), int(pagination.get("total_pages") or 1)
        return current + 1 if current < total else None

    def read_records(self, state: dict[str, Any]) -> Iterator[dict[str, Any] | Checkpoint | protocol.Message]:
        self.state = dict(state)
        token: Any | None = None
        while True:
            body = get_json(self.client, self.request_path(self.state, token), self.operation,
                            self.request_params(self.state, token))
            for rec in (body or {}).get("data") or []:
                self.observe(rec)
                yield rec
            token = self.next_page_token(None, body)  # type: ignore[arg-type]
            yield CHECKPOINT
            if token is None:
                return


class RefundsStream(_V3ListStream):
    """GET /v3/orders/payment_actions/refunds (every order's refunds), from `created:min`."""

    name: ClassVar[str] = "refunds"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("refunds")
    path: ClassVar[str] = "/v3/orders/payment_actions/refunds"
    operation: ClassVar[str] = "getRefunds"
    primary_key: ClassVar[str] = "id"

    def request_params(self, state: dict[str, Any], page_token: Any | None) -> dict[str, Any]:
        return {**super().request_params(state, page_token), "created:min": _iso(self.config.start_date or _EPOCH)}


class CustomersStream(_V3ListStream):
    name: ClassVar[str] = "customers"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("customers")
    path: ClassVar[str] = "/v3/customers"
    operation: ClassVar[str] = "getCustomers"
    primary_key: ClassVar[str] = "id"
    params: ClassVar[dict[str, Any]] = {"include": "addresses"}


class ProductsStream(_V3ListStream):
    """Products with their variants inline (`include=variants`): SKU, price, cost, inventory level."""

    name: ClassVar[str] = "products"
    path: ClassVar[str] = "/v3/catalog/products"
    operation: ClassVar[str] = "getProducts"
    primary_key: ClassVar[str] = "id"
    json_schema: ClassVar[dict[str, Any]] = PRODUCT_SCHEMA
    params: ClassVar[dict[str, Any]] = {"include": "variants"}


class VariantsStream(_V3ListStream):
    """GET /v3/catalog/variants: every product's variants in one list (SKU, price, cost, inventory level),
    for a catalog read without each product's own fields."""

    name: ClassVar[str] = "variants"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("variants")
    path: ClassVar[str] = "/v3/catalog/variants"
    operation: ClassVar[str] = "getVariants"
    primary_key: ClassVar[str] = "id"


class LocationsStream(_V3ListStream):
    name: ClassVar[str] = "locations"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("locations")
    path: ClassVar[str] = "/v3/inventory/locations"
    operation: ClassVar[str] = "getLocations"
    primary_key: ClassVar[str] = "id"


class InventoryItemsStream(_V3ListStream):
    """Stock by location: every location's `/v3/inventory/locations/{id}/items`, each row with its
    `location_id` and `variant_id` added so it can be keyed."""

    name: ClassVar[str] = "inventory_items"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("inventory_items")
    path: ClassVar[str] = "/v3/inventory/locations/{location_id}/items"
    operation: ClassVar[str] = "getLocationItems"
    primary_key: ClassVar[list[str]] = ["location_id", "variant_id"]

    def read_records(self, state: dict[str, Any]) -> Iterator[dict[str, Any] | Checkpoint | protocol.Message]:
        locations = LocationsStream(self.config, self.client)
        ids = [loc["id"] for loc in locations.read_records({}) if isinstance(loc, dict)]
        for location_id in ids:
            page = 1
            while True:
                body = get_json(self.client, self.path.format(location_id=location_id), self.operation,
                                {"page": page, "limit": self.config.page_size})
                for row in (body or {}).get("data") or []:
                    yield {**row, "location_id": location_id, "variant_id": (row.get("identity") or {}).get("variant_id")}
                yield CHECKPOINT
                if self.next_page_token(None, body) is None:  # type: ignore[arg-type]
                    break
                page += 1


class StoreStream(HttpStream):
    """GET /v2/store: one record (currency, time zone, weight units)."""

    name: ClassVar[str] = "store"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("store")
    path: ClassVar[str] = "/v2/store"
    operation: ClassVar[str] = "getStore"
    primary_key: ClassVar[str] = "id"

    def read_records(self, state: dict[str, Any]) -> Iterator[dict[str, Any] | Checkpoint | protocol.Message]:
        body = get_json(self.client, self.path, self.operation)
        if body:
            yield body
        yield CHECKPOINT
