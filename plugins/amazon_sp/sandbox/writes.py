"""The sandbox's writes: Orders v0 getOrder and confirmShipment (FBM shipment confirmation), and Listings Items
2021-08-01 getListingsItem and patchListingsItem (FBM quantities in `fulfillment_availability`).

They refuse what Amazon refuses: bodies are checked against the models' request schemas (required fields,
types, enums), a confirmation must name an existing merchant-fulfilled order in its own marketplace, items of
that order and no more than is left to ship; a patch must name a listing of the seller. A listing's attribute
problems come back as Amazon sends them: 200 with `status: INVALID` and `issues[]`. Tests read the listings
through `/_sandbox/listings/{sku}` (outside Amazon's paths) and change them with a POST there.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .replies import Invalid as _Invalid
from .replies import refuse as _errors
from .replies import reply as _json
from .seed import MARKETPLACES, ORDER_MARKETPLACES, SKUS, iso

__all__ = ["PLANS", "routes"]

#: Amazon's default usage plans (rate/s, burst) for the operations served here
PLANS: dict[str, tuple[float, int]] = {"getOrder": (0.5, 30), "confirmShipment": (2.0, 10),
                                       "getListingsItem": (5.0, 10), "patchListingsItem": (5.0, 5)}

_ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
_PATCH_OPS = ("add", "replace", "merge", "delete")
_LISTING_DATA = ("summaries", "attributes", "issues", "offers", "fulfillmentAvailability", "procurement",
                 "relationships", "productTypes")
_PACKAGE_FIELDS = {"packageReferenceId", "carrierCode", "carrierName", "shippingMethod", "trackingNumber",
                   "shipDate", "shipFromSupplySourceId", "orderItems"}
_ALREADY_FULFILLED = ("Failed to create package due to not finding a matching package or order already fulfilled.")


def _listed(request: Request, name: str) -> list[str]:
    return [v for raw in request.query_params.getlist(name) for v in raw.split(",") if v]


class _Listing:
    """One seller SKU as the sandbox holds it: its fulfilment channel and, for FBM, its quantity."""

    def __init__(self, sku: str, asin: str, title: str, channel: str, quantity: int | None, created: int):
        self.sku, self.asin, self.title = sku, asin, title
        self.channel, self.quantity = channel, quantity
        self.product_type = "HOME"
        self.created = self.updated = created
        self.submissions = 0
        #: issues every patch of this listing is refused with (a listing Amazon holds back, e.g. for approval)
        self.issues: list[dict[str, Any]] = []

    def view(self) -> dict[str, Any]:
        return {"sku": self.sku, "asin": self.asin, "fulfillment_channel_code": self.channel,
                "quantity": self.quantity, "product_type": self.product_type, "submissions": self.submissions,
                "last_updated": iso(self.updated)}


class _Writes:
    """The writes' own state (packages, shipped quantities, listings) next to the seller book."""

    def __init__(self, api: Any):
        self.api = api
        #: order id → packageReferenceId → the packageDetail Amazon accepted
        self.packages: dict[str, dict[str, dict[str, Any]]] = {}
        #: (order id, OrderItemId) → units confirmed shipped
        self.shipped: dict[tuple[str, str], int] = {}
        now = int(time.time())
        # even catalogue entries are merchant-fulfilled (DEFAULT, with a quantity), odd ones FBA (AMAZON_NA)
        self.listings: dict[str, _Listing] = {
            e.sku: _Listing(e.sku, e.asin, e.title, "DEFAULT" if n % 2 == 0 else "AMAZON_NA",
                            10 + n if n % 2 == 0 else None, now - 86400 * 90)
            for n, e in enumerate(SKUS)}

    def _seller(self, request: Request) -> Response | None:
        wanted = getattr(self.api.options, "seller_id", None)
        if wanted and request.path_params["sellerId"] != wanted:
            return _errors(403, "Unauthorized", "Access to requested resource is denied.",
                           "The sellerId does not match the seller the access token was issued for.")
        return None

    # ------------------------------------------------------------------ getOrder

    async def get_order(self, request: Request) -> Response:
        op = "getOrder"
        refused = self.api._gate(request, op)
        if refused is not None:
            return refused
        order_id = request.path_params["orderId"]
        if not _ORDER_ID.match(order_id):
            return self.api._count(op, _errors(400, "InvalidInput", f"Invalid AmazonOrderId {order_id!r}: expected "
                                                                    "the 3-7-7 format."))
        index = self.api.book.index_of(order_id)
        if index is None:
            return self.api._count(op, _errors(404, "NotFound", f"Order {order_id} was not found."))
        return self.api._count(op, _json({"payload": self.api.book.order(index)}))

    # ------------------------------------------------------------------ confirmShipment

    async def confirm_shipment(self, request: Request) -> Response:
        op = "confirmShipment"
        refused = self.api._gate(request, op)
        if refused is not None:
            return refused
        order_id = request.path_params["orderId"]
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            return self.api._count(op, _errors(400, "InvalidInput", "The request body is not valid JSON."))
        try:
            if not _ORDER_ID.match(order_id):
                raise _Invalid(f"Invalid AmazonOrderId {order_id!r}: expected the 3-7-7 format.")
            package = _check_confirmation(body)
            index = self.api.book.index_of(order_id)
            if index is None:
                return self.api._count(op, _errors(404, "NotFound", f"Order {order_id} was not found."))
            outcome = self._confirm(order_id, index, body["marketplaceId"], package)
        except _Invalid as exc:
            return self.api._count(op, _errors(400, "InvalidInput", str(exc)))
        return self.api._count(op, outcome)

    def _confirm(self, order_id: str, index: int, marketplace: str, package: dict[str, Any]) -> Response:
        order, items = self.api.book.order_and_items(index)
        if marketplace != order["MarketplaceId"]:
            raise _Invalid(f"marketplaceId {marketplace} is not the marketplace of order {order_id}.")
        if order["FulfillmentChannel"] != "MFN":
            raise _Invalid(f"Order {order_id} is fulfilled by Amazon (AFN): only seller-fulfilled orders take a "
                           "shipment confirmation.")
        if order["OrderStatus"] in ("Pending", "PendingAvailability", "Canceled"):
            raise _Invalid(f"Order {order_id} is {order['OrderStatus']} and cannot be shipped.")
        ref = package["packageReferenceId"]
        known = self.packages.setdefault(order_id, {})
        if known.get(ref) == package:
            return Response(status_code=204)  # the same package again: already recorded, nothing changes
        if ref in known:
            raise _Invalid(f"PackageReferenceId {ref} is already used by another package of order {order_id}.")
        ordered = {i["OrderItemId"]: int(i["QuantityOrdered"]) for i in items}
        shipped = {item_id: self.shipped.get((order_id, item_id),
                                             ordered[item_id] if order["OrderStatus"] == "Shipped" else 0)
                   for item_id in ordered}
        if order["OrderStatus"] == "Shipped" or all(shipped[i] >= ordered[i] for i in ordered):
            raise _Invalid(_ALREADY_FULFILLED)
        adding: dict[str, int] = {}
        for item in package["orderItems"]:
            item_id = item["orderItemId"]
            if item_id not in ordered:
                raise _Invalid(f"OrderItemId {item_id} is invalid, please obtain the value through the "
                               "getOrderItems API or Manage Orders page")
            adding[item_id] = adding.get(item_id, 0) + item["quantity"]
        for item_id, quantity in adding.items():
            left = ordered[item_id] - shipped[item_id]
            if quantity > left:
                raise _Invalid(f"Quantity {quantity} for OrderItemId {item_id} exceeds the {left} unit(s) left to "
                               "ship.")
        for item_id, quantity in adding.items():
            shipped[item_id] += quantity
        for item_id, quantity in shipped.items():
            self.shipped[(order_id, item_id)] = quantity
        known[ref] = package
        status = "Shipped" if all(shipped[i] >= ordered[i] for i in ordered) else "PartiallyShipped"
        self.api.book.update(index, int(time.time()), OrderStatus=status)
        return Response(status_code=204, headers={"x-amzn-RequestId": str(uuid.uuid4())})

    # ------------------------------------------------------------------ Listings Items

    def _listing_query(self, request: Request) -> list[str]:
        marketplaces = _listed(request, "marketplaceIds")
        if not marketplaces:
            raise _Invalid("Missing required parameter marketplaceIds.")
        unknown = [m for m in marketplaces if m not in MARKETPLACES]
        if unknown:
            raise _Invalid(f"Invalid marketplaceIds: {', '.join(unknown)}. The seller does not sell there.")
        return marketplaces

    async def get_listings_item(self, request: Request) -> Response:
        op = "getListingsItem"
        refused = self.api._gate(request, op)
        if refused is not None:
            return refused
        wrong_seller = self._seller(request)
        if wrong_seller is not None:
            return self.api._count(op, wrong_seller)
        try:
            marketplaces = self._listing_query(request)
            included = _listed(request, "includedData") or ["summaries"]
            bad = [v for v in included if v not in _LISTING_DATA]
            if bad:
                raise _Invalid(f"Invalid includedData: {', '.join(bad)}. Allowed values: {', '.join(_LISTING_DATA)}.")
        except _Invalid as exc:
            return self.api._count(op, _errors(400, "InvalidInput", str(exc)))
        sku = request.path_params["sku"]
        listing = self.listings.get(sku)
        if listing is None:
            return self.api._count(op, _errors(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace "
                                                                 f"{marketplaces[0]}"))
        item: dict[str, Any] = {"sku": sku}
        if "summaries" in included:
            item["summaries"] = [{
                "marketplaceId": m, "asin": listing.asin, "productType": listing.product_type,
                "conditionType": "new_new", "status": ["BUYABLE", "DISCOVERABLE"], "itemName": listing.title,
                "createdDate": iso(listing.created), "lastUpdatedDate": iso(listing.updated)} for m in marketplaces]
        if "fulfillmentAvailability" in included:
            entry: dict[str, Any] = {"fulfillmentChannelCode": listing.channel}
            if listing.quantity is not None:
                entry["quantity"] = listing.quantity
            item["fulfillmentAvailability"] = [entry]
        if "issues" in included:
            item["issues"] = []
        return self.api._count(op, _json(item))

    async def patch_listings_item(self, request: Request) -> Response:
        op = "patchListingsItem"
        refused = self.api._gate(request, op)
        if refused is not None:
            return refused
        wrong_seller = self._seller(request)
        if wrong_seller is not None:
            return self.api._count(op, wrong_seller)
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            return self.api._count(op, _errors(400, "InvalidInput", "The request body is not valid JSON."))
        try:
            self._listing_query(request)
            mode = request.query_params.get("mode")
            if mode not in (None, "VALIDATION_PREVIEW"):
                raise _Invalid(f"Invalid mode {mode!r}. Allowed values: VALIDATION_PREVIEW.")
            _check_patch_request(body)
        except _Invalid as exc:
            return self.api._count(op, _errors(400, "InvalidInput", str(exc)))
        sku = request.path_params["sku"]
        listing = self.listings.get(sku)
        if listing is None:
            # the model lists no 404 for patchListingsItem (getListingsItem has one)
            return self.api._count(op, _errors(400, "InvalidInput", f"SKU '{sku}' not found for this seller."))
        issues, change = _patch_issues(body["patches"])
        issues = [*listing.issues, *issues]
        reply: dict[str, Any] = {"sku": sku, "submissionId": uuid.uuid4().hex, "issues": issues}
        if issues:
            reply["status"] = "INVALID"
        elif mode == "VALIDATION_PREVIEW":
            reply["status"] = "VALID"
        else:
            reply["status"] = "ACCEPTED"
            if change is not None:
                listing.channel, listing.quantity = change
            listing.updated = int(time.time())
            listing.submissions += 1
        return self.api._count(op, _json(reply))

    # ------------------------------------------------------------------ test controls (not Amazon's)

    async def listing_control(self, request: Request) -> Response:
        """GET: one listing as the sandbox holds it. POST `{"fulfillment_channel_code", "quantity", "issues"}`:
        create or change it (make a SKU FBA; hold it back so every patch is INVALID with these issues)."""
        sku = request.path_params["sku"]
        if request.method == "POST":
            change = await request.json()
            listing = self.listings.get(sku) or _Listing(sku, "B0SANDBOX0", sku, "DEFAULT", 0, int(time.time()))
            listing.channel = str(change.get("fulfillment_channel_code", listing.channel))
            listing.quantity = change.get("quantity", listing.quantity)
            listing.issues = list(change.get("issues", listing.issues))
            self.listings[sku] = listing
        listing = self.listings.get(sku)
        if listing is None:
            return _json({"error": f"no listing with SKU {sku!r}"}, 404)
        return _json(listing.view())

    def routes(self) -> list[Route]:
        return [
            Route("/orders/v0/orders/{orderId}", self.get_order, methods=["GET"]),
            Route("/orders/v0/orders/{orderId}/shipmentConfirmation", self.confirm_shipment, methods=["POST"]),
            Route("/listings/2021-08-01/items/{sellerId}/{sku}", self.get_listings_item, methods=["GET"]),
            Route("/listings/2021-08-01/items/{sellerId}/{sku}", self.patch_listings_item, methods=["PATCH"]),
            Route("/_sandbox/listings/{sku}", self.listing_control, methods=["GET", "POST"]),
        ]


