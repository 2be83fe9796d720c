"""The `orders` and `order_items` streams: getOrders in time windows, getOrderItems per order.

Orders and their items come from one pass: each order is followed by its items, yielded as ready-made
`order_items` RECORD messages *before* the checkpoint that covers the page, so a committed state never
stands in front of an order whose items were not read.
"""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, ClassVar, Iterator

import httpx
import msgspec

from ledgerlink import (
    CHECKPOINT, Checkpoint, ChildStream, EncodedRecord, HttpClient, HttpStream, PermanentError, Stream,
    TransientError, protocol,
)

from ..client import read_json
from ..config import AmazonSPConfig
from ..stream_schemas import stream_schema
from ..timestamps import SETTLE_DELAY, format_time, parse_time
from .schemas import ORDER_ITEM_SCHEMA, ORDER_SCHEMA

__all__ = ["OrdersStream", "OrderItemsStream", "Orders2026Stream", "INCLUDED_DATA"]

_HINTS = {
    ("getOrders", 400): "Amazon refused the query: check marketplace_ids and start_date in the config",
    ("getOrderItems", 400): "Amazon refused the order id: it must be an AmazonOrderId in 3-7-7 format",
    ("searchOrders", 400): "Amazon refused the query: check marketplace_ids and start_date in the config",
    ("getOrderItems", 404): "the order does not exist for this seller (wrong region endpoint or marketplace?)",
    ("searchOrders", 403): "check that the refresh token belongs to this seller and region endpoint and that the app "
                           "has the Orders role; buyer and recipient data (includedData BUYER, RECIPIENT) also need "
                           "Amazon's restricted roles for personal data",
    ("*", 403): "check that the refresh token belongs to this seller and region endpoint, and that the app has "
                "the Orders role",
}


def _get(client: HttpClient, path: str, operation: str, params: dict[str, Any],
         records: tuple[str, ...] = (), fast: Callable[[bytes], Any] | None = None) -> tuple[httpx.Response, Any]:
    """One SP-API GET, parsed with Decimal numbers; permanent refusals get a hint saying what to fix.
    `fast(content)`, when given, reads the body first: its answer (not None) is the page; None means "read it
    as before".

    A 200 whose body is not JSON, or has no `records` list, is asked for once more and then stops the run: read
    as an empty page it would move the state past orders never seen."""
    for attempt in (1, 2):
        try:
            response = client.get(path, operation=operation, params=params)
        except PermanentError as exc:
            exc.hint = exc.hint or _HINTS.get((operation, exc.status or 0)) or _HINTS.get(("*", exc.status or 0))
            raise
        if fast is not None and response.content and (page := fast(response.content)) is not None:
            return response, page
        try:
            body = read_json(response)
        except ValueError as exc:
            problem = f"Amazon's reply is not valid JSON ({exc})"
        else:
            node = body
            for part in records:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, list):
                return response, body
            problem = f"Amazon's reply has no {'.'.join(records)} list"
        if attempt == 2:
            raise TransientError(f"{operation}: {problem}", status=response.status_code, operation=operation,
                                 remote_message=response.text[:300],
                                 hint="nothing after the last saved state was committed; the next sync reads it "
                                      "again (report it if it persists)")
    raise AssertionError("unreachable")


def _next_token(body: Any) -> str | None:
    """Amazon pages with `payload.NextToken`; absent or empty means last page."""
    payload = body.get("payload") if isinstance(body, dict) else None
    return (payload or {}).get("NextToken") or None


class OrderItemsStream(ChildStream):
    """getOrderItems: one record per OrderItem, with the parent's `AmazonOrderId` added (the only
    addition), so items can be joined to their order."""

    name: ClassVar[str] = "order_items"
    path: ClassVar[str] = "/orders/v0/orders/{orderId}/orderItems"
    operation: ClassVar[str] = "getOrderItems"
    records_path: ClassVar[tuple[str, ...]] = ("payload", "OrderItems")
    primary_key: ClassVar[list[str]] = ["AmazonOrderId", "OrderItemId"]
    json_schema: ClassVar[dict[str, Any]] = ORDER_ITEM_SCHEMA

    def next_page_token(self, response: httpx.Response, body: Any) -> str | None:
        return _next_token(body)

    def items_of(self, order_id: str) -> Iterator[dict[str, Any]]:
        """Every item of one order, following NextToken."""
        path = self.path.format(orderId=order_id)
        token: str | None = None
        while True:
            response, body = _get(self.client, path, self.operation, {"NextToken": token} if token else {},
                                  self.records_path)
            parent = ((body or {}).get("payload") or {}).get("AmazonOrderId") or order_id
            for item in self.parse_response(response, body):
                yield {**item, "AmazonOrderId": parent}
            token = self.next_page_token(response, body)
            if token is None:
                return

    def parent(self) -> Stream:
        return OrdersStream(self.config, self.client, items=self)


