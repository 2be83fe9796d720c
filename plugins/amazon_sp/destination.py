"""`amazon_sp` writes: FBM shipment confirmations (Orders v0 confirmShipment) and FBM quantities (Listings Items
2021-08-01 patchListingsItem of `fulfillment_availability`). Each is idempotent and goes through the seller's
rate-limited client (buckets per seller × region × operation).

- `shipment_confirmations`: `{"order_id", "package_reference_id", "carrier_code", "carrier_name"?,
  "shipping_method"?, "tracking_number", "ship_date", "items": [{"order_item_id" | "sku", "quantity"}],
  "source_row"?}` (`source_row` is not sent: a refusal names it, so the user knows which row to fix).
  Looks first (getOrder, getOrderItems): an FBA order, an unknown order or an item that is not the order's is a
  dead letter saying what to fix; an order Amazon already lists as Shipped is left alone (created=False), and so
  is one Amazon answers "already fulfilled" for. The package reference is derived from the shipment, so a resent
  confirmation names the same package.
- `listing_quantities`: `{"sku", "quantity", "unlisted"?}`. Looks first (getListingsItem): a SKU Amazon fulfils
  (FBA: its channel is AMAZON_*) is left alone, and so is a SKU the seller does not list on Amazon (most stores
  sell more than they list there), unless `unlisted` is `dead_letter`; either is logged. A listing already at that
  quantity is left alone too. A patch Amazon answers INVALID is a dead letter carrying Amazon's `issues` verbatim.

Where a retry is safe, and why: both writes are retried after any transient failure, lost answers included,
because neither can apply twice. A confirmation names its package (`packageReferenceId`, derived from the
shipment), and Amazon records the same package of an order once (a resend is answered 204, or "already
fulfilled" once the order is Shipped, which is then checked with getOrder); a quantity patch replaces the
listing's quantity with a value, so sending it again changes nothing. Neither carries a request id that Amazon
would replay, so a retry after an answered 5xx is not stuck either.

`plan()` turns canonical `Shipment`s and `InventoryLevel`s into these writes. Amazon's own stock (levels whose
source is `amazon_sp`) is never echoed back. Pipeline options: `locations: [...]` limits which locations' levels
are pushed; `unlisted_skus: dead_letter` makes a SKU without an Amazon listing a dead letter (default: skip).
"""

from __future__ import annotations

import hashlib
import json
import logging
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from pydantic import AwareDatetime, ConfigDict, Field

from ledgerlink import (
    EARLIEST_DATE, LATEST_DATE,
    Destination, HttpClient, InventoryLevel, ObjectType, OutboundRecord, PermanentError, PlanContext, PlannedWrite,
    RecordError, RemoteError, RetryPolicy, Shipment, WriteContext, WriteResult, check_options, idempotency_key,
    inventory,
)

from .auth import lwa_auth
from .client import read_json, sp_client
from .config import AmazonSPConfig, AmazonSPWriteOptions
from .timestamps import format_time

__all__ = ["AmazonSellingPartnerDestination", "AmazonSPWriteConfig", "CARRIER_CODES", "package_reference_id"]

log = logging.getLogger("ledgerlink.amazon_sp")

SHIPMENTS, QUANTITIES = "shipment_confirmations", "listing_quantities"

#: carriers Amazon names with its own `carrierCode` (keyed by the name lowered, without spaces, - or _); any other
#: carrier is sent as carrierCode "Other" with its name in carrierName
CARRIER_CODES = {
    "ups": "UPS", "usps": "USPS", "fedex": "FedEx", "dhl": "DHL", "canadapost": "Canada Post",
    "royalmail": "Royal Mail", "ontrac": "OnTrac", "purolator": "Purolator", "dpd": "DPD", "gls": "GLS",
    "tnt": "TNT", "yodel": "Yodel", "parcelforce": "Parcelforce", "lasership": "Lasership",
}
_ORDER_ID_HINT = "Amazon order ids have the 3-7-7 format, e.g. 112-1234567-1234567"


class AmazonSPWriteConfig(AmazonSPConfig):
    """The source's config, with the merchant token required (Listings Items paths name the seller) and no
    start date needed, so one config can serve both roles."""

    model_config = ConfigDict(extra="forbid", title="Amazon Selling Partner API (writes)")

    seller_id: str = Field(description="merchant token (Seller Central: Settings, Account Info, Merchant Token); "
                                       "Listings Items paths name it and it keys the rate-limit buckets")
    start_date: AwareDatetime | None = Field(None, description="not used by writes")