def _check_confirmation(body: Any) -> dict[str, Any]:
    """The model's ConfirmShipmentRequest, checked field by field; returns the packageDetail."""
    if not isinstance(body, dict):
        raise _Invalid("The request body must be a ConfirmShipmentRequest object.")
    extra = set(body) - {"marketplaceId", "packageDetail", "codCollectionMethod"}
    if extra:
        raise _Invalid(f"Unknown field(s) in the request: {', '.join(sorted(extra))}.")
    marketplace = body.get("marketplaceId")
    if not isinstance(marketplace, str) or not marketplace:
        raise _Invalid("marketplaceId is required.")
    if marketplace not in ORDER_MARKETPLACES:  # a UK FBM order is confirmed on Amazon.co.uk
        raise _Invalid(f"Invalid marketplaceId {marketplace}.")
    if "codCollectionMethod" in body and body["codCollectionMethod"] != "DirectPayment":
        raise _Invalid("codCollectionMethod must be DirectPayment.")
    package = body.get("packageDetail")
    if not isinstance(package, dict):
        raise _Invalid("packageDetail is required.")
    extra = set(package) - _PACKAGE_FIELDS
    if extra:
        raise _Invalid(f"Unknown field(s) in packageDetail: {', '.join(sorted(extra))}.")
    for name in ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate"):
        value = package.get(name)
        if not isinstance(value, str) or not value.strip():
            raise _Invalid(f"packageDetail.{name} is required and must be a string.")
    for name in ("carrierName", "shippingMethod", "shipFromSupplySourceId"):
        if name in package and not isinstance(package[name], str):
            raise _Invalid(f"packageDetail.{name} must be a string.")
    if not package["packageReferenceId"].isdigit() or int(package["packageReferenceId"]) <= 0:
        raise _Invalid("PackageReferenceId: is invalid, must be a positive numeric value.")
    if package["carrierCode"] == "Other" and not package.get("carrierName"):
        raise _Invalid("packageDetail.carrierName is required when carrierCode is Other.")
    try:
        shipped = datetime.fromisoformat(package["shipDate"].replace("Z", "+00:00"))
    except ValueError:
        raise _Invalid(f"packageDetail.shipDate {package['shipDate']!r} is not an ISO 8601 date-time.") from None
    if shipped.tzinfo is None or "T" not in package["shipDate"]:
        raise _Invalid(f"packageDetail.shipDate {package['shipDate']!r} must be an ISO 8601 date-time with a zone.")
    if shipped > datetime.now(timezone.utc):
        raise _Invalid("packageDetail.shipDate cannot be in the future.")
    items = package.get("orderItems")
    if not isinstance(items, list) or not items:
        raise _Invalid("packageDetail.orderItems is required and must list at least one item.")
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise _Invalid(f"packageDetail.orderItems[{n}] must be an object.")
        extra = set(item) - {"orderItemId", "quantity", "transparencyCodes"}
        if extra:
            raise _Invalid(f"Unknown field(s) in packageDetail.orderItems[{n}]: {', '.join(sorted(extra))}.")
        if not isinstance(item.get("orderItemId"), str) or not item["orderItemId"]:
            raise _Invalid(f"packageDetail.orderItems[{n}].orderItemId is required and must be a string.")
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise _Invalid(f"packageDetail.orderItems[{n}].quantity must be a whole number of at least 1.")
    return package


