"""`bigcommerce`: the BigCommerce source (orders and their parts, refunds, customers, catalog, stock, store).

The orders family (`orders`, `order_products`, `order_shipping_addresses`, `order_coupons`,
`order_transactions`, `order_shipments`) is read in one pass over GET /v2/orders, each order followed by the
children the catalog selects; every selected stream of the family gets the same STATE. The other streams
are read one after another, each with its own STATE.
"""

from __future__ import annotations

from typing import Any, ClassVar, Iterator

import httpx

from ledgerlink import Checkpoint, HttpClient, Normaliser, RetryPolicy, Source, Stream, protocol, state_by_stream

from .client import bc_client
from .auth import BigCommerceConnect
from .config import BigCommerceConfig
from .normalise import (
    normalise_customer, normalise_inventory, normalise_order, normalise_product, normalise_refund, normalise_shipment,
)
from .streams import (
    ORDER_CHILDREN, CustomersStream, InventoryItemsStream, LocationsStream, OrdersStream, ProductsStream,
    RefundsStream, StoreStream, VariantsStream, get_json,
)

__all__ = ["BigCommerceSource", "ORDER_STREAMS"]

#: what the Order normaliser needs (the default streams of the example pipeline)
ORDER_STREAMS = ["orders", "order_products", "order_shipping_addresses", "order_coupons", "order_transactions"]
_FAMILY = [OrdersStream.name, *(c.name for c in ORDER_CHILDREN)]
_OTHERS = (RefundsStream, CustomersStream, ProductsStream, VariantsStream, LocationsStream, InventoryItemsStream,
           StoreStream)


class BigCommerceSource(Source):
    """Reads one store through a store-level API account (`X-Auth-Token`).

    `transport`/`retry` are for tests and embedding; the runtime constructs it with no arguments."""

    name: ClassVar[str] = "bigcommerce"
    #: a store is connected from the console with its store hash and API token (auth.py)
    connect_flow: ClassVar[BigCommerceConnect] = BigCommerceConnect()
    config_model: ClassVar[type[BigCommerceConfig]] = BigCommerceConfig
    documentation_url: ClassVar[str | None] = "https://developer.bigcommerce.com/docs/rest-management/orders"

    def __init__(self, *, transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None):
        self._transport, self._retry = transport, retry

    def client(self, config: BigCommerceConfig) -> HttpClient:
        return bc_client(config, retry=self._retry, transport=self._transport)

    def stream_classes(self) -> list[type[Stream]]:
        return [OrdersStream, *ORDER_CHILDREN, *_OTHERS]

    def streams(self, config: BigCommerceConfig) -> list[Stream]:
        client = self.client(config)
        children = [c(config, client) for c in ORDER_CHILDREN]
        return [OrdersStream(config, client, children=children), *children, *(c(config, client) for c in _OTHERS)]

    def normalisers(self) -> list[Normaliser]:
        """Orders (what the QBO flow posts) first; the rest feed later flows (stock, shipments, refunds)."""
        return [
            Normaliser(stream="orders", function=normalise_order, join={
                "order_products": ("order_id", "id"), "order_shipping_addresses": ("order_id", "id"),
                "order_coupons": ("order_id", "id"), "order_transactions": ("order_id", "id")}),
            Normaliser(stream="order_shipments", function=normalise_shipment,
                       join={"order_products": ("order_id", "order_id")}),
            Normaliser(stream="refunds", function=normalise_refund,
                       join={"orders": ("id", "order_id"), "order_products": ("order_id", "order_id")}),
            Normaliser(stream="customers", function=normalise_customer),
            Normaliser(stream="products", function=normalise_product),
            Normaliser(stream="inventory_items", function=normalise_inventory),
        ]

    def store_id(self, config: BigCommerceConfig) -> str:
        """The store hash: every store numbers its orders (and customers) from the same start."""
        return config.store_hash

    def check_connection(self, config: BigCommerceConfig) -> None:
        """GET /v2/store proves base URL, store hash and token."""
        with self.client(config) as client:
            get_json(client, StoreStream.path, StoreStream.operation)

    def read(self, config: dict[str, Any], catalog: protocol.ConfiguredCatalog | None = None,
             state: Any = None) -> Iterator[protocol.Message]:
        parsed: BigCommerceConfig = self.parse_config(config)  # type: ignore[assignment]
        selected = None if catalog is None else {c.stream.name for c in catalog.streams}
        states = state_by_stream(state)
        with self.client(parsed) as client:
            family = [n for n in _FAMILY if selected is None or n in selected]
            if family:
                yield from self._read_orders(parsed, client, family, states)
            for cls in _OTHERS:
                if selected is not None and cls.name not in selected:
                    continue
                yield from self._read_one(cls(parsed, client), states.get(cls.name, {}))

    def _read_orders(self, config: BigCommerceConfig, client: HttpClient, names: list[str],
                     states: dict[str, dict[str, Any]]) -> Iterator[protocol.Message]:
        children = [c(config, client) for c in ORDER_CHILDREN if c.name in names]
        orders = OrdersStream(config, client, children=children, emit_orders=OrdersStream.name in names)
        # resume from the stream furthest behind (a newly selected child starts from start_date)
        cursors = [states.get(n, {}).get(OrdersStream.source_cursor) for n in names]
        start = {OrdersStream.source_cursor: min(str(c) for c in cursors)} if all(cursors) else {}
        for name in names:
            yield protocol.stream_status(name, "started")
        counts = dict.fromkeys(names, 0)
        unsaved = True
        for item in orders.read_records(start):
            if isinstance(item, Checkpoint):
                for name in names:
                    yield protocol.state_for_stream(name, dict(orders.state), counts[name])
                    counts[name] = 0
                unsaved = False
            elif isinstance(item, protocol.Message):
                assert item.record is not None
                counts[item.record.stream] += 1
                unsaved = True
                yield item
            else:
                counts[OrdersStream.name] += 1
                unsaved = True
                yield protocol.record(OrdersStream.name, item)
        if unsaved:
            for name in names:
                yield protocol.state_for_stream(name, dict(orders.state), counts[name])
        for name in names:
            yield protocol.stream_status(name, "complete")

    def _read_one(self, stream: Stream, state: dict[str, Any]) -> Iterator[protocol.Message]:
        yield protocol.stream_status(stream.name, "started")
        count = emitted = 0
        for item in stream.read_records(state):
            if isinstance(item, Checkpoint):
                if emitted or not count:
                    yield protocol.state_for_stream(stream.name, dict(stream.state), emitted)
                    emitted = 0
            else:
                count += 1
                emitted += 1
                yield protocol.record(stream.name, item)  # type: ignore[arg-type]
        yield protocol.state_for_stream(stream.name, dict(stream.state), emitted)
        yield protocol.stream_status(stream.name, "complete")
