"""The top-level fields of the orders streams' records, so a catalog declares them: Airbyte's tools (PyAirbyte's
cache, its destinations' typed columns) keep only the fields a stream declares. Names and types are those of
Amazon's Orders v0 model (`Order`, `OrderItem`; checked against it by the tests); records stay the API's own objects.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ORDER_SCHEMA", "ORDER_ITEM_SCHEMA", "object_schema"]

ORDER_FIELDS: dict[str, str] = {
    "AmazonOrderId": "string", "SellerOrderId": "string", "PurchaseDate": "string", "LastUpdateDate": "string",
    "OrderStatus": "string", "FulfillmentChannel": "string", "SalesChannel": "string", "OrderChannel": "string",
    "ShipServiceLevel": "string", "OrderTotal": "object", "NumberOfItemsShipped": "integer",
    "NumberOfItemsUnshipped": "integer", "PaymentExecutionDetail": "object", "PaymentMethod": "string",
    "PaymentMethodDetails": "array", "MarketplaceId": "string", "ShipmentServiceLevelCategory": "string",
    "EasyShipShipmentStatus": "object", "CbaDisplayableShippingLabel": "string", "OrderType": "string",
    "EarliestShipDate": "string", "LatestShipDate": "string", "EarliestDeliveryDate": "string",
    "LatestDeliveryDate": "string", "IsBusinessOrder": "boolean", "IsPrime": "boolean", "IsPremiumOrder": "boolean",
    "IsGlobalExpressEnabled": "boolean", "ReplacedOrderId": "string", "IsReplacementOrder": "boolean",
    "PromiseResponseDueDate": "string", "IsEstimatedShipDateSet": "boolean", "IsSoldByAB": "boolean",
    "IsIBA": "boolean", "DefaultShipFromLocationAddress": "object", "BuyerInvoicePreference": "string",
    "BuyerTaxInformation": "object", "FulfillmentInstruction": "object", "IsISPU": "boolean",
    "IsAccessPointOrder": "boolean", "MarketplaceTaxInfo": "object", "SellerDisplayName": "string",
    "ShippingAddress": "object", "BuyerInfo": "object", "AutomatedShippingSettings": "object",
    "HasRegulatedItems": "boolean", "ElectronicInvoiceStatus": "object", "PromotionIds": "array",
}

#: an order item carries its order's id (the API nests items under it)
ORDER_ITEM_FIELDS: dict[str, str] = {
    "AmazonOrderId": "string", "ASIN": "string", "SellerSKU": "string", "OrderItemId": "string",
    "AssociatedItems": "array", "Title": "string", "QuantityOrdered": "integer", "QuantityShipped": "integer",
    "ProductInfo": "object", "PointsGranted": "object", "ItemPrice": "object", "ShippingPrice": "object",
    "ItemTax": "object", "ShippingTax": "object", "ShippingDiscount": "object", "ShippingDiscountTax": "object",
    "PromotionDiscount": "object", "PromotionDiscountTax": "object", "PromotionIds": "array", "CODFee": "object",
    "CODFeeDiscount": "object", "IsGift": "string", "ConditionNote": "string", "ConditionId": "string",
    "ConditionSubtypeId": "string", "ScheduledDeliveryStartDate": "string", "ScheduledDeliveryEndDate": "string",
    "PriceDesignation": "string", "TaxCollection": "object", "SerialNumberRequired": "boolean",
    "IsTransparency": "boolean", "IossNumber": "string", "StoreChainStoreId": "string",
    "DeemedResellerCategory": "string", "BuyerInfo": "object", "BuyerRequestedCancel": "object",
    "SerialNumbers": "array", "SubstitutionPreferences": "object", "Measurement": "object",
    "ShippingConstraints": "object", "AmazonPrograms": "object",
}

def object_schema(types: dict[str, str]) -> dict[str, Any]:
    """A stream's JSON Schema: its top-level fields, each nullable, more allowed (the API adds fields)."""
    return {"type": "object", "additionalProperties": True,
            "properties": {name: {"type": ["null", kind]} for name, kind in types.items()}}


ORDER_SCHEMA = object_schema(ORDER_FIELDS)
ORDER_ITEM_SCHEMA = object_schema(ORDER_ITEM_FIELDS)