def _check_patch_request(body: Any) -> None:
    """The model's ListingsItemPatchRequest: productType and at least one well-formed PatchOperation."""
    if not isinstance(body, dict):
        raise _Invalid("The request body must be a ListingsItemPatchRequest object.")
    if not isinstance(body.get("productType"), str) or not body["productType"]:
        raise _Invalid("productType is required.")
    patches = body.get("patches")
    if not isinstance(patches, list) or not patches:
        raise _Invalid("patches is required and must contain at least one patch operation.")
    for n, patch in enumerate(patches):
        if not isinstance(patch, dict):
            raise _Invalid(f"patches[{n}] must be an object.")
        if patch.get("op") not in _PATCH_OPS:
            raise _Invalid(f"patches[{n}].op {patch.get('op')!r} is not one of {', '.join(_PATCH_OPS)}.")
        if not isinstance(patch.get("path"), str) or not patch["path"].startswith("/attributes/"):
            raise _Invalid(f"patches[{n}].path must be a JSON pointer to a top-level attribute, e.g. "
                           "/attributes/fulfillment_availability.")
        value = patch.get("value")
        if patch["op"] != "delete" and value is None:
            raise _Invalid(f"patches[{n}].value is required for {patch['op']}.")
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, dict) for v in value)):
            raise _Invalid(f"patches[{n}].value must be an array of objects.")


