"""`amazon_sp`: the Amazon Selling Partner API source (orders and their items).

Two Orders APIs, chosen by the config's `orders_api`:

- `v0` (default): getOrders, then getOrderItems for every order; streams `orders` and `order_items`, records
  in v0's shape (`AmazonOrderId`, `OrderItems`). Amazon's default plan for getOrderItems is 0.5 requests/s
  (burst 30): ~30 orders at once, then one order every two seconds.
- `2026-01-01`: searchOrders, which returns each order with its `orderItems` inline, up to 100 orders a
  request; stream `orders_2026`, records in the 2026 shape. Its default plan is 0.0056 requests/s (burst
  20): ~2,000 orders at once, then ~2,000 an hour, with one request per 100 orders instead of 101 (more where
  Amazon grants a higher rate, adopted from `x-amzn-RateLimit-Limit`).

The streams have distinct names because their records differ (keys `AmazonOrderId` vs `orderId`), so each
is staged in its own table with its own state; both normalise to the same canonical `Order` with the same
natural key, so switching an existing pipeline from v0 to 2026-01-01 re-plans the same idempotency keys
and posts nothing twice. A catalog may list the streams of both APIs (the runtime's default does): only
those of the configured API are read.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Iterator

import httpx

from ledgerlink import Checkpoint, HttpClient, Normaliser, RetryPolicy, Source, Stream, protocol

from . import catalogue
from .auth import AmazonConnect, lwa_auth
from .client import sp_client
from .config import AmazonSPConfig
from .orders.normalise import normalise_order
from .orders.normalise_2026 import normalise_order_2026
from .orders.streams import Orders2026Stream, OrderItemsStream, OrdersStream
from .timestamps import SETTLE_DELAY, format_time, parse_time

__all__ = ["AmazonSellingPartnerSource"]


class AmazonSellingPartnerSource(Source):
    """Reads orders and their items in one pass: Orders v0 (getOrders + getOrderItems, streams `orders`,
    `order_items`) or, with `orders_api: "2026-01-01"`, searchOrders (stream `orders_2026`, items inline).

    `transport`/`retry` are for tests and embedding; the runtime constructs it with no arguments.
    """

    name: ClassVar[str] = "amazon_sp"
    #: a seller is connected from the console through Seller Central's consent page (auth.py)
    connect_flow: ClassVar[AmazonConnect] = AmazonConnect()
    config_model: ClassVar[type[AmazonSPConfig]] = AmazonSPConfig
    documentation_url: ClassVar[str | None] = "https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference"

    def __init__(self, *, transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None):
        self._transport, self._retry = transport, retry
        self._rotated: list[str] = []
        #: the newest refresh token seen this run: later clients of the same read must use it, not the config's
        self._latest_refresh_token: str | None = None

    def _on_rotate(self, token: str) -> None:
        self._rotated.append(token)
        self._latest_refresh_token = token

    # ---------------------------------------------------------------- wiring

    def client(self, config: AmazonSPConfig) -> HttpClient:
        """One rate-limited client per seller and region, authenticated through LWA."""
        if self._latest_refresh_token and self._latest_refresh_token != config.refresh_token:
            config = config.model_copy(update={"refresh_token": self._latest_refresh_token})
        auth = lwa_auth(config, on_rotate=self._on_rotate, transport=self._transport)
        return sp_client(config, auth, retry=self._retry, transport=self._transport)

    def stream_classes(self) -> list[type[Stream]]:
        return [OrdersStream, OrderItemsStream, Orders2026Stream, *catalogue.stream_classes()]

    def streams(self, config: AmazonSPConfig) -> list[Stream]:
        client = self.client(config)
        return [*self._order_streams(config, client), *catalogue.streams(config, client)]

    @staticmethod
    def _order_streams(config: AmazonSPConfig, client: HttpClient) -> list[Stream]:
        if config.orders_api == "2026-01-01":
            return [Orders2026Stream(config, client)]
        items = OrderItemsStream(config, client)
        return [OrdersStream(config, client, items=items), items]

    def normalisers(self) -> list[Normaliser]:
        """Both APIs' normalisers: the runtime only finds staged records of the API the config reads."""
        return [Normaliser(stream="orders", join={"order_items": ("AmazonOrderId", "AmazonOrderId")},
                           function=normalise_order),
                Normaliser(stream=Orders2026Stream.name, function=normalise_order_2026),
                *catalogue.normalisers()]

    def store_id(self, config: AmazonSPConfig) -> str | None:
        """The seller id (merchant token) when given: permanent, one per seller account. Not the client id,
        which names the developer's application (several sellers may share it, and it can be replaced)."""
        return config.seller_id

    def credential_account(self, config: AmazonSPConfig) -> str | None:
        """Seller and region (`A1B2C3:eu`): a seller authorises the application per region, so each region's
        refresh token is stored, rotated and disconnected on its own."""
        return f"{config.seller_id}:{config.region}" if config.seller_id else None

    def check_connection(self, config: AmazonSPConfig) -> None:
        """An LWA exchange and a one-order getOrders (or searchOrders) prove credentials, endpoint, role and
        marketplaces."""
        with self.client(config) as client:
            stream = Orders2026Stream(config, client) if config.orders_api == "2026-01-01" else OrdersStream(
                config, client)
            before = datetime.now(timezone.utc) - SETTLE_DELAY
            after = min(config.start_date, before - timedelta(days=1))
            params = stream.window_params(after, before, None)
            size = "maxResultsPerPage" if config.orders_api == "2026-01-01" else "MaxResultsPerPage"
            client.get(stream.path, operation=stream.operation, params={**params, size: 1})

    # ---------------------------------------------------------------- reading

    def read(self, config: dict[str, Any], catalog: protocol.ConfiguredCatalog | None = None,
             state: Any = None) -> Iterator[protocol.Message]:
        """Orders first (their own loop, below), then every other selected stream through the toolkit's loop."""
        parsed: AmazonSPConfig = self.parse_config(config)  # type: ignore[assignment]
        selected = None if catalog is None else {c.stream.name for c in catalog.streams}
        yield from self._read_orders(config, parsed, selected, state)
        others = {cls.name for cls in catalogue.stream_classes()}
        if selected is None or selected & others:
            with self.client(parsed) as client:
                for message in self.read_streams(catalogue.streams(parsed, client), selected, state):
                    yield from self._rotations(config)
                    yield message
                yield from self._rotations(config)

    def _read_orders(self, config: dict[str, Any], parsed: AmazonSPConfig, selected: set[str] | None,
                     state: Any) -> Iterator[protocol.Message]:
        """One pass over getOrders for both streams; each selected stream gets its own STATE (equal values),
        emitted after the items of every order it covers."""
        if parsed.orders_api == "2026-01-01":
            yield from self._read_2026(config, parsed, selected, state)
            return
        names = [n for n in (OrdersStream.name, OrderItemsStream.name) if selected is None or n in selected]
        if not names:
            return
        start = _earliest(_state_by_stream(state), names)
        with self.client(parsed) as client:
            items = OrderItemsStream(parsed, client) if OrderItemsStream.name in names else None
            orders = OrdersStream(parsed, client, items=items)
            for name in names:
                yield protocol.stream_status(name, "started")
            counts = dict.fromkeys(names, 0)
            unsaved = True  # a run with nothing to read still confirms its state
            for item in orders.read_records(start):
                yield from self._rotations(config)
                if isinstance(item, Checkpoint):
                    for name in names:
                        yield protocol.state_for_stream(name, dict(orders.state), counts[name])
                        counts[name] = 0
                    unsaved = False
                elif isinstance(item, protocol.Message):
                    counts[OrderItemsStream.name] += 1
                    unsaved = True
                    yield item
                elif OrdersStream.name in counts:
                    counts[OrdersStream.name] += 1
                    unsaved = True
                    yield protocol.record(OrdersStream.name, item)
            yield from self._rotations(config)
            if unsaved:
                for name in names:
                    yield protocol.state_for_stream(name, dict(orders.state), counts[name])
            for name in names:
                yield protocol.stream_status(name, "complete")

    def _read_2026(self, config: dict[str, Any], parsed: AmazonSPConfig, selected: set[str] | None,
                   state: Any) -> Iterator[protocol.Message]:
        """searchOrders windows. STATE is emitted when a window completes (the only time it moves): a STATE per
        page would say nothing new and make the runtime commit small batches."""
        name = Orders2026Stream.name
        if selected is not None and name not in selected:
            return
        saved = _state_by_stream(state).get(name, {})
        with self.client(parsed) as client:
            stream = Orders2026Stream(parsed, client)
            yield protocol.stream_status(name, "started")
            count = 0
            last, emitted = dict(saved), False
            record = _RecordFactory(name)
            for item in stream.read_records(saved):
                if isinstance(item, Checkpoint):
                    yield from self._rotations(config)
                    if stream.state != last:
                        last, emitted = dict(stream.state), True
                        yield protocol.state_for_stream(name, last, count)
                        count = 0
                else:
                    count += 1
                    yield record(name, item)  # type: ignore[arg-type]
            yield from self._rotations(config)
            if not emitted or count:  # a run with nothing to read still confirms its state
                yield protocol.state_for_stream(name, dict(stream.state), count)
            yield protocol.stream_status(name, "complete")

    def _rotations(self, config: dict[str, Any]) -> Iterator[protocol.Message]:
        """LWA normally keeps the refresh token; if it ever rotates, hand the new config to the runtime."""
        if self._rotated:
            latest = self._rotated[-1]
            self._rotated.clear()
            yield protocol.control_config({**config, "refresh_token": latest})


