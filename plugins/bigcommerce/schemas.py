"""The top-level fields of the orders and products streams' records, so a catalog declares them: Airbyte's tools
(PyAirbyte's cache, its destinations' typed columns) keep only the fields a stream declares. Names and types are
those BigCommerce's v2 order and v3 catalog product carry (checked against its OpenAPI files by the tests); records
stay the API's own objects.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ORDER_SCHEMA", "PRODUCT_SCHEMA", "object_schema"]

ORDER_FIELDS: dict[str, str] = {
    "id": "integer", "customer_id": "integer", "date_created": "string", "date_modified": "string",
    "date_shipped": "string", "status_id": "integer", "status": "string", "custom_status": "string",
    "subtotal_ex_tax": "string", "subtotal_inc_tax": "string", "subtotal_tax": "string",
    "base_shipping_cost": "string", "shipping_cost_ex_tax": "string", "shipping_cost_inc_tax": "string",
    "shipping_cost_tax": "string", "shipping_cost_tax_class_id": "integer", "base_handling_cost": "string",
    "handling_cost_ex_tax": "string", "handling_cost_inc_tax": "string", "handling_cost_tax": "string",
    "handling_cost_tax_class_id": "integer", "base_wrapping_cost": "string", "wrapping_cost_ex_tax": "string",
    "wrapping_cost_inc_tax": "string", "wrapping_cost_tax": "string", "wrapping_cost_tax_class_id": "integer",
    "total_ex_tax": "string", "total_inc_tax": "string", "total_tax": "string",
    "is_tax_inclusive_pricing": "boolean", "items_total": "integer", "items_shipped": "integer",
    "payment_method": "string", "payment_provider_id": "string", "payment_status": "string",
    "refunded_amount": "string", "order_is_digital": "boolean", "store_credit_amount": "string",
    "gift_certificate_amount": "string", "ip_address": "string", "ip_address_v6": "string",
    "geoip_country": "string", "geoip_country_iso2": "string", "currency_id": "integer", "currency_code": "string",
    "currency_exchange_rate": "string", "default_currency_id": "integer", "default_currency_code": "string",
    "staff_notes": "string", "customer_message": "string", "discount_amount": "string", "coupon_discount": "string",
    "shipping_address_count": "integer", "ebay_order_id": "string", "cart_id": "string",
    "billing_address": "object", "is_email_opt_in": "boolean", "credit_card_type": "string",
    "order_source": "string", "channel_id": "integer", "external_source": "string", "products": "object",
    "shipping_addresses": "object", "coupons": "object", "external_id": "string", "external_merchant_id": "string",
    "tax_provider_id": "string", "store_default_currency_code": "string",
    "store_default_to_transactional_exchange_rate": "string", "customer_locale": "string",
    "external_order_id": "string",
}

PRODUCT_FIELDS: dict[str, str] = {
    "base_variant_id": "integer",
    "id": "integer", "name": "string", "type": "string", "sku": "string", "description": "string",
    "weight": "number", "width": "integer", "depth": "integer", "height": "integer", "price": "number",
    "cost_price": "number", "retail_price": "integer", "sale_price": "integer", "map_price": "integer",
    "tax_class_id": "integer", "categories": "array", "brand_id": "integer", "inventory_level": "integer",
    "inventory_warning_level": "integer", "inventory_tracking": "string", "is_visible": "boolean",
    "date_created": "string", "date_modified": "string", "variants": "array",
}

def object_schema(types: dict[str, str]) -> dict[str, Any]:
    """A stream's JSON Schema: its top-level fields, each nullable, more allowed (the API adds fields)."""
    return {"type": "object", "additionalProperties": True,
            "properties": {name: {"type": ["null", kind]} for name, kind in types.items()}}


ORDER_SCHEMA = object_schema(ORDER_FIELDS)
PRODUCT_SCHEMA = object_schema(PRODUCT_FIELDS)
