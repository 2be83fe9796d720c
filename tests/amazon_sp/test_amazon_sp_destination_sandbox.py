"""The writes' sandbox against Amazon's own models: what the destination sends validates against the request
schemas of confirmShipment and patchListingsItem, what the sandbox answers against the response schemas (strictly:
a field the model does not define fails), and the sandbox refuses what Amazon refuses."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from ledgerlink import InventoryLevel, OutboundRecord, RetryPolicy, Shipment, ShipmentLine, WriteContext
from ledgerlink_amazon_sp import AmazonSellingPartnerDestination
from amazon_models import strict  # noqa: E402

SELLER = "A2SANDBOXSELLER"
CONFIRM = "/orders/v0/orders/{orderId}/shipmentConfirmation"
ORDER = "/orders/v0/orders/{orderId}"
LISTING = "/listings/2021-08-01/items/{sellerId}/{sku}"



class Model:
    """One Swagger 2.0 model: validate a request body or a reply against the schema it names."""

    def __init__(self, path: Path):
        self.doc = json.loads(path.read_text())
        self.definitions = strict(copy.deepcopy(self.doc["definitions"]))

    def _check(self, schema: dict[str, Any], body: Any) -> None:
        jsonschema.Draft4Validator({**strict(copy.deepcopy(schema)), "definitions": self.definitions}).validate(body)

    def request(self, path: str, method: str, body: Any) -> None:
        [param] = [p for p in self.doc["paths"][path][method]["parameters"] if p["in"] == "body"]
        self._check(param["schema"], body)

    def response(self, path: str, method: str, status: int, body: Any) -> None:
        self._check(self.doc["paths"][path][method]["responses"][str(status)]["schema"], body)


@pytest.fixture(scope="module")
def orders(reference_dir: Path) -> Model:
    return Model(reference_dir / "amazon-sp-api" / "models" / "ordersV0.json")


@pytest.fixture(scope="module")
def listings(reference_dir: Path) -> Model:
    return Model(reference_dir / "amazon-sp-api" / "models" / "listingsItems_2021-08-01.json")


def token(url: str) -> dict[str, str]:
    body = httpx.post(f"{url}/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": "Atzr|r",
                                                    "client_id": "c", "client_secret": "s"}).json()
    return {"x-amz-access-token": body["access_token"]}


def mfn_order(book: Any, status: str = "Unshipped") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    for i in range(book.count):
        order, items = book.order_and_items(i)
        if order["FulfillmentChannel"] == "MFN" and order["OrderStatus"] == status:
            return order, items
    raise AssertionError("no such order in the seed")


def confirmation(order: dict[str, Any], items: list[dict[str, Any]], **package: Any) -> dict[str, Any]:
    detail = {"packageReferenceId": "1", "carrierCode": "UPS", "carrierName": "UPS", "trackingNumber": "1Z999",
              "shipDate": (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "orderItems": [{"orderItemId": i["OrderItemId"], "quantity": i["QuantityOrdered"]} for i in items]}
    detail.update(package)
    return {"marketplaceId": order["MarketplaceId"],
            "packageDetail": {k: v for k, v in detail.items() if v is not None}}


def test_what_the_destination_sends_and_what_the_sandbox_answers_match_the_models(
        sandbox, make_config, recording_transport, orders, listings):
    with sandbox(orders=150) as (url, sb):
        order, items = mfn_order(sb.api.book)
        dest = AmazonSellingPartnerDestination(retry=RetryPolicy(base_delay=0.001), transport=recording_transport)
        dest.open(dest.parse_config(make_config(url, seller_id=SELLER)), WriteContext())
        objects = [
            Shipment(source="bigcommerce", shipment_id="77", order_id=order["AmazonOrderId"], carrier="Purolator",
                     tracking_number="PUR123", shipped_at=datetime.now(timezone.utc) - timedelta(hours=1),
                     lines=[ShipmentLine(sku=i["SellerSKU"], quantity=Decimal(i["QuantityOrdered"])) for i in items]),
            InventoryLevel(source="bigcommerce", sku="LL-KTL-GOOSE", location="1", on_hand=Decimal(5),
                           as_of=datetime(2026, 3, 1, tzinfo=timezone.utc))]
        for obj in objects:
            [w] = dest.plan(obj, None)
            [result] = dest.write_batch(w.stream, [OutboundRecord(key=w.key, stream=w.stream, data=w.data)])
            assert result.ok, result.error
        dest.close()
        sent = {(r.method, r.url.path): r for r in recording_transport.requests}
        order_id, sku = order["AmazonOrderId"], "LL-KTL-GOOSE"
        body = json.loads(sent[("POST", CONFIRM.format(orderId=order_id))].content)
        orders.request(CONFIRM, "post", body)
        assert body["marketplaceId"] == order["MarketplaceId"] and body["packageDetail"]["carrierCode"] == "Purolator"
        patch = json.loads(sent[("PATCH", LISTING.format(sellerId=SELLER, sku=sku))].content)
        listings.request(LISTING, "patch", patch)

        headers = token(url)
        got = httpx.get(f"{url}{ORDER.format(orderId=order_id)}", headers=headers)
        orders.response(ORDER, "get", 200, got.json())
        assert got.json()["payload"]["OrderStatus"] == "Shipped"
        item = httpx.get(f"{url}{LISTING.format(sellerId=SELLER, sku=sku)}", headers=headers, params={
            "marketplaceIds": "ATVPDKIKX0DER", "includedData": "summaries,fulfillmentAvailability,issues"})
        listings.response(LISTING, "get", 200, item.json())
        assert item.json()["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 5}]
        answer = httpx.patch(f"{url}{LISTING.format(sellerId=SELLER, sku=sku)}", headers=headers,
                             params={"marketplaceIds": "ATVPDKIKX0DER"}, json=patch)
        listings.response(LISTING, "patch", 200, answer.json())
        assert answer.json()["status"] == "ACCEPTED" and answer.json()["issues"] == []


def test_the_models_own_confirm_shipment_examples_get_the_models_answers(sandbox, orders):
    """Amazon's `x-amzn-api-sandbox` cases: the valid body is accepted (204), the one with shipDate 02/21/2022
    refused (400). Order and item ids are swapped for the seeded ones: the example's order is not this seller's."""
    cases = orders.doc["paths"][CONFIRM]["post"]["responses"]
    good = cases["204"]["x-amzn-api-sandbox"]["static"][0]["request"]["parameters"]["body"]["value"]
    bad = cases["400"]["x-amzn-api-sandbox"]["static"][0]["request"]["parameters"]["body"]["value"]
    with sandbox(orders=150) as (url, sb):
        order, items = mfn_order(sb.api.book)
        headers = token(url)

        def send(example: dict[str, Any]) -> httpx.Response:
            body = copy.deepcopy(example)
            body["marketplaceId"] = order["MarketplaceId"]
            body["packageDetail"]["orderItems"][0]["orderItemId"] = items[0]["OrderItemId"]
            orders.request(CONFIRM, "post", body)
            return httpx.post(f"{url}{CONFIRM.format(orderId=order['AmazonOrderId'])}", json=body, headers=headers)

        refused, accepted = send(bad), send(good)
    assert refused.status_code == 400 and "shipDate" in refused.json()["errors"][0]["message"]
    orders.response(CONFIRM, "post", 400, refused.json())
    assert accepted.status_code == 204 and accepted.content == b""


@pytest.mark.parametrize("change, message", [
    ({"packageReferenceId": "abc"}, "PackageReferenceId: is invalid, must be a positive numeric value."),
    ({"trackingNumber": None}, "packageDetail.trackingNumber is required"),
    ({"carrierCode": "Other", "carrierName": None}, "carrierName is required when carrierCode is Other"),
    ({"shipDate": "2022-02-21"}, "must be an ISO 8601 date-time"),
    ({"orderItems": []}, "orderItems is required"),
    ({"orderItems": [{"orderItemId": "00000000000000", "quantity": 1}]}, "OrderItemId 00000000000000 is invalid"),
    ({"trackingNo": "1Z"}, "Unknown field(s) in packageDetail: trackingNo"),
])
def test_confirm_shipment_refuses_what_amazon_refuses(sandbox, orders, change, message):
    with sandbox(orders=150) as (url, sb):
        order, items = mfn_order(sb.api.book)
        body = confirmation(order, items, **change)
        reply = httpx.post(f"{url}{CONFIRM.format(orderId=order['AmazonOrderId'])}", json=body, headers=token(url))
        assert reply.status_code == 400 and message in reply.json()["errors"][0]["message"], reply.text
        orders.response(CONFIRM, "post", 400, reply.json())
        assert sb.api.book.order(sb.api.book.index_of(order["AmazonOrderId"]))["OrderStatus"] == "Unshipped"


def test_confirm_shipment_refuses_fba_canceled_foreign_marketplace_excess_and_garbage(sandbox, orders):
    with sandbox(orders=200) as (url, sb):
        book, headers = sb.api.book, token(url)
        order, items = mfn_order(book)
        path = CONFIRM.format(orderId=order["AmazonOrderId"])

        def post(body: Any, to: str = path, **kw: Any) -> httpx.Response:
            return httpx.post(f"{url}{to}", headers=headers, **({"json": body} if body is not None else kw))

        afn = next(o for o in book if o["FulfillmentChannel"] == "AFN" and o["OrderStatus"] == "Shipped")
        canceled, canceled_items = mfn_order(book, "Canceled")
        other_market = "A2EUQ1WTGCTBG2" if order["MarketplaceId"] == "ATVPDKIKX0DER" else "ATVPDKIKX0DER"
        too_many = confirmation(order, items)
        too_many["packageDetail"]["orderItems"][0]["quantity"] += 1
        replies = {
            "fba": post(confirmation(afn, book.items(book.index_of(afn["AmazonOrderId"]))),
                        CONFIRM.format(orderId=afn["AmazonOrderId"])),
            "canceled": post(confirmation(canceled, canceled_items, orderItems=[  # Amazon zeroes a canceled quantity
                {"orderItemId": canceled_items[0]["OrderItemId"], "quantity": 1}]),
                CONFIRM.format(orderId=canceled["AmazonOrderId"])),
            "market": post({**confirmation(order, items), "marketplaceId": other_market}),
            "excess": post(too_many),
            "malformed": post(None, content=b'{"marketplaceId": "ATVPDKIKX0DER", "packageDetail": {'),
            "unknown": post(confirmation(order, items), CONFIRM.format(orderId="111-0000000-0000000")),
            "badid": post(confirmation(order, items), CONFIRM.format(orderId="111-ABC")),
        }
        lookups = {status: httpx.get(f"{url}{ORDER.format(orderId=oid)}", headers=headers)
                   for status, oid in ((404, "111-0000000-0000000"), (400, "111-ABC"))}
        package = confirmation(order, items)
        ok = post(package)
        same = post(package)
        second = post(confirmation(order, items, packageReferenceId="2"))
    expect = {"fba": (400, "fulfilled by Amazon (AFN)"), "canceled": (400, "is Canceled and cannot be shipped"),
              "market": (400, "is not the marketplace of order"), "excess": (400, "exceeds the"),
              "malformed": (400, "not valid JSON"), "unknown": (404, "was not found"), "badid": (400, "3-7-7")}
    for name, (status, text) in expect.items():
        reply = replies[name]
        assert reply.status_code == status and text in reply.json()["errors"][0]["message"], (name, reply.text)
        orders.response(CONFIRM, "post", status, reply.json())
    for status, reply in lookups.items():
        assert reply.status_code == status
        orders.response(ORDER, "get", status, reply.json())
    assert ok.status_code == 204 and same.status_code == 204  # the same package again changes nothing
    assert second.status_code == 400
    assert second.json()["errors"][0]["message"] == ("Failed to create package due to not finding a matching "
                                                     "package or order already fulfilled.")


def test_patch_listings_item_refuses_bad_requests_and_answers_invalid_values_with_issues(sandbox, listings):
    with sandbox(orders=1, seller_id=SELLER) as (url, _):
        headers, path = token(url), LISTING.format(sellerId=SELLER, sku="LL-MUG-11OZ")
        good = {"productType": "HOME", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                                                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 3}]}]}

        def patch(body: Any, *, to: str = path, params: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
            params = {"marketplaceIds": "ATVPDKIKX0DER"} if params is None else params
            return httpx.patch(f"{url}{to}", headers=headers, params=params,
                               **({"json": body} if body is not None else kw))

        negative = copy.deepcopy(good)
        negative["patches"][0]["value"][0]["quantity"] = -1
        refused = {
            "no marketplace": patch(good, params={}),
            "bad op": patch({**good, "patches": [{**good["patches"][0], "op": "upsert"}]}),
            "no patches": patch({"productType": "HOME", "patches": []}),
            "no product type": patch({"patches": good["patches"]}),
            "malformed": patch(None, content=b"{not json"),
            "mode": patch(good, params={"marketplaceIds": "ATVPDKIKX0DER", "mode": "LIVE"}),
        }
        other_seller = patch(good, to=LISTING.format(sellerId="A9OTHER", sku="LL-MUG-11OZ"))
        missing = patch(good, to=LISTING.format(sellerId=SELLER, sku="NO-SUCH"))
        invalid = patch(negative)
        preview = patch(good, params={"marketplaceIds": "ATVPDKIKX0DER", "mode": "VALIDATION_PREVIEW"})
        state = httpx.get(f"{url}/_sandbox/listings/LL-MUG-11OZ").json()
    for name, reply in refused.items():
        assert reply.status_code == 400, (name, reply.text)
        listings.response(LISTING, "patch", 400, reply.json())
    assert other_seller.status_code == 403 and missing.status_code == 400  # the model has no 404 for a patch
    listings.response(LISTING, "patch", 400, missing.json())
    listings.response(LISTING, "patch", 403, other_seller.json())
    assert invalid.status_code == 200 and invalid.json()["status"] == "INVALID"
    listings.response(LISTING, "patch", 200, invalid.json())
    assert "'quantity' is invalid" in invalid.json()["issues"][0]["message"]
    assert preview.json()["status"] == "VALID"
    assert state["quantity"] == 10 and state["submissions"] == 0  # nothing above changed the listing
