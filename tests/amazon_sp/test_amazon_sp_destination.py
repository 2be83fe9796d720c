"""Writes back to Amazon through the sandbox over loopback: FBM shipment confirmations (confirmShipment) and FBM
quantities (patchListingsItem), each idempotent, each refusal a dead letter that says what to fix."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ledgerlink import (
    InventoryLevel, OutboundRecord, PermanentError, RecordError, RetryPolicy, Shipment, ShipmentLine, WriteContext,
)
from ledgerlink_amazon_sp import AmazonSellingPartnerDestination
from ledgerlink_amazon_sp.destination import QUANTITIES, SHIPMENTS, package_reference_id

FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01)
SELLER = "A2SANDBOXSELLER"
SHIPPED_AT = datetime.now(timezone.utc) - timedelta(hours=2)


def find_order(book: Any, *, channel: str = "MFN", status: str = "Unshipped", lines: int = 1) -> tuple[int, dict, list]:
    """The first seeded order with this fulfilment channel, status and at least `lines` items."""
    for i in range(book.count):
        order, items = book.order_and_items(i)
        if order["FulfillmentChannel"] == channel and order["OrderStatus"] == status and len(items) >= lines:
            return i, order, items
    raise AssertionError(f"no {channel} {status} order with {lines} lines in the seed")


def open_destination(url: str, make_config: Any, transport: httpx.BaseTransport | None = None,
                     **overrides: Any) -> AmazonSellingPartnerDestination:
    dest = AmazonSellingPartnerDestination(retry=FAST_RETRY, transport=transport)
    dest.open(dest.parse_config(make_config(url, seller_id=SELLER, **overrides)), WriteContext())
    return dest


def shipment(order_id: str, lines: list[ShipmentLine], *, shipment_id: str = "PKG-1", tracking: str | None = "1Z999",
             carrier: str = "UPS") -> Shipment:
    return Shipment(source="bigcommerce", shipment_id=shipment_id, order_id=order_id, carrier=carrier,
                    tracking_number=tracking, shipped_at=SHIPPED_AT, lines=lines)


def write_one(dest: AmazonSellingPartnerDestination, obj: Any) -> Any:
    [planned] = dest.plan(obj, None)
    [result] = dest.write_batch(planned.stream, [OutboundRecord(key=planned.key, stream=planned.stream,
                                                                data=planned.data)])
    return result


def calls(url: str, operation: str) -> dict[str, int]:
    return httpx.get(f"{url}/_sandbox/stats").json()["calls"].get(operation, {})


def listing(url: str, sku: str) -> dict[str, Any]:
    return httpx.get(f"{url}/_sandbox/listings/{sku}").json()


# ------------------------------------------------------------------------------------------- planning


def test_a_shipment_plans_a_confirmation_with_carrier_tracking_and_a_stable_package_reference():
    s = shipment("112-0000001-0000001", [ShipmentLine(sku="LL-MUG-11OZ", quantity=Decimal(2)),
                                         ShipmentLine(line_id="12345678901234", quantity=Decimal(1))],
                 carrier="Royal Mail")
    [write] = AmazonSellingPartnerDestination().plan(s, None)
    assert write.stream == SHIPMENTS and write.key == f"{SHIPMENTS}:bigcommerce/shipment/PKG-1"
    assert write.data == {
        "order_id": "112-0000001-0000001", "package_reference_id": package_reference_id("PKG-1", s.natural_key),
        "carrier_code": "Royal Mail", "carrier_name": "Royal Mail", "tracking_number": "1Z999",
        "ship_date": SHIPPED_AT.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "items": [{"sku": "LL-MUG-11OZ", "quantity": 2}, {"order_item_id": "12345678901234", "quantity": 1}]}
    assert write.data["package_reference_id"].isdigit() and int(write.data["package_reference_id"]) > 0
    assert package_reference_id("4711", "x") == "4711"
    other = shipment("112-0000001-0000001", s.lines, carrier="Speedy Parcels Ltd")
    [w2] = AmazonSellingPartnerDestination().plan(other, None)
    assert (w2.data["carrier_code"], w2.data["carrier_name"]) == ("Other", "Speedy Parcels Ltd")


def test_a_shipment_without_tracking_or_with_a_fractional_quantity_is_refused_at_planning():
    dest = AmazonSellingPartnerDestination()
    with pytest.raises(RecordError) as err:
        dest.plan(shipment("112-0000001-0000001", [ShipmentLine(sku="A", quantity=Decimal(1))], tracking=None), None)
    assert err.value.field == "tracking_number" and err.value.key == "bigcommerce/shipment/PKG-1"
    assert "tracking number" in str(err.value) and err.value.hint
    with pytest.raises(RecordError) as err:
        dest.plan(shipment("112-0000001-0000001", [ShipmentLine(sku="A", quantity=Decimal("1.5"))]), None)
    assert err.value.field == "lines[0].quantity"


def test_inventory_levels_plan_fbm_quantities_but_never_echo_amazon_stock():
    dest = AmazonSellingPartnerDestination()
    when = datetime(2026, 3, 1, tzinfo=timezone.utc)
    level = InventoryLevel(source="bigcommerce", sku="LL-MUG-11OZ", location="1", on_hand=Decimal(9),
                           available=Decimal(7), as_of=when)
    [write] = dest.plan(level, None)
    assert write.stream == QUANTITIES and write.data == {"sku": "LL-MUG-11OZ", "quantity": 7}
    assert write.key == f"{QUANTITIES}:bigcommerce/inventory_level/1/LL-MUG-11OZ@{when.isoformat()}"
    oversold = level.model_copy(update={"available": Decimal(-3)})
    assert dest.plan(oversold, None)[0].data["quantity"] == 0
    fba = InventoryLevel(source="amazon_sp", sku="LL-MUG-11OZ", location="AMAZON_NA", on_hand=Decimal(5), as_of=when)
    assert dest.plan(fba, None) == []

    class Ctx:
        options = {"locations": ["2"]}
        cache: dict = {}

    assert dest.plan(level, Ctx()) == []  # type: ignore[arg-type]


def test_discover_lists_both_writes_with_matching_keys():
    ops = {o.object_name: o for o in AmazonSellingPartnerDestination().discover().operations}
    assert ops[SHIPMENTS].matching_keys == [["order_id"], ["package_reference_id"]]
    assert ops[QUANTITIES].matching_keys == [["sku"]]


# ------------------------------------------------------------------------------------------- shipments


def test_a_confirmation_ships_the_order_on_amazon_and_is_never_sent_twice(sandbox, make_config):
    with sandbox(orders=150) as (url, sb):
        index, order, items = find_order(sb.api.book)
        dest = open_destination(url, make_config)
        # line ids from another system (a store's order product ids) are not Amazon's: the SKU finds the item
        lines = [ShipmentLine(line_id=str(4711 + n), sku=i["SellerSKU"], quantity=Decimal(i["QuantityOrdered"]))
                 for n, i in enumerate(items)]
        first = write_one(dest, shipment(order["AmazonOrderId"], lines))
        again = write_one(dest, shipment(order["AmazonOrderId"], lines))
        dest.close()
        assert first.ok and first.created, first.error
        assert again.ok and not again.created and again.destination_id == first.destination_id
        assert sb.api.book.order(index)["OrderStatus"] == "Shipped"
        assert calls(url, "confirmShipment") == {"204": 1}


def test_a_package_with_some_items_ships_part_of_the_order(sandbox, make_config):
    with sandbox(orders=300, lines_per_order=2) as (url, sb):
        index, order, items = find_order(sb.api.book, lines=2)
        dest = open_destination(url, make_config)
        one = write_one(dest, shipment(order["AmazonOrderId"], [ShipmentLine(
            line_id=items[0]["OrderItemId"], quantity=Decimal(items[0]["QuantityOrdered"]))], shipment_id="1"))
        assert one.ok and sb.api.book.order(index)["OrderStatus"] == "PartiallyShipped"
        two = write_one(dest, shipment(order["AmazonOrderId"], [ShipmentLine(
            sku=items[1]["SellerSKU"], quantity=Decimal(items[1]["QuantityOrdered"]))], shipment_id="2"))
        dest.close()
        assert two.ok and two.created and sb.api.book.order(index)["OrderStatus"] == "Shipped"
        assert set(sb.api.book.changes[index]) == {"OrderStatus"}


def test_fba_unknown_and_foreign_items_are_dead_letters_with_a_fix(sandbox, make_config):
    with sandbox(orders=150) as (url, sb):
        _, fba, fba_items = find_order(sb.api.book, channel="AFN", status="Shipped")
        _, mfn, mfn_items = find_order(sb.api.book)
        dest = open_destination(url, make_config)
        line = [ShipmentLine(sku=fba_items[0]["SellerSKU"], quantity=Decimal(1))]
        afn = write_one(dest, shipment(fba["AmazonOrderId"], line))
        unknown = write_one(dest, shipment("111-0000000-0000000", line))
        foreign = write_one(dest, shipment(mfn["AmazonOrderId"], [ShipmentLine(sku="NOT-IN-ORDER",
                                                                                quantity=Decimal(1))]))
        too_many = write_one(dest, shipment(mfn["AmazonOrderId"], [ShipmentLine(
            sku=mfn_items[0]["SellerSKU"], quantity=Decimal(mfn_items[0]["QuantityOrdered"] + 5))]))
        not_amazon = write_one(dest, shipment("100234", line))
        dest.close()
        assert isinstance(afn.error, RecordError) and not afn.retry
        assert "fulfilled by Amazon (FBA)" in str(afn.error) and "FBM" in afn.error.hint
        assert isinstance(unknown.error, PermanentError) and unknown.error.status == 404 and not unknown.retry
        assert unknown.error.remote_message == "Order 111-0000000-0000000 was not found."
        assert "no order 111-0000000-0000000" in unknown.error.hint
        assert foreign.error.field == "items[0].sku" and "NOT-IN-ORDER" in str(foreign.error)
        assert too_many.error.field == "items[0].quantity"
        assert not_amazon.error.field == "order_id" and "3-7-7" in not_amazon.error.hint
        assert "204" not in calls(url, "confirmShipment")  # nothing refused here reached Amazon's confirmShipment


def test_amazons_refusal_is_a_dead_letter_with_its_message_verbatim(sandbox, make_config):
    """The first package (made in Seller Central, say) shipped every unit of one item: Amazon refuses a second
    package with that item, and its message reaches the dead letter unchanged."""
    with sandbox(orders=300, lines_per_order=2) as (url, sb):
        _, order, items = find_order(sb.api.book, lines=2)
        dest = open_destination(url, make_config)
        item = items[0]
        first = write_one(dest, shipment(order["AmazonOrderId"], [ShipmentLine(
            line_id=item["OrderItemId"], quantity=Decimal(item["QuantityOrdered"]))], shipment_id="1"))
        second = write_one(dest, shipment(order["AmazonOrderId"], [ShipmentLine(
            line_id=item["OrderItemId"], quantity=Decimal(1))], shipment_id="2"))
        dest.close()
        assert first.ok
        assert isinstance(second.error, PermanentError) and second.error.status == 400 and not second.retry
        assert second.error.code == "InvalidInput"
        assert second.error.remote_message == (f"Quantity 1 for OrderItemId {item['OrderItemId']} exceeds the 0 "
                                               "unit(s) left to ship.")
        assert second.error.hint and "dlq retry" in second.error.hint


def test_an_already_fulfilled_answer_for_an_order_that_is_now_shipped_is_success_not_a_dead_letter():
    """Amazon answers "already fulfilled" when the confirmation landed before (a timeout after sending, or the
    seller confirmed it in Seller Central meanwhile): the order is shipped, so the write is done, not created."""
    order_id = "112-1234567-7654321"
    looks = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "Atza|x", "expires_in": 3600, "token_type": "bearer"})
        if request.url.path == f"/orders/v0/orders/{order_id}":
            looks["n"] += 1
            status = "Unshipped" if looks["n"] == 1 else "Shipped"
            return httpx.Response(200, json={"payload": {"AmazonOrderId": order_id, "FulfillmentChannel": "MFN",
                                                         "OrderStatus": status, "MarketplaceId": "ATVPDKIKX0DER"}})
        if request.url.path.endswith("/orderItems"):
            return httpx.Response(200, json={"payload": {"AmazonOrderId": order_id, "OrderItems": [
                {"OrderItemId": "11111111111111", "SellerSKU": "SKU-1", "QuantityOrdered": 1}]}})
        return httpx.Response(400, json={"errors": [{"code": "InvalidInput", "message": (
            "Failed to create package due to not finding a matching package or order already fulfilled."),
            "details": ""}]})

    dest = AmazonSellingPartnerDestination(retry=FAST_RETRY, transport=httpx.MockTransport(handler))
    dest.open(dest.parse_config({"endpoint": "https://sp.test", "lwa_endpoint": "https://sp.test/token",
                                 "client_id": "c", "client_secret": "s", "refresh_token": "Atzr|r",
                                 "marketplace_ids": ["ATVPDKIKX0DER"], "seller_id": SELLER}), WriteContext())
    result = write_one(dest, shipment(order_id, [ShipmentLine(sku="SKU-1", quantity=Decimal(1))]))
    dest.close()
    assert result.ok and not result.created and looks["n"] == 2


def test_a_403_for_a_missing_role_is_a_dead_letter_that_names_the_role(sandbox, make_config):
    with sandbox(orders=150) as (url, sb):
        _, order, items = find_order(sb.api.book)
        # LWA refreshes once on 403 (an expired token looks the same): both answers refuse
        httpx.post(f"{url}/_sandbox/faults", json={"operation": "confirmShipment", "status": 403, "count": 2})
        dest = open_destination(url, make_config)
        result = write_one(dest, shipment(order["AmazonOrderId"], [ShipmentLine(sku=items[0]["SellerSKU"],
                                                                                quantity=Decimal(1))]))
        dest.close()
        assert isinstance(result.error, PermanentError) and result.error.status == 403 and not result.retry
        assert result.error.code == "Unauthorized" and "role" in result.error.hint


# ------------------------------------------------------------------------------------------- quantities


def test_an_fbm_quantity_is_patched_once_and_read_back(sandbox, make_config, recording_transport):
    with sandbox(orders=5, seller_id=SELLER) as (url, sb):
        before = listing(url, "LL-MUG-11OZ")
        assert before["fulfillment_channel_code"] == "DEFAULT" and before["quantity"] != 42
        dest = open_destination(url, make_config, transport=recording_transport)
        level = InventoryLevel(source="bigcommerce", sku="LL-MUG-11OZ", location="1", on_hand=Decimal(42),
                               as_of=datetime(2026, 3, 1, tzinfo=timezone.utc))
        first = write_one(dest, level)
        again = write_one(dest, level)
        dest.close()
        assert first.ok and first.created and first.destination_id == "LL-MUG-11OZ" and first.version
        assert again.ok and not again.created
        after = listing(url, "LL-MUG-11OZ")
        assert after["quantity"] == 42 and after["submissions"] == 1
        [patch] = [r for r in recording_transport.requests if r.method == "PATCH"]
        assert patch.url.path == f"/listings/2021-08-01/items/{SELLER}/LL-MUG-11OZ"
        assert patch.url.params["marketplaceIds"] == "ATVPDKIKX0DER,A2EUQ1WTGCTBG2"
        assert json.loads(patch.content) == {"productType": "HOME", "patches": [{
            "op": "replace", "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 42}]}]}


def test_fba_and_unlisted_skus_are_left_alone_and_an_invalid_answer_carries_amazons_issues(sandbox, make_config):
    """A store lists only some SKUs on Amazon, some of them FBA: those are skipped (logged), not dead letters on
    every sync. A listing Amazon refuses the quantity for is a dead letter with Amazon's issues, verbatim."""
    issue = {"code": "99300", "message": "Approval is required to list in this category.", "severity": "ERROR",
             "attributeNames": [], "categories": ["QUALIFICATION_REQUIRED"]}
    with sandbox(orders=5) as (url, sb):
        httpx.post(f"{url}/_sandbox/listings/LL-TEA-EARL-100", json={"issues": [issue]})
        dest = open_destination(url, make_config)
        when = datetime(2026, 3, 1, tzinfo=timezone.utc)

        def level(sku: str) -> InventoryLevel:
            return InventoryLevel(source="bigcommerce", sku=sku, location="1", on_hand=Decimal(3), as_of=when)

        class Strict:
            options = {"unlisted_skus": "dead_letter"}
            cache: dict = {}

        fba = write_one(dest, level("LL-MUG-15OZ"))  # odd catalogue entries are FBA in the sandbox
        unlisted = write_one(dest, level("NO-SUCH-SKU"))
        [strict] = dest.plan(level("NO-SUCH-SKU"), Strict())  # type: ignore[arg-type]
        [unlisted_strict] = dest.write_batch(QUANTITIES, [OutboundRecord(key=strict.key, stream=QUANTITIES,
                                                                         data=strict.data)])
        invalid = write_one(dest, level("LL-TEA-EARL-100"))
        dest.close()
        assert fba.ok and not fba.created and fba.destination_id is None
        assert unlisted.ok and not unlisted.created and unlisted.destination_id is None
        assert strict.data == {"sku": "NO-SUCH-SKU", "quantity": 3, "unlisted": "dead_letter"}
        assert unlisted_strict.error.field == "sku" and "no Amazon listing" in str(unlisted_strict.error)
        assert isinstance(invalid.error, PermanentError) and not invalid.retry and invalid.error.code == "99300"
        assert json.loads(invalid.error.remote_message) == [issue]
        assert "Approval is required to list in this category." in str(invalid.error)
        assert listing(url, "LL-MUG-15OZ")["quantity"] is None and listing(url, "LL-MUG-15OZ")["submissions"] == 0
        assert listing(url, "LL-TEA-EARL-100")["submissions"] == 0
        assert calls(url, "patchListingsItem") == {"200": 1}  # only the refused one was sent


