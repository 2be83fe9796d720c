"""The streams PyAirbyte reads declare their records' top-level fields (Airbyte's tools keep only declared
fields), with the names the vendors' own models use (../shared/reference, test oracles)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import yaml

from ledgerlink_amazon_sp.orders.schemas import ORDER_FIELDS as AMAZON_ORDER, ORDER_ITEM_FIELDS as AMAZON_ITEM
from ledgerlink_bigcommerce.schemas import ORDER_FIELDS as BC_ORDER, PRODUCT_FIELDS as BC_PRODUCT

TYPES = {"string", "integer", "number", "boolean", "object", "array"}


def property_names(node: Any) -> Iterator[str]:
    """Every property name anywhere in an OpenAPI document (BigCommerce composes its objects with allOf)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                yield from value
            yield from property_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from property_names(value)


def test_amazon_orders_fields_are_the_orders_v0_models(reference_dir: Path):
    model = json.loads((reference_dir / "amazon-sp-api" / "models" / "ordersV0.json").read_text())["definitions"]
    # the sandbox (like Amazon) also sends an order's PromotionIds, which v0's Order model leaves out
    assert set(AMAZON_ORDER) == set(model["Order"]["properties"]) | {"PromotionIds"}
    assert set(AMAZON_ITEM) == set(model["OrderItem"]["properties"]) | {"AmazonOrderId"}
    for name, kind in {**AMAZON_ORDER, **AMAZON_ITEM}.items():
        own = model["Order"]["properties"].get(name) or model["OrderItem"]["properties"].get(name) or {}
        assert kind in TYPES and own.get("type", kind) == kind, (name, kind, own)


def test_bigcommerce_fields_are_named_in_its_openapi_files(reference_dir: Path):
    folder = reference_dir / "bigcommerce" / "reference"
    orders = set(property_names(yaml.safe_load((folder / "orders.v2.oas2.yml").read_text())))
    products = set(property_names(yaml.safe_load((folder / "products_catalog.v3.yml").read_text())))
    # two fields BigCommerce sends (and documents on its order page) that its OpenAPI file leaves out
    assert set(BC_ORDER) - orders == {"custom_status", "credit_card_type"}
    assert set(BC_PRODUCT) - products == set()
    assert set(BC_ORDER.values()) | set(BC_PRODUCT.values()) <= TYPES


def test_the_sandboxes_serve_no_field_the_streams_leave_undeclared():
    from sandbox_helpers import new_sandbox

    amazon = new_sandbox("amazon_sp", orders=40).api.book
    for i in range(amazon.total):
        assert set(amazon.order(i)) <= set(AMAZON_ORDER)
        for item in amazon.items(i):
            assert set(item) <= set(AMAZON_ITEM)
    store = new_sandbox("bigcommerce", orders=40).store.book
    for order in store.orders.values():
        assert set(order) <= set(BC_ORDER) | {"products", "shipping_addresses", "coupons"}, set(order) - set(BC_ORDER)
    for product in store.products.values():
        assert set(product) <= set(BC_PRODUCT)
