"""Orders and the rest → the canonical model; bad input is a RecordError naming the record and the field."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from ledgerlink import RecordError
from ledgerlink_bigcommerce.normalise import (
    normalise_inventory, normalise_order, normalise_refund, normalise_shipment,
)
from ledgerlink_bigcommerce.sandbox.seed import StoreBook


@pytest.fixture(scope="module")
def book():
    return StoreBook(orders_count=150, seed=7)


def related(book, oid):
    return {"order_products": book.order_products[oid], "order_shipping_addresses": book.shipping_addresses[oid],
            "order_coupons": book.coupons[oid], "order_transactions": book.transactions[oid]}


def test_every_seeded_order_normalises_and_adds_up(book):
    for oid, order in book.orders.items():
        [o] = normalise_order(order, related(book, oid))
        assert o.grand_total.amount == Decimal(order["total_inc_tax"])
        assert o.total("discount").amount == Decimal(order["coupon_discount"]) + Decimal(order["discount_amount"])
        assert o.total("shipping").amount == Decimal(order["shipping_cost_ex_tax"])
        assert o.total("tax").amount + o.total("shipping_tax").amount == Decimal(order["total_tax"])
        assert o.placed_at.tzinfo is not None and o.currency == "USD"
        assert o.paid == (order["status_id"] in (2, 3, 4, 8, 9, 10, 11, 14))
        assert o.status == order["status"] and o.tax_collected_by == "seller"
        if o.paid:
            assert o.payment_method


def test_money_strings_become_exact_decimals(book):
    oid = next(o for o, c in book.coupons.items() if c)
    [o] = normalise_order(book.orders[oid], related(book, oid))
    assert all(isinstance(line.amount.amount, Decimal) for line in o.lines)
    assert str(o.lines[0].unit_price.amount) == book.order_products[oid][0]["price_ex_tax"]


@pytest.mark.parametrize("where,field,value", [
    ("order", "total_inc_tax", "12,50"), ("order", "shipping_cost_ex_tax", "free"), ("line", "total_ex_tax", 1.5),
    ("order", "date_created", "yesterday")])
def test_bad_money_or_dates_name_record_and_field(book, where, field, value):
    oid = next(iter(book.orders))
    order, rel = copy.deepcopy(book.orders[oid]), copy.deepcopy(related(book, oid))
    (order if where == "order" else rel["order_products"][0])[field] = value
    with pytest.raises(RecordError) as err:
        normalise_order(order, rel)
    assert err.value.field == field and str(oid) in str(err.value)


def test_unknown_status_is_a_record_error(book):
    oid = next(iter(book.orders))
    order = {**book.orders[oid], "status_id": 42, "status": "Teleported"}
    with pytest.raises(RecordError, match="unknown order status 42") as err:
        normalise_order(order, related(book, oid))
    assert err.value.field == "status_id"


def test_a_product_deleted_after_the_order_still_normalises_from_the_order_snapshot(book):
    gone = [(oid, li) for oid, lines in book.order_products.items() for li in lines if li["product_id"] not in book.products]
    assert gone
    oid, line = gone[0]
    [o] = normalise_order(book.orders[oid], related(book, oid))
    assert any(li.sku == line["sku"] for li in o.lines)


def test_a_line_without_sku_is_a_record_error(book):
    oid = next(iter(book.orders))
    rel = copy.deepcopy(related(book, oid))
    rel["order_products"][0]["sku"] = ""
    with pytest.raises(RecordError) as err:
        normalise_order(book.orders[oid], rel)
    assert err.value.field == "sku"


def test_shipment_refund_inventory(book):
    oid = next(o for o, s in book.shipments.items() if s)
    [s] = normalise_shipment(book.shipments[oid][0], {"order_products": book.order_products[oid]})
    assert s.order_id == str(oid) and s.tracking_number and s.lines[0].sku
    refund = book.refunds[0]
    [r] = normalise_refund(refund, {"orders": [book.orders[refund["order_id"]]],
                                    "order_products": book.order_products[refund["order_id"]]})
    assert r.lines[0].amount.amount == refund["total_amount"] and r.currency == "USD"
    with pytest.raises(RecordError, match="not staged"):
        normalise_refund(refund, {})
    [level] = normalise_inventory({**book.inventory_items(2)[0], "location_id": 2,
                                   "variant_id": book.inventory_items(2)[0]["identity"]["variant_id"]}, {})
    assert level.location == "2" and level.on_hand >= 0