def _issue(message: str, attribute: str, code: str = "90220") -> dict[str, Any]:
    return {"code": code, "message": message, "severity": "ERROR", "attributeNames": [attribute],
            "categories": ["INVALID_ATTRIBUTE"]}


def _patch_issues(patches: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], tuple[str, int | None] | None]:
    """Amazon validates attribute values after accepting the request: problems are issues of an INVALID
    submission. Returns the issues and, when valid, the fulfilment (channel, quantity) to apply."""
    issues: list[dict[str, Any]] = []
    change: tuple[str, int | None] | None = None
    for patch in patches:
        attribute = patch["path"][len("/attributes/"):]
        if attribute != "fulfillment_availability":
            issues.append(_issue(f"The attribute '{attribute}' is valid on Amazon but not implemented by the "
                                 "ledgerlink sandbox.", attribute, code="90000900"))
            continue
        if patch["op"] == "delete":
            change = ("DEFAULT", 0)
            continue
        for entry in patch["value"]:
            channel = entry.get("fulfillment_channel_code")
            quantity = entry.get("quantity")
            if not isinstance(channel, str) or not channel:
                issues.append(_issue("'fulfillment_channel_code' is required but not supplied.", attribute))
            elif channel != "DEFAULT":
                issues.append(_issue(f"The value '{channel}' provided for 'fulfillment_channel_code' is invalid: "
                                     "merchant-fulfilled quantities use DEFAULT.", attribute))
            elif not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
                issues.append(_issue(f"The value '{quantity}' provided for 'quantity' is invalid: it must be a whole "
                                     "number greater than or equal to 0.", attribute))
            else:
                change = (channel, quantity)
    return issues, (None if issues else change)


def routes(api: Any) -> list[Route]:
    return _Writes(api).routes()
