"""Customers (per marketplace, per buyer), items by SKU, store dimensions, payment methods per channel."""

from __future__ import annotations

import pytest

from ledgerlink import Customer, RecordError
from ledgerlink.posting import (
    ItemChoice, OrderPostingOptions, customer_for, deposit_account_for, dimensions_for, item_for, payment_method_for,
)
from posting_helpers import order


def opts(**kw) -> OrderPostingOptions:
    return OrderPostingOptions.model_validate(kw)


def test_one_customer_per_marketplace_and_currency_by_default():
    c = customer_for(order(channel="amazon", sales_channel="Amazon.com", marketplace="ATV"), opts())
    assert (c.display_name, c.natural_key, c.buyer) == ("Amazon.com USD", "amazon/marketplace/amazon/ATV/USD", None)
    assert customer_for(order(currency="CAD"), opts()).display_name == "Bigcommerce CAD"


def test_per_buyer_customers_match_by_email_then_normalised_name():
    o = opts(customer_strategy="per_buyer")
    a = customer_for(order(buyer=Customer(source="s", customer_id="1", display_name="Jane Doe",
                                          email="jane@example.com")), o)
    b = customer_for(order(buyer=Customer(source="s", customer_id="2", display_name="J. Doe",
                                          email="JANE@example.com ")), o)
    assert a.natural_key == b.natural_key and a.email == "jane@example.com"
    c = customer_for(order(buyer=Customer(source="s", customer_id="3", display_name="  Ann   LEE ")), o)
    d = customer_for(order(buyer=Customer(source="s", customer_id="4", display_name="ann lee")), o)
    assert c.natural_key == d.natural_key and c.display_name == "Ann LEE"
    assert customer_for(order(), o, name_max=4).display_name == "Jane"


def test_items_match_the_sku_by_name_or_the_sku_map_and_create_by_rule():
    o = opts(items={"sku_map": {"MUG-RED": "Red Mug"}, "create": [{"sku": "KIT-*", "as": "inventory"}]})
    assert item_for("MUG-RED", o) == ItemChoice("Red Mug", "non_inventory", "MUG-RED")
    assert item_for("KIT-7", o).create_as == "inventory"
    assert item_for("CUP", o, default_kind="service").create_as == "service"
    assert item_for("CUP", opts(create_items=False)).create_as is None


def test_an_unmatched_sku_is_a_dead_letter_with_a_hint_when_configured():
    o = opts(items={"match": "sku_map", "sku_map": {"A": "Item A"}, "unmatched": "dead_letter"})
    assert item_for("A", o).create_as is None
    with pytest.raises(RecordError) as err:
        item_for("B", o, key="bigcommerce/order/5", field="lines[0].sku")
    assert "not in items.sku_map" in str(err.value) and "items.sku_map" in (err.value.hint or "")
    assert item_for("B", opts(items={"match": "sku_map"})).name == "B"  # unmatched: create


def test_store_dimensions_with_a_default_store():
    o = opts(stores={"eu": {"class": "Europe", "location": "Dublin"}, "*": {"class": "Online"}})
    d = dimensions_for(order(store="eu"), o)
    assert (d.class_name, d.location, d.department) == ("Europe", "Dublin", "Dublin")
    assert dimensions_for(order(store="us"), o).class_name == "Online"
    assert not dimensions_for(order(), opts())


def test_payment_method_and_deposit_account_per_channel():
    o = opts(payment_methods={"Credit Card": "Visa"},
             channels={"bigcommerce": {"deposit_account": "Stripe Clearing", "payment_methods": {"Cash": "Cash"}},
                       "Amazon.com": {"payment_method": "Amazon Pay", "deposit_account": "Amazon Clearing"}})
    assert payment_method_for(order(payment_method="Credit Card"), o) == "Visa"
    assert payment_method_for(order(payment_method="Cash"), o) == "Cash"
    assert payment_method_for(order(channel="amazon", sales_channel="Amazon.com", payment_method="Other"), o) == \
        "Amazon Pay"
    assert deposit_account_for(order(), o, "Undeposited Funds") == "Stripe Clearing"
    assert deposit_account_for(order(channel="amazon", sales_channel="Amazon.com"), o, "X") == "Amazon Clearing"
    assert deposit_account_for(order(channel="ebay"), o, "Undeposited Funds") == "Undeposited Funds"