class OrdersStream(HttpStream):
    """getOrders by LastUpdatedAfter/LastUpdatedBefore windows of at most `max_window_days`.

    State is `{"LastUpdateDate": <end of the last completed window>}`. It moves only when a whole
    window is read: NextToken pages inside a window are not resumable, so a run that dies mid-window
    restarts that window (duplicates are deduplicated by primary key; nothing is skipped).
    """

    name: ClassVar[str] = "orders"
    path: ClassVar[str] = "/orders/v0/orders"
    operation: ClassVar[str] = "getOrders"
    records_path: ClassVar[tuple[str, ...]] = ("payload", "Orders")
    primary_key: ClassVar[str] = "AmazonOrderId"
    cursor_field: ClassVar[str] = "LastUpdateDate"
    json_schema: ClassVar[dict[str, Any]] = ORDER_SCHEMA

    def __init__(self, config: AmazonSPConfig, client: HttpClient, *, items: OrderItemsStream | None = None,
                 now: datetime | None = None):
        super().__init__(config, client)
        self.items = items
        self._now = now

    def next_page_token(self, response: httpx.Response, body: Any) -> str | None:
        return _next_token(body)

    def observe(self, record: dict[str, Any]) -> None:
        """Records do not move the cursor: a window does, once complete (see the class docstring)."""

    def start_time(self, state: dict[str, Any]) -> datetime:
        saved = state.get(self.cursor_field)
        if not saved:
            return self.config.start_date
        return max(parse_time(str(saved)) - timedelta(minutes=self.config.lookback_minutes), self.config.start_date)

    def windows(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """[after, before] windows up to two minutes before now (orders still settling are read next run)."""
        end = (self._now or datetime.now(timezone.utc)) - SETTLE_DELAY
        step = timedelta(days=self.config.max_window_days)
        after = start.astimezone(timezone.utc).replace(microsecond=0)
        end = end.replace(microsecond=0)
        while after < end:
            before = min(after + step, end)
            yield after, before
            after = before

    def window_params(self, after: datetime, before: datetime, token: str | None) -> dict[str, Any]:
        marketplaces = ",".join(self.config.marketplace_ids)
        if token:  # with NextToken, Amazon takes the filters from the token
            return {"MarketplaceIds": marketplaces, "NextToken": token}
        return {"MarketplaceIds": marketplaces, "LastUpdatedAfter": format_time(after),
                "LastUpdatedBefore": format_time(before), "MaxResultsPerPage": self.config.page_size}

    def read_records(self, state: dict[str, Any]) -> Iterator[dict[str, Any] | Checkpoint | protocol.Message]:
        self.state = dict(state)
        for after, before in self.windows(self.start_time(state)):
            token: str | None = None
            while True:
                response, body = _get(self.client, self.path, self.operation, self.window_params(after, before, token),
                                      self.records_path)
                for order in self.parse_response(response, body):
                    yield order  # one without an AmazonOrderId becomes a dead letter when staged
                    if self.items is not None and isinstance(order, dict) and order.get("AmazonOrderId"):
                        for item in self.items.items_of(order["AmazonOrderId"]):
                            yield protocol.record(self.items.name, item)
                token = self.next_page_token(response, body)
                if token is None:
                    break
                yield CHECKPOINT  # state unchanged: a resumed run restarts this window
            self.state = {self.cursor_field: format_time(before)}
            yield CHECKPOINT


#: what `orders_2026` asks searchOrders to include: everything the normaliser reads (buyer, address, money,
#: promotions, fulfilment status, tax model, payment method), nothing it does not (EXPENSE, PACKAGES, …)
INCLUDED_DATA = ("BUYER", "RECIPIENT", "PROCEEDS", "PROMOTION", "CANCELLATION", "FULFILLMENT", "TAX", "PAYMENT")


class _Pagination(msgspec.Struct):
    nextToken: Any = None


class _SearchPage(msgspec.Struct):
    """A searchOrders page as staging needs it: each order's own JSON, and what says whether a page follows."""

    orders: list[msgspec.Raw]
    pagination: _Pagination | None = None


class _OrderFields(msgspec.Struct):
    """What staging reads of an order (its key and cursor); the rest is skipped."""

    orderId: Any = None
    lastUpdatedTime: Any = None


class _SearchPageFields(msgspec.Struct):
    orders: list[_OrderFields]


_PAGE = msgspec.json.Decoder(_SearchPage)
_PAGE_FIELDS = msgspec.json.Decoder(_SearchPageFields, float_hook=Decimal)  # as `jsonutil.loads` reads them


class EncodedPage:
    """A searchOrders page read without decoding its orders: each is an `EncodedRecord` (its text as Amazon
    sent it, its orderId and lastUpdatedTime), which staging stores as it is."""

    __slots__ = ("orders", "next_token")

    def __init__(self, orders: list[EncodedRecord], next_token: Any):
        self.orders = orders
        self.next_token = next_token


def read_encoded_page(content: bytes) -> EncodedPage | None:
    """The page with its orders as text, or None when anything about it is unusual (not JSON, no `orders`
    list, an order that is not an object, nor UTF-8, or holds a surrogate escape or deep nesting): that page
    is then read as before, every order decoded, so what fails, and how, is unchanged."""
    try:
        page = _PAGE.decode(content)
        fields = _PAGE_FIELDS.decode(content).orders
    except (msgspec.DecodeError, RecursionError):  # ValidationError is a DecodeError
        return None
    orders: list[EncodedRecord] = []
    for raw, known in zip(page.orders, fields):
        order = EncodedRecord.of(raw, {"orderId": known.orderId, "lastUpdatedTime": known.lastUpdatedTime})
        if order is None:
            return None
        orders.append(order)
    return EncodedPage(orders, (page.pagination.nextToken if page.pagination is not None else None) or None)


class Orders2026Stream(OrdersStream):
    """Orders API 2026-01-01 `searchOrders` by lastUpdatedAfter/lastUpdatedBefore windows (config
    `orders_api: "2026-01-01"`). Each record is Amazon's 2026 `Order` unchanged, its `orderItems` inline,
    so 100 orders with their items cost one request instead of 101 (Orders v0 needs getOrderItems per order).

    Windows and state work as in `OrdersStream`: state is `{"lastUpdatedTime": <end of the last completed
    window>}` and moves only when a whole window is read; pages inside a window are not resumable.
    """

    name: ClassVar[str] = "orders_2026"
    path: ClassVar[str] = "/orders/2026-01-01/orders"
    operation: ClassVar[str] = "searchOrders"
    records_path: ClassVar[tuple[str, ...]] = ("orders",)
    primary_key: ClassVar[str] = "orderId"
    cursor_field: ClassVar[str] = "lastUpdatedTime"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("orders_2026")  # the 2026 Order's fields, not v0's

    def __init__(self, config: AmazonSPConfig, client: HttpClient, *, now: datetime | None = None):
        super().__init__(config, client, now=now)

    def next_page_token(self, response: httpx.Response, body: Any) -> str | None:
        """`pagination.nextToken`, passed back as `paginationToken`; absent on the last page."""
        if isinstance(body, EncodedPage):
            return body.next_token
        pagination = body.get("pagination") if isinstance(body, dict) else None
        return (pagination or {}).get("nextToken") or None

    def parse_response(self, response: httpx.Response, body: Any) -> Iterator[dict[str, Any]]:
        """The page's orders: as Amazon's text (`EncodedRecord`s, staged as they are) when the page was read
        that way, else the decoded objects."""
        if isinstance(body, EncodedPage):
            return iter(body.orders)  # type: ignore[arg-type]  # an EncodedRecord reads as the order's mapping
        return iter(super().parse_response(response, body))

    def window_params(self, after: datetime, before: datetime, token: str | None) -> dict[str, Any]:
        """Lists are comma-separated (Swagger's default `csv`). The query is repeated with the token, as in
        Amazon's own paging example."""
        params: dict[str, Any] = {
            "marketplaceIds": ",".join(self.config.marketplace_ids), "lastUpdatedAfter": format_time(after),
            "lastUpdatedBefore": format_time(before), "maxResultsPerPage": self.config.page_size,
            "includedData": ",".join(INCLUDED_DATA)}
        if token:
            params["paginationToken"] = token
        return params

    def read_records(self, state: dict[str, Any]) -> Iterator[dict[str, Any] | Checkpoint | protocol.Message]:
        """Pages are fetched one ahead on a helper thread: while the runtime stages page N, Amazon (or the
        sandbox, in its own process) is already producing page N+1. Order and state rules are unchanged."""
        self.state = dict(state)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="searchOrders-prefetch") as pool:
            for after, before in self.windows(self.start_time(state)):
                def fetch(token: str | None, after: datetime = after, before: datetime = before) -> Any:
                    return _get(self.client, self.path, self.operation, self.window_params(after, before, token),
                                self.records_path, fast=read_encoded_page)

                pending = pool.submit(contextvars.copy_context().run, fetch, None)  # lines name the run
                while True:
                    response, body = pending.result()
                    token = self.next_page_token(response, body)
                    if token is not None:
                        pending = pool.submit(contextvars.copy_context().run, fetch, token)
                    yield from self.parse_response(response, body)
                    if token is None:
                        break
                    yield CHECKPOINT  # state unchanged: a resumed run restarts this window
                self.state = {self.cursor_field: format_time(before)}
                yield CHECKPOINT