class _RecordFactory:
    """RECORD messages for one stream: `protocol.record`, which now assembles the message directly (the same
    objects; copying a prototype with pydantic's `model_copy` costs nearly twice as much)."""

    def __init__(self, stream: str):
        self._stream = stream

    def __call__(self, stream: str, data: dict[str, Any]) -> protocol.Message:
        return protocol.record(stream, data)


def _earliest(states: dict[str, dict[str, Any]], names: list[str]) -> dict[str, Any]:
    """Resume from the stream that is furthest behind (a newly selected stream starts from start_date)."""
    cursors = [states.get(n, {}).get(OrdersStream.cursor_field) for n in names]
    if not all(cursors):
        return {}
    return {OrdersStream.cursor_field: format_time(min(parse_time(str(c)) for c in cursors))}


def _state_by_stream(state: Any) -> dict[str, dict[str, Any]]:
    """Per-stream state from Airbyte's STATE list (or a legacy `{stream: state}` dict).

    A copy of `ledgerlink.connectors.state_by_stream`, which `ledgerlink` does not export yet."""
    if not state:
        return {}
    if isinstance(state, dict) and state.get("type") is None:
        return {k: v for k, v in state.items() if isinstance(v, dict)}
    out: dict[str, dict[str, Any]] = {}
    for item in [state] if isinstance(state, dict) else state:
        msg = protocol.State.model_validate(item) if isinstance(item, dict) else item
        if msg.stream is not None and msg.stream.stream_state is not None:
            out[msg.stream.stream_descriptor.name] = msg.stream.stream_state.model_dump()
        elif msg.global_ is not None:
            for s in msg.global_.stream_states:
                out[s.stream_descriptor.name] = s.stream_state.model_dump() if s.stream_state else {}
        elif msg.data:
            out.update({k: v for k, v in msg.data.items() if isinstance(v, dict)})
    return out