def package_reference_id(shipment_id: str, natural_key: str) -> str:
    """Amazon wants a positive number unique within the order. A numeric shipment id is used as it is; any other
    is hashed, so the same shipment always names the same package (a resend is recognised, not a second box)."""
    if shipment_id.isdigit() and 0 < int(shipment_id) < 10 ** 18:
        return str(int(shipment_id))
    return str(int(hashlib.sha256(natural_key.encode()).hexdigest()[:12], 16) % 10 ** 12 + 1)


def _carrier(name: str) -> tuple[str, str]:
    code = CARRIER_CODES.get("".join(ch for ch in name.lower() if ch not in " -_"))
    return (code or "Other"), name


def _bad(record: OutboundRecord, message: str, field: str, hint: str | None = None) -> WriteResult:
    return WriteResult(key=record.key, error=RecordError(message, stream=record.stream, key=record.key, field=field,
                                                         hint=hint))


def _origin(data: dict[str, Any]) -> str:
    """` (from shipments row exports/3pl.csv/7)`: where a refused shipment came from, so the user can fix it."""
    return f" (from {data['source_row']})" if data.get("source_row") else ""


def _whole(value: Any) -> int | None:
    """A whole number from a JSON value (int, or a Decimal with no fraction), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return None


class AmazonSellingPartnerDestination(Destination):
    """Confirms FBM shipments and sets FBM quantities for one seller in one region."""

    name: ClassVar[str] = "amazon_sp"
    config_model: ClassVar[type[AmazonSPWriteConfig]] = AmazonSPWriteConfig
    #: `destination.options`, checked when the pipeline is loaded
    options_model: ClassVar[type[AmazonSPWriteOptions]] = AmazonSPWriteOptions
    documentation_url: ClassVar[str | None] = "https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference"
    objects: ClassVar[list[ObjectType]] = [
        ObjectType(SHIPMENTS, [["order_id"], ["package_reference_id"]], json_schema={
            "type": "object", "required": ["order_id", "package_reference_id", "carrier_code", "tracking_number",
                                           "ship_date", "items"],
            "properties": {
                "order_id": {"type": "string"}, "package_reference_id": {"type": "string", "pattern": "^[0-9]+$"},
                "carrier_code": {"type": "string"}, "carrier_name": {"type": "string"},
                "shipping_method": {"type": "string"}, "tracking_number": {"type": "string"},
                "ship_date": {"type": "string", "format": "date-time"},
                "source_row": {"type": "string"},  # where it came from, for a refusal; not sent
                "items": {"type": "array", "minItems": 1, "items": {  # order_item_id, sku or both (tried in order)
                    "type": "object", "required": ["quantity"],
                    "properties": {"order_item_id": {"type": "string"}, "sku": {"type": "string"},
                                   "quantity": {"type": "integer", "minimum": 1}}}}}}),
        ObjectType(QUANTITIES, [["sku"]], json_schema={
            "type": "object", "required": ["sku", "quantity"],
            "properties": {"sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 0},
                           "unlisted": {"enum": ["skip", "dead_letter"]}}}),
    ]
    write_order: ClassVar[list[str]] = [QUANTITIES, SHIPMENTS]
    batch_size: ClassVar[int] = 50

    def __init__(self, *, transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None):
        self._transport, self._retry = transport, retry
        self.http: HttpClient | None = None
        self._rotated: list[str] = []

    # ---------------------------------------------------------------- planning

    def plan(self, obj: Any, ctx: PlanContext | None) -> list[PlannedWrite]:
        if isinstance(obj, Shipment):
            return [self._plan_shipment(obj)]
        if isinstance(obj, InventoryLevel):
            options = getattr(ctx, "options", None) or {}
            parsed = self._options(options, getattr(ctx, "cache", None))
            locations = parsed.locations
            from_books = obj.location == inventory.QUICKBOOKS_LOCATION
            if from_books:
                # QuickBooks' quantities: only SKUs QuickBooks masters (or two-way ones it moved), never FBA's
                level = inventory.to_channel(obj, options, getattr(ctx, "cache", None))
                if level is None:
                    return []
                obj = level
            elif obj.source == "amazon_sp" or (locations and obj.location not in locations):
                return []  # Amazon's own stock is Amazon's to count; other locations are not for sale here
            write = self._plan_quantity(obj, parsed.unlisted_skus)
            if from_books:
                inventory.mark_channel_write(write, obj, options, getattr(ctx, "cache", None))
            return [write]
        return []

    @staticmethod
    def _options(options: dict[str, Any], cache: dict[Any, Any] | None) -> AmazonSPWriteOptions:
        """The pipeline's options, validated once a run (the loader checked them already; a caller that built
        them by hand gets the same error naming the key)."""
        marker = ("amazon_sp.options", id(options))
        found = cache.get(marker) if cache is not None else None
        if found is None:
            found = check_options(AmazonSPWriteOptions, options, where="destination.options")
            if cache is not None:
                cache[marker] = found
        return found

    @staticmethod
    def _plan_shipment(s: Shipment) -> PlannedWrite:
        def refuse(message: str, field: str, hint: str | None = None) -> RecordError:
            return RecordError(message, stream="shipment", key=s.natural_key, field=field, hint=hint)

        if not s.tracking_number:
            raise refuse("Amazon needs a tracking number to confirm a shipment", "tracking_number",
                         "add the carrier's tracking number to the shipment where it comes from, then sync again")
        if not s.carrier:
            raise refuse("Amazon needs the carrier to confirm a shipment", "carrier",
                         "set the shipment's carrier (UPS, USPS, FedEx, … or the carrier's own name)")
        if s.shipped_at is None:
            raise refuse("Amazon needs the ship date to confirm a shipment", "shipped_at")
        if not EARLIEST_DATE <= s.shipped_at < LATEST_DATE:
            raise refuse(f"ship date {s.shipped_at.date().isoformat()} is not a plausible date (Amazon refuses it)",
                         "shipped_at", "fix the ship date where it comes from (e.g. the 3PL file's date column)")
        if not s.lines:
            raise refuse("a shipment confirmation lists the order items in the package", "lines")
        items = []
        for i, line in enumerate(s.lines):
            quantity = _whole(line.quantity)
            if quantity is None or quantity < 1:
                raise refuse(f"quantity {line.quantity} is not a whole number of at least 1", f"lines[{i}].quantity")
            if not line.line_id and not line.sku:
                raise refuse("a shipment line needs the Amazon OrderItemId or a SKU", f"lines[{i}]")
            # both when known: a line id from another system (a warehouse's, a store's) is not Amazon's
            item: dict[str, Any] = {"order_item_id": line.line_id} if line.line_id else {}
            items.append({**item, **({"sku": line.sku} if line.sku else {}), "quantity": quantity})
        code, name = _carrier(s.carrier)
        data = {"order_id": s.order_id, "package_reference_id": package_reference_id(s.shipment_id, s.natural_key),
                "carrier_code": code, "carrier_name": name, "tracking_number": s.tracking_number,
                "ship_date": format_time(s.shipped_at), "items": items}
        if s.source_refs:  # not sent: named in a refusal (an unknown order), so the user knows which row to fix;
            # only the first row, so the same package named again in a later file plans the same payload
            data["source_row"] = f"{s.source_refs[0].stream} row {s.source_refs[0].key}"
        return PlannedWrite(stream=SHIPMENTS, key=idempotency_key(SHIPMENTS, s.natural_key), data=data,
                            source_refs=list(s.source_refs), natural_key=s.natural_key)

    @staticmethod
    def _plan_quantity(level: InventoryLevel, unlisted: str = "skip") -> PlannedWrite:
        """What buyers may order: `available` when the source knows it, else `on_hand`; oversold stock (below
        zero) offers nothing. The key carries `as_of`, so a later level is a new write, not a revision."""
        count = level.available if level.available is not None else level.on_hand
        quantity = _whole(count)
        if quantity is None:
            raise RecordError(f"{count} is not a whole number of units", stream="inventory_level",
                              key=level.natural_key, field="available" if level.available is not None else "on_hand")
        key = idempotency_key(QUANTITIES, f"{level.natural_key}@{level.as_of.isoformat()}")
        data: dict[str, Any] = {"sku": level.sku, "quantity": max(quantity, 0)}
        if unlisted != "skip":
            data["unlisted"] = unlisted
        return PlannedWrite(stream=QUANTITIES, key=key, data=data, source_refs=list(level.source_refs),
                            natural_key=level.natural_key)

    # ---------------------------------------------------------------- writing

    def open(self, config: Any, context: WriteContext) -> None:
        super().open(config, context)
        self.config = config if isinstance(config, AmazonSPWriteConfig) else self.parse_config(config)
        stored = context.load_credential(self._credential_name())
        seller = getattr(self.config, "seller_id", None)
        if not stored and seller:  # kept per seller before it was per seller and region: migrated on first use
            stored = context.load_credential(f"{self.name}:{seller}:refresh_token")
            if stored:
                context.save_credential(self._credential_name(), stored)
        stored = stored or context.load_credential(f"{self.name}:refresh_token")  # earlier versions' one name
        if stored:
            self.config = self.config.model_copy(update={"refresh_token": stored})
        auth = lwa_auth(self.config, on_rotate=self._save_rotated, transport=self._transport)
        self.http = sp_client(self.config, auth, retry=self._retry, transport=self._transport)

    def _credential_name(self) -> str:
        """The name the runtime stores a source's rotated refresh token under (per seller and region, as the
        runtime names a source's: `amazon_sp:{seller_id}:{region}:refresh_token`), so both roles of one seller in
        one region share it, and another region's is its own."""
        seller = getattr(self.config, "seller_id", None)
        region = getattr(self.config, "region", "na")
        return f"{self.name}:{seller}:{region}:refresh_token" if seller else f"{self.name}:refresh_token"

    def _save_rotated(self, token: str) -> None:
        """LWA normally keeps the refresh token; if it ever rotates, it is saved the moment it arrives."""
        self.context.save_credential(self._credential_name(), token)

    def close(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None

    def write_batch(self, stream: str, records: list[OutboundRecord]) -> list[WriteResult]:
        if stream == SHIPMENTS:
            return [self._guard(r, self._confirm) for r in records]
        if stream == QUANTITIES:  # QuickBooks' quantities written: both sides agree (ledgerlink.inventory)
            return inventory.record_channel_writes(records, [self._guard(r, self._set_quantity) for r in records])
        return [WriteResult(key=r.key, error=RecordError(
            f"amazon_sp cannot write {stream!r}", stream=stream, key=r.key,
            hint=f"amazon_sp writes {SHIPMENTS} and {QUANTITIES}")) for r in records]

    @staticmethod
    def _guard(record: OutboundRecord, fn: Any) -> WriteResult:
        try:
            return fn(record)
        except RemoteError as exc:
            if exc.operation == "token":
                raise  # LWA refused the credentials: no record is at fault; the load stops and they stay pending
            if exc.status == 403 and not exc.hint:
                exc.hint = ("check that the refresh token belongs to this seller and region endpoint, and that the "
                            "app has the role this operation needs (Direct-to-Consumer Shipping or Inventory and "
                            "Order Tracking for shipments, Product Listing for quantities)")
            return WriteResult(key=record.key, error=exc, retry=not isinstance(exc, PermanentError))
        except RecordError as exc:
            return WriteResult(key=record.key, error=exc)

    def _get(self, path: str, operation: str, **params: Any) -> Any:
        assert self.http is not None
        return read_json(self.http.get(path, operation=operation, params=params or None))

    # shipments

    def _confirm(self, record: OutboundRecord) -> WriteResult:
        data = record.data
        order_id = str(data.get("order_id") or "")
        parts = order_id.split("-")
        if [len(p) for p in parts] != [3, 7, 7] or not all(p.isdigit() for p in parts):
            return _bad(record, f"{order_id!r} is not an Amazon order id{_origin(data)}", "order_id",
                        f"{_ORDER_ID_HINT}: correct the order number where the shipment comes from (a changed file "
                        "is read again), then discard this letter (`ledgerlink dlq discard`)")
        for name in ("tracking_number", "carrier_code", "ship_date", "package_reference_id"):
            if not data.get(name):
                return _bad(record, f"{name} is required to confirm a shipment", name)
        items = data.get("items")
        if not isinstance(items, list) or not items:
            return _bad(record, "items is empty: a confirmation lists the order items in the package", "items")
        try:
            order = (self._get(f"/orders/v0/orders/{order_id}", "getOrder") or {}).get("payload") or {}
        except PermanentError as exc:
            if exc.status == 404:
                exc.hint = (f"Amazon has no order {order_id} for this seller{_origin(data)}: correct the order number "
                            "where the shipment comes from (a changed file is read again), then discard this letter "
                            "(`ledgerlink dlq discard`); if the order is Amazon's, check that the endpoint (region) "
                            "and refresh token are this seller's")
            raise
        if order.get("FulfillmentChannel") == "AFN":
            return _bad(record, f"order {order_id} is fulfilled by Amazon (FBA): Amazon ships it and confirms it "
                                "itself", "order_id",
                        "only merchant-fulfilled (FBM) orders take a shipment confirmation; discard this letter "
                        "(`ledgerlink dlq discard`)")
        status = str(order.get("OrderStatus") or "")
        if status == "Shipped":
            return WriteResult(key=record.key, destination_id=f"{order_id}/{data['package_reference_id']}",
                               created=False)
        if status == "Canceled":
            return _bad(record, f"order {order_id} was canceled on Amazon: there is nothing to confirm", "order_id")
        if status in ("Pending", "PendingAvailability"):
            return WriteResult(key=record.key, retry=True, error=RecordError(
                f"order {order_id} is {status}: Amazon takes a confirmation once payment is authorised",
                stream=record.stream, key=record.key, field="order_id",
                hint="it is tried again on the next syncs"))
        resolved = self._order_items(record, order_id, items)
        if isinstance(resolved, WriteResult):
            return resolved
        package: dict[str, Any] = {
            "packageReferenceId": str(data["package_reference_id"]), "carrierCode": str(data["carrier_code"]),
            "trackingNumber": str(data["tracking_number"]), "shipDate": str(data["ship_date"]),
            "orderItems": resolved}
        for name, field in (("carrierName", "carrier_name"), ("shippingMethod", "shipping_method")):
            if data.get(field):
                package[name] = str(data[field])
        if package["carrierCode"] == "Other" and "carrierName" not in package:
            return _bad(record, "carrier_name is required when carrier_code is Other", "carrier_name")
        body = {"marketplaceId": order.get("MarketplaceId"), "packageDetail": package}
        assert self.http is not None
        try:
            self.http.post(f"/orders/v0/orders/{order_id}/shipmentConfirmation", operation="confirmShipment",
                           json=body)
        except PermanentError as exc:
            if exc.status == 400 and "already fulfilled" in (exc.remote_message or "").lower():
                # a confirmation that landed before an ambiguous failure, or one made in Seller Central
                again = (self._get(f"/orders/v0/orders/{order_id}", "getOrder") or {}).get("payload") or {}
                if again.get("OrderStatus") == "Shipped":
                    return WriteResult(key=record.key, destination_id=f"{order_id}/{package['packageReferenceId']}",
                                       created=False)
            if exc.status == 400 and not exc.hint:
                exc.hint = "Amazon refused the confirmation: fix what its message names, then `ledgerlink dlq retry`"
            raise
        return WriteResult(key=record.key, destination_id=f"{order_id}/{package['packageReferenceId']}")

    def _order_items(self, record: OutboundRecord, order_id: str,
                     items: list[Any]) -> list[dict[str, Any]] | WriteResult:
        """The package's items as Amazon's OrderItemIds with quantities, checked against the order."""
        listed: list[dict[str, Any]] = []
        path, token = f"/orders/v0/orders/{order_id}/orderItems", None
        while True:
            payload = (self._get(path, "getOrderItems", **({"NextToken": token} if token else {})) or {}).get(
                "payload") or {}
            listed.extend(payload.get("OrderItems") or [])
            token = payload.get("NextToken")
            if not token:
                break
        by_id = {str(i.get("OrderItemId")): i for i in listed}
        by_sku = {str(i.get("SellerSKU")): i for i in listed if i.get("SellerSKU")}
        out: list[dict[str, Any]] = []
        for n, item in enumerate(items):
            quantity = _whole(item.get("quantity")) if isinstance(item, dict) else None
            if quantity is None or quantity < 1:
                return _bad(record, f"quantity {item.get('quantity') if isinstance(item, dict) else item!r} is not a "
                                    "whole number of at least 1", f"items[{n}].quantity")
            item_id, sku = item.get("order_item_id"), item.get("sku")
            if not item_id and not sku:
                return _bad(record, "an item needs order_item_id or sku", f"items[{n}]")
            found = by_id.get(str(item_id)) if item_id else None
            if found is None and sku:
                found = by_sku.get(str(sku))
            if found is None:
                field = f"items[{n}].sku" if sku else f"items[{n}].order_item_id"
                what = f"with SKU {sku!r}" if sku else f"{item_id!r}"
                return _bad(record, f"order {order_id} has no item {what}{_origin(record.data)}", field,
                            "use the OrderItemId from getOrderItems, or the seller SKU of the Amazon listing")
            ordered = _whole(found.get("QuantityOrdered")) or 0
            if quantity > ordered:
                return _bad(record, f"{quantity} unit(s) of {found.get('SellerSKU') or found.get('OrderItemId')} in "
                                    f"the package, {ordered} ordered", f"items[{n}].quantity")
            out.append({"orderItemId": str(found["OrderItemId"]), "quantity": quantity})
        return out

    # quantities

    def _set_quantity(self, record: OutboundRecord) -> WriteResult:
        sku = str(record.data.get("sku") or "")
        if not sku:
            return _bad(record, "sku is required", "sku")
        quantity = _whole(record.data.get("quantity"))
        if quantity is None or quantity < 0:
            return _bad(record, f"quantity {record.data.get('quantity')!r} is not a whole number >= 0", "quantity")
        config = self.config
        path = f"/listings/2021-08-01/items/{quote(config.seller_id, safe='')}/{quote(sku, safe='')}"
        marketplaces = ",".join(config.marketplace_ids)
        try:
            item = self._get(path, "getListingsItem", marketplaceIds=marketplaces,
                             includedData="summaries,fulfillmentAvailability") or {}
        except PermanentError as exc:
            if exc.status == 404 and record.data.get("unlisted") == "dead_letter":
                return WriteResult(key=record.key, error=RecordError(
                    f"the seller has no Amazon listing with SKU {sku!r} ({exc.remote_message})", stream=record.stream,
                    key=record.key, field="sku",
                    hint="create the listing in Seller Central, or map this SKU to the Amazon one"))
            if exc.status == 404:
                log.info("%s: SKU %r is not listed on Amazon: quantity not sent", record.key, sku)
                return WriteResult(key=record.key, created=False)
            raise
        channels = [a for a in item.get("fulfillmentAvailability") or [] if isinstance(a, dict)]
        default = next((a for a in channels if a.get("fulfillmentChannelCode") == "DEFAULT"), None)
        if channels and default is None:  # FBA: Amazon counts that stock; a DEFAULT patch would turn it into FBM
            codes = ", ".join(str(a.get("fulfillmentChannelCode")) for a in channels)
            log.info("%s: SKU %r is fulfilled by Amazon (%s): quantity not sent", record.key, sku, codes)
            return WriteResult(key=record.key, created=False)
        if default is not None and _whole(default.get("quantity")) == quantity:
            return WriteResult(key=record.key, destination_id=sku, created=False)
        product_type = next((s.get("productType") for s in item.get("summaries") or []
                             if isinstance(s, dict) and s.get("productType")), None) or "PRODUCT"
        body = {"productType": product_type, "patches": [{
            "op": "replace", "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]}]}
        assert self.http is not None
        reply = read_json(self.http.request("PATCH", path, operation="patchListingsItem",
                                            params={"marketplaceIds": marketplaces}, json=body)) or {}
        status = reply.get("status")
        if status == "ACCEPTED":
            return WriteResult(key=record.key, destination_id=sku, version=reply.get("submissionId"))
        issues = reply.get("issues") or []
        text = "; ".join(f"{i.get('code')} {i.get('severity')}: {i.get('message')}" for i in issues
                         if isinstance(i, dict)) or "no issues given"
        return WriteResult(key=record.key, error=PermanentError(
            f"patchListingsItem: {status or 'no status'}: {text}", status=200,
            code=str(issues[0].get("code")) if issues and isinstance(issues[0], dict) else status,
            remote_message=json.dumps(issues, default=str), operation="patchListingsItem",
            hint="Amazon refused the quantity for this listing: see its issues, fix the listing or the stock, "
                 "then `ledgerlink dlq retry`"))