def test_throttled_patches_back_off_and_land_once(sandbox, make_config):
    with sandbox(orders=5) as (url, sb):
        httpx.post(f"{url}/_sandbox/faults", json={"operation": "patchListingsItem", "status": 429, "count": 2})
        dest = open_destination(url, make_config)
        result = write_one(dest, InventoryLevel(source="bigcommerce", sku="LL-TEA-EARL-100", location="1",
                                                on_hand=Decimal(11), as_of=datetime(2026, 3, 1, tzinfo=timezone.utc)))
        throttled = dest.http.stats["throttled"] if dest.http else None
        dest.close()
        assert result.ok and throttled == 2
        assert calls(url, "patchListingsItem") == {"429": 2, "200": 1}
        assert listing(url, "LL-TEA-EARL-100")["quantity"] == 11


def test_an_unknown_object_type_is_refused_per_record(sandbox, make_config):
    with sandbox(orders=1) as (url, _):
        dest = open_destination(url, make_config)
        [result] = dest.write_batch("refunds", [OutboundRecord(key="k", stream="refunds", data={})])
        dest.close()
        assert not result.ok and "cannot write 'refunds'" in str(result.error)


def test_every_error_amazon_lists_reaches_the_dead_letter_verbatim():
    """Amazon's `errors[]`: each code, message and details, in order, in the dead letter's remote message."""
    order_id = "112-1234567-7654321"
    errors = [{"code": "InvalidInput", "message": "Invalid Input", "details": "shipDate must be ISO 8601"},
              {"code": "InvalidCarrier", "message": "carrierCode FooPost is not supported", "details": ""}]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "Atza|x", "expires_in": 3600, "token_type": "bearer"})
        if request.url.path == f"/orders/v0/orders/{order_id}":
            return httpx.Response(200, json={"payload": {"AmazonOrderId": order_id, "FulfillmentChannel": "MFN",
                                                         "OrderStatus": "Unshipped", "MarketplaceId": "ATVPDKIKX0DER"}})
        if request.url.path.endswith("/orderItems"):
            return httpx.Response(200, json={"payload": {"AmazonOrderId": order_id, "OrderItems": [
                {"OrderItemId": "11111111111111", "SellerSKU": "SKU-1", "QuantityOrdered": 1}]}})
        return httpx.Response(400, json={"errors": errors})

    dest = AmazonSellingPartnerDestination(retry=FAST_RETRY, transport=httpx.MockTransport(handler))
    dest.open(dest.parse_config({"endpoint": "https://sp.test", "lwa_endpoint": "https://sp.test/token",
                                 "client_id": "c", "client_secret": "s", "refresh_token": "Atzr|r",
                                 "marketplace_ids": ["ATVPDKIKX0DER"], "seller_id": SELLER}), WriteContext())
    result = write_one(dest, shipment(order_id, [ShipmentLine(sku="SKU-1", quantity=Decimal(1))], carrier="FooPost"))
    dest.close()
    assert isinstance(result.error, PermanentError) and result.error.code == "InvalidInput"
    assert result.error.remote_message == ("InvalidInput: Invalid Input (shipDate must be ISO 8601); "
                                           "InvalidCarrier: carrierCode FooPost is not supported")
    assert result.error.to_dict()["remote_message"] == result.error.remote_message
