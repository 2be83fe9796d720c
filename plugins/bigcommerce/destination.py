"""`bigcommerce` writes: inventory adjustments (absolute, relative; by location), order shipments with
tracking, order status updates. Each is idempotent and goes through the store's rate-limited client.

- `inventory_adjustments`: `{"mode": "absolute"|"relative", "reason", "items": [{"location_id", "sku" |
  "variant_id" | "product_id", "quantity"}]}`. Absolute adjustments are idempotent by nature; a relative one is
  written once per outbox key (its key is in `reason`, so it can be found in the store's inventory log) and is
  not retried after an ambiguous failure (timeout, 5xx after sending): it becomes a dead letter to check.
  Records of one batch and mode go in one request (BigCommerce takes 2,000 items); a 422 splits the batch so
  only the bad record fails.
- `order_shipments`: `{"order_id", "tracking_number", "shipping_provider" | "tracking_carrier",
  "items": [{"order_product_id" | "sku", "quantity"}], "order_address_id"?, "comments"?, "source_row"?}`.
  Looks first: a shipment on the order with the same tracking number is the same shipment (created=False); an
  unknown order is a dead letter naming the `source_row` it came from (it is not sent). The POST is never
  retried blind (BigCommerce has no idempotency key): after a lost answer or a 5xx the order's shipments are
  looked up by tracking number again before it is sent again; a 429 created nothing and is waited out.
- `order_status`: `{"order_id", "status_id"}`. Looks first: an order already in that status is left alone.

Where a retry is safe, and why: absolute adjustments and status updates set a value, so resending them after
any failure changes nothing twice; they retry like reads. A relative adjustment is sent once, resent only after
a 429 or a refused connection (nothing reached the store); any other failure makes it a dead letter to check
against the store's inventory log (its key is in `reason`) before `ledgerlink dlq retry`.

`plan()` turns canonical `Shipment`s and `InventoryLevel`s into these writes.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import httpx

from ledgerlink import (
    Destination, HttpClient, InventoryLevel, ObjectType, OutboundRecord, PermanentError, PlanContext, PlannedWrite,
    RecordError, RemoteError, RetryPolicy, Shipment, ThrottledError, TransientError, WriteContext, WriteResult, idempotency_key,
    inventory,
)

from .client import bc_client, read_json
from .config import BigCommerceConfig, BigCommerceWriteOptions
from .streams import get_json

__all__ = ["BigCommerceDestination", "SHIPPING_PROVIDERS"]

#: POSTs of one shipment in one sync, each after looking the order's shipments up by tracking number
_SHIP_ROUNDS = 3

#: `shipping_provider` values BigCommerce accepts; any other carrier goes in `tracking_carrier` (AfterShip slug)
SHIPPING_PROVIDERS = frozenset({"auspost", "canadapost", "endicia", "usps", "fedex", "royalmail", "ups", "upsready",
                                "shipperhq"})
_STATUS_IDS = frozenset(range(0, 15))


def _bad(record: OutboundRecord, message: str, field: str, hint: str | None = None) -> WriteResult:
    return WriteResult(key=record.key, error=RecordError(message, stream=record.stream, key=record.key, field=field,
                                                         hint=hint))


def _origin(row: Any) -> str:
    """` (from shipments row exports/3pl.csv/7)`: where a refused shipment came from, so the user can fix it."""
    return f" (from {row})" if row else ""


_FIX_AT_SOURCE = ("correct the order number where the shipment comes from (a changed file is read again), then "
                  "discard this letter (`ledgerlink dlq discard`)")


class BigCommerceDestination(Destination):
    """Writes inventory, shipments and order statuses back to one BigCommerce store."""

    name: ClassVar[str] = "bigcommerce"
    config_model: ClassVar[type[BigCommerceConfig]] = BigCommerceConfig
    #: `destination.options`, checked when the pipeline is loaded
    options_model: ClassVar[type[BigCommerceWriteOptions]] = BigCommerceWriteOptions
    documentation_url: ClassVar[str | None] = "https://developer.bigcommerce.com/docs/rest-management/inventory"
    objects: ClassVar[list[ObjectType]] = [
        ObjectType("inventory_adjustments", [["items"]]),
        ObjectType("order_shipments", [["order_id"], ["tracking_number"]]),
        ObjectType("order_status", [["order_id"]]),
    ]
    write_order: ClassVar[list[str]] = ["inventory_adjustments", "order_shipments", "order_status"]
    batch_size: ClassVar[int] = 100

    def __init__(self, *, transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None):
        self._transport, self._retry = transport, retry
        self.http: HttpClient | None = None

    # ---------------------------------------------------------------- planning

    def plan(self, obj: Any, ctx: PlanContext) -> list[PlannedWrite]:
        if isinstance(obj, Shipment):
            return [self._plan_shipment(obj)]
        if isinstance(obj, InventoryLevel):
            if obj.location == inventory.QUICKBOOKS_LOCATION:
                # QuickBooks' quantities: only SKUs QuickBooks masters (or two-way ones it moved), never FBA's
                level = inventory.to_channel(obj, getattr(ctx, "options", None), getattr(ctx, "cache", None),
                                             require_location=True)
                return [] if level is None else [inventory.mark_channel_write(
                    self._plan_inventory(level), level, getattr(ctx, "options", None), getattr(ctx, "cache", None))]
            return [self._plan_inventory(obj)]
        return []

    @staticmethod
    def _plan_shipment(s: Shipment) -> PlannedWrite:
        if not s.tracking_number:
            raise RecordError("a shipment needs a tracking number to be written idempotently", stream="shipment",
                              key=s.natural_key, field="tracking_number")
        carrier = (s.carrier or "").lower()
        items = []
        for i, line in enumerate(s.lines):
            item: dict[str, Any] = {"quantity": int(line.quantity)}
            if line.line_id and line.line_id.isdigit():
                item["order_product_id"] = int(line.line_id)
            elif line.sku:
                item["sku"] = line.sku
            else:
                raise RecordError("a shipment line needs the order product id or a SKU", stream="shipment",
                                  key=s.natural_key, field=f"lines[{i}]")
            items.append(item)
        data: dict[str, Any] = {"order_id": int(s.order_id) if s.order_id.isdigit() else s.order_id,
                                "tracking_number": s.tracking_number, "items": items}
        data["shipping_provider" if carrier in SHIPPING_PROVIDERS else "tracking_carrier"] = carrier
        if s.source_refs:  # not sent: named in a refusal (an unknown order), so the user knows which row to fix;
            # only the first row, so the same package named again in a later file plans the same payload
            data["source_row"] = f"{s.source_refs[0].stream} row {s.source_refs[0].key}"
        return PlannedWrite(stream="order_shipments", key=idempotency_key("order_shipments", s.natural_key), data=data,
                            source_refs=list(s.source_refs))

    @staticmethod
    def _plan_inventory(level: InventoryLevel) -> PlannedWrite:
        """An absolute adjustment; the key carries `as_of`, so a later level is a new write, not a revision."""
        location: Any = int(level.location) if level.location.isdigit() else level.location
        item = {"location_id" if isinstance(location, int) else "location_code": location, "sku": level.sku,
                "quantity": int(level.on_hand)}
        key = idempotency_key("inventory_adjustments", f"{level.natural_key}@{level.as_of.isoformat()}")
        return PlannedWrite(stream="inventory_adjustments", key=key,
                            data={"mode": "absolute", "reason": f"ledgerlink {key}", "items": [item]},
                            source_refs=list(level.source_refs))

    # ---------------------------------------------------------------- writing

    def open(self, config: Any, context: WriteContext) -> None:
        super().open(config, context)
        self.config = config if isinstance(config, BigCommerceConfig) else self.parse_config(config)
        self.http = bc_client(self.config, retry=self._retry, transport=self._transport)
        # relative adjustments are not idempotent: one attempt per call (a 429 is waited out in _adjust_group,
        # since BigCommerce applied nothing), so a timeout or 5xx is never sent twice
        self.http_once = bc_client(self.config, retry=RetryPolicy(max_attempts=1), transport=self._transport)
        self._locations: dict[str, int] | None = None

    def close(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http_once.close()
            self.http = None

    def write_batch(self, stream: str, records: list[OutboundRecord]) -> list[WriteResult]:
        if stream == "inventory_adjustments":  # QuickBooks' quantities written: both sides agree (ledgerlink.inventory)
            return inventory.record_channel_writes(records, self._adjust(records))
        if stream == "order_shipments":
            return [self._guard(r, self._ship) for r in records]
        if stream == "order_status":
            return [self._guard(r, self._status) for r in records]
        return [WriteResult(key=r.key, error=RecordError(f"bigcommerce cannot write {stream!r}", stream=stream,
                                                         key=r.key)) for r in records]

    @staticmethod
    def _guard(record: OutboundRecord, fn: Any) -> WriteResult:
        try:
            return fn(record)
        except RemoteError as exc:
            return WriteResult(key=record.key, error=exc, retry=not isinstance(exc, PermanentError))
        except RecordError as exc:
            return WriteResult(key=record.key, error=exc)

    def _send(self, method: str, path: str, operation: str, body: Any) -> Any:
        assert self.http is not None
        response = self.http.request(method, path, operation=operation, bucket="store", json=body)
        return read_json(response)

    def _send_once(self, method: str, path: str, operation: str, body: Any) -> Any:
        """One attempt, except that a 429 (nothing applied) waits for the quota reset and goes again."""
        for _ in range(10):
            try:
                return read_json(self.http_once.request(method, path, operation=operation, bucket="store", json=body))
            except ThrottledError as exc:
                time.sleep(min(exc.retry_after if exc.retry_after is not None else 1.0, 60.0))
        return read_json(self.http_once.request(method, path, operation=operation, bucket="store", json=body))

    # inventory

    def _location_id(self, code: str) -> int | None:
        if self._locations is None:
            assert self.http is not None
            body = get_json(self.http, "/v3/inventory/locations", "getLocations", {"limit": 250})
            self._locations = {str(loc.get("code")): int(loc["id"]) for loc in (body or {}).get("data") or []}
        return self._locations.get(code)

    def _items(self, record: OutboundRecord) -> list[dict[str, Any]]:
        data = record.data
        if data.get("mode") not in ("absolute", "relative"):
            raise RecordError("mode must be 'absolute' or 'relative'", stream=record.stream, key=record.key, field="mode")
        items = data.get("items")
        if not isinstance(items, list) or not items:
            raise RecordError("items is empty", stream=record.stream, key=record.key, field="items")
        out = []
        for i, item in enumerate(items):
            item = dict(item)
            if "location_code" in item:
                lid = self._location_id(str(item.pop("location_code")))
                if lid is None:
                    raise RecordError("no BigCommerce location has this code", stream=record.stream, key=record.key,
                                      field=f"items[{i}].location_code", hint="see GET /v3/inventory/locations")
                item["location_id"] = lid
            qty = item.get("quantity")
            if not isinstance(qty, int) or isinstance(qty, bool) or (data["mode"] == "absolute" and qty < 0):
                raise RecordError(f"quantity {qty!r} is not a whole number" + (" >= 0" if data["mode"] == "absolute" else ""),
                                  stream=record.stream, key=record.key, field=f"items[{i}].quantity")
            out.append(item)
        return out

    def _adjust(self, records: list[OutboundRecord]) -> list[WriteResult]:
        results: list[WriteResult] = []
        groups: dict[str, list[tuple[OutboundRecord, list[dict[str, Any]]]]] = {}
        for r in records:
            try:
                groups.setdefault(r.data["mode"], []).append((r, self._items(r)))
            except RecordError as exc:
                results.append(WriteResult(key=r.key, error=exc))
            except RemoteError as exc:
                results.append(WriteResult(key=r.key, error=exc, retry=not isinstance(exc, PermanentError)))
        for mode, group in groups.items():
            results.extend(self._adjust_group(mode, group))
        return results

    def _adjust_group(self, mode: str, group: list[tuple[OutboundRecord, list[dict[str, Any]]]]) -> list[WriteResult]:
        items = [item for _, rec_items in group for item in rec_items]
        reason = group[0][0].data.get("reason") if len(group) == 1 else f"ledgerlink batch of {len(group)}"
        method, path = ("PUT", "/v3/inventory/adjustments/absolute") if mode == "absolute" else (
            "POST", "/v3/inventory/adjustments/relative")
        payload = {"reason": str(reason or "ledgerlink")[:255], "items": items}
        try:
            if mode == "absolute":
                body = self._send(method, path, "absoluteAdjustment", payload)
            else:
                body = self._send_once(method, path, "relativeAdjustment", payload)
        except PermanentError as exc:
            if len(group) > 1 and exc.status == 422:  # one bad item refuses the batch: find it
                return [r for part in group for r in self._adjust_group(mode, [part])]
            return [WriteResult(key=r.key, error=exc) for r, _ in group]
        except TransientError as exc:
            # a relative adjustment that may have landed must not be sent twice; one whose connection was refused
            # never left (`sent` False, see ledgerlink's HttpClient), so it goes again on the next sync
            resend = mode == "absolute" or getattr(exc, "sent", True) is False
            return [WriteResult(key=r.key, error=exc, retry=resend) for r, _ in group]
        except RemoteError as exc:
            return [WriteResult(key=r.key, error=exc, retry=True) for r, _ in group]
        tid = str((body or {}).get("transaction_id") or "") or None
        return [WriteResult(key=r.key, destination_id=tid) for r, _ in group]

    # shipments

    def _ship(self, record: OutboundRecord) -> WriteResult:
        data = dict(record.data)
        order_id = data.pop("order_id", None)
        origin = _origin(data.pop("source_row", None))
        if order_id in (None, ""):
            return _bad(record, "order_id is required", "order_id")
        if not str(order_id).isdigit():
            return _bad(record, f"{order_id!r} is not a BigCommerce order number{origin}", "order_id",
                        f"BigCommerce numbers orders 100, 101, …: {_FIX_AT_SOURCE}")
        tracking = str(data.get("tracking_number") or "")
        if not tracking:
            return _bad(record, "tracking_number is required (it makes the write idempotent)", "tracking_number")
        assert self.http is not None
        try:
            existing = get_json(self.http, f"/v2/orders/{order_id}/shipments", "getOrderShipments",
                                {"limit": 250}) or []
        except PermanentError as exc:
            if exc.status != 404:
                raise
            return _bad(record, f"the store has no order {order_id}{origin}", "order_id",
                        f"{_FIX_AT_SOURCE}; if the order is the store's, check store_hash and base_url")
        for s in existing:
            if str(s.get("tracking_number")) == tracking:
                return WriteResult(key=record.key, destination_id=str(s.get("id")), created=False)
        if not data.get("order_address_id"):
            addresses = get_json(self.http, f"/v2/orders/{order_id}/shipping_addresses", "getOrderShippingAddresses") or []
            if not addresses:
                return _bad(record, f"order {order_id} has no shipping address to ship to", "order_address_id")
            data["order_address_id"] = addresses[0]["id"]
        if any("sku" in i for i in data.get("items") or []):
            lines = get_json(self.http, f"/v2/orders/{order_id}/products", "getOrderProducts", {"limit": 250}) or []
            by_sku = {str(li.get("sku")): li["id"] for li in lines}
            items = []
            for i, item in enumerate(data["items"]):
                if "sku" in item:
                    if item["sku"] not in by_sku:
                        return _bad(record, f"order {order_id} has no product with SKU {item['sku']!r}{origin}",
                                    f"items[{i}].sku")
                    item = {"order_product_id": by_sku[item["sku"]], "quantity": item["quantity"]}
                items.append(item)
            data["items"] = items
        return self._create_shipment(record, str(order_id), tracking, data)

    def _create_shipment(self, record: OutboundRecord, order_id: str, tracking: str, data: dict[str, Any]
                         ) -> WriteResult:
        """POST the shipment, never twice blind: BigCommerce has no idempotency key, so a POST whose answer was
        lost or was a 5xx may have created it. Before sending again, the order's shipments are looked up by
        tracking number. A 429 created nothing and is waited out (`_send_once`)."""
        path = f"/v2/orders/{order_id}/shipments"
        for round_ in range(_SHIP_ROUNDS):
            try:
                body = self._send_once("POST", path, "createOrderShipment", data)
            except TransientError:
                if round_ == _SHIP_ROUNDS - 1:
                    raise  # pending: the next sync looks it up first, as above
                assert self.http is not None
                self.http.backoff(round_ + 1)
                found = self._shipment_with(order_id, tracking)
                if found is not None:
                    return WriteResult(key=record.key, destination_id=str(found.get("id")), created=False)
                continue
            return WriteResult(key=record.key, destination_id=str((body or {}).get("id")))
        raise AssertionError("unreachable")

    def _shipment_with(self, order_id: str, tracking: str) -> dict[str, Any] | None:
        assert self.http is not None
        existing = get_json(self.http, f"/v2/orders/{order_id}/shipments", "getOrderShipments", {"limit": 250}) or []
        return next((s for s in existing if str(s.get("tracking_number")) == tracking), None)

    # order status

    def _status(self, record: OutboundRecord) -> WriteResult:
        order_id, status_id = record.data.get("order_id"), record.data.get("status_id")
        if order_id in (None, ""):
            return _bad(record, "order_id is required", "order_id")
        if status_id not in _STATUS_IDS:
            return _bad(record, f"status_id {status_id!r} is not a BigCommerce order status (0-14)", "status_id")
        assert self.http is not None
        order = get_json(self.http, f"/v2/orders/{order_id}", "getOrder") or {}
        if order.get("status_id") == status_id:
            return WriteResult(key=record.key, destination_id=str(order_id), created=False)
        self._send("PUT", f"/v2/orders/{order_id}", "updateOrder", {"status_id": status_id})
        return WriteResult(key=record.key, destination_id=str(order_id))
