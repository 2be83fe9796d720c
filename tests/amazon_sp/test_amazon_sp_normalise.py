"""Amazon order + items → canonical Order: exact Decimal amounts, totals, tax model, readable errors."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from ledgerlink import Money, Order, RecordError
from ledgerlink_amazon_sp import AmazonSellingPartnerSource, normalise_order
from ledgerlink_amazon_sp.sandbox.seed import SellerBook

ORDER: dict[str, Any] = {
    "AmazonOrderId": "113-1234567-7654321", "PurchaseDate": "2024-05-01T10:00:00Z",
    "LastUpdateDate": "2024-05-02T08:30:00Z", "OrderStatus": "Shipped", "FulfillmentChannel": "MFN",
    "SalesChannel": "Amazon.com", "OrderTotal": {"CurrencyCode": "USD", "Amount": "52.49"},
    "PaymentMethod": "Other", "MarketplaceId": "ATVPDKIKX0DER", "IsBusinessOrder": True,
    "ShippingAddress": {"City": "SEATTLE", "StateOrRegion": "WA", "PostalCode": "98109", "CountryCode": "US"},
    "BuyerInfo": {"BuyerEmail": "abc123@marketplace.amazon.com"},
}
ITEMS: list[dict[str, Any]] = [
    {"AmazonOrderId": "113-1234567-7654321", "ASIN": "B07QXZ1M4K", "SellerSKU": "LL-MUG-11OZ", "OrderItemId": "1001",
     "Title": "Mug", "QuantityOrdered": 3, "ItemPrice": {"CurrencyCode": "USD", "Amount": "44.97"},
     "ItemTax": {"CurrencyCode": "USD", "Amount": "3.26"}, "PromotionDiscount": {"CurrencyCode": "USD", "Amount": "4.50"},
     "PromotionIds": ["PLM-1"], "ShippingPrice": {"CurrencyCode": "USD", "Amount": "4.99"},
     "ShippingTax": {"CurrencyCode": "USD", "Amount": "0.36"},
     "ShippingDiscount": {"CurrencyCode": "USD", "Amount": "0.00"},
     "TaxCollection": {"Model": "MarketplaceFacilitator", "ResponsibleParty": "Amazon Services, Inc."}},
    {"AmazonOrderId": "113-1234567-7654321", "ASIN": "B06XKR2S7D", "SellerSKU": "LL-FLT-V60-100",
     "OrderItemId": "1002", "Title": "Filters", "QuantityOrdered": 1,
     "ItemPrice": {"CurrencyCode": "USD", "Amount": "3.41"}, "ItemTax": {"CurrencyCode": "USD", "Amount": "0.00"},
     "ShippingPrice": {"CurrencyCode": "USD", "Amount": "0.00"}},
]


def one(order: dict[str, Any], items: list[dict[str, Any]]) -> Order:
    [out] = normalise_order(order, {"order_items": items})
    return out


def test_amounts_are_exact_decimals_and_totals_add_up():
    order = one(ORDER, ITEMS)
    mug, filters = order.lines
    assert mug.amount == Money.of("44.97", "USD") and mug.unit_price == Money.of("14.99", "USD")
    assert mug.quantity == Decimal(3) and isinstance(mug.amount.amount, Decimal)
    assert (mug.discount.amount, mug.tax.amount, mug.shipping.amount, mug.shipping_tax.amount) == (
        Decimal("4.50"), Decimal("3.26"), Decimal("4.99"), Decimal("0.36"))
    assert filters.gift_wrap == Money.zero("USD") and filters.discount == Money.zero("USD")  # absent means 0
    assert order.total("amount").amount == Decimal("48.38")
    assert order.grand_total.amount == Decimal("52.49") == Decimal(ORDER["OrderTotal"]["Amount"])
    assert mug.promotion_ids == ["PLM-1"] and mug.sku == "LL-MUG-11OZ"
    assert mug.source_ref.stream == "order_items" and mug.source_ref.key == "113-1234567-7654321/1001"


def test_order_fields_and_marketplace_facilitator():
    order = one(ORDER, ITEMS)
    assert (order.source, order.channel, order.marketplace, order.sales_channel) == (
        "amazon_sp", "amazon", "ATVPDKIKX0DER", "Amazon.com")
    assert order.fulfilment == "merchant" and order.paid and order.status == "Shipped"
    assert order.placed_at == datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    assert order.tax_collected_by == "marketplace" and order.is_business_order
    assert order.customer.customer_id == "abc123@marketplace.amazon.com"
    assert order.customer.display_name == "Amazon customer"
    assert order.shipping_address.region == "WA" and order.natural_key == "amazon_sp/order/113-1234567-7654321"
    seller_collected = [{k: v for k, v in i.items() if k != "TaxCollection"} for i in ITEMS]
    assert one({**ORDER, "FulfillmentChannel": "AFN"}, seller_collected).tax_collected_by == "seller"
    assert one({**ORDER, "FulfillmentChannel": "AFN"}, ITEMS).fulfilment == "channel"


def test_without_buyer_email_the_customer_is_per_marketplace_and_currency():
    order = one({k: v for k, v in ORDER.items() if k != "BuyerInfo"}, ITEMS)
    assert order.customer.customer_id == "ATVPDKIKX0DER:USD" and order.customer.currency == "USD"


def test_canceled_and_pending_orders_without_amounts():
    bare = [{k: v for k, v in i.items() if k in ("AmazonOrderId", "ASIN", "SellerSKU", "OrderItemId", "Title")}
            | {"QuantityOrdered": 0} for i in ITEMS]
    canceled = one({k: v for k, v in {**ORDER, "OrderStatus": "Canceled"}.items() if k != "OrderTotal"}, bare)
    assert canceled.status == "Canceled" and not canceled.paid and canceled.currency == "USD"
    assert canceled.grand_total == Money.zero("USD") and canceled.lines[0].unit_price == Money.zero("USD")
    with pytest.raises(RecordError) as info:
        normalise_order({**ORDER, "OrderStatus": "Pending"}, {"order_items": []})
    assert info.value.key == "113-1234567-7654321" and info.value.field == "OrderItems"
    assert "payment is authorised" in info.value.hint


def test_missing_sku_names_the_order_item_and_field():
    items = copy.deepcopy(ITEMS)
    del items[1]["SellerSKU"]
    with pytest.raises(RecordError) as info:
        normalise_order(ORDER, {"order_items": items})
    err = info.value
    assert (err.stream, err.key, err.field) == ("order_items", "113-1234567-7654321/1002", "SellerSKU")
    assert "missing SKU" in str(err) and "B06XKR2S7D" in err.hint


@pytest.mark.parametrize("amount", ["12.3.4", "abc", 12.5])
def test_unreadable_amount_is_a_record_error(amount):
    items = copy.deepcopy(ITEMS)
    items[0]["ItemTax"]["Amount"] = amount
    with pytest.raises(RecordError) as info:
        normalise_order(ORDER, {"order_items": items})
    assert info.value.field == "ItemTax.Amount" and info.value.key == "113-1234567-7654321/1001"


def test_currency_mismatch_is_a_record_error():
    items = copy.deepcopy(ITEMS)
    items[0]["ShippingPrice"]["CurrencyCode"] = "CAD"
    with pytest.raises(RecordError) as info:
        normalise_order(ORDER, {"order_items": items})
    assert info.value.field == "ShippingPrice.CurrencyCode"


def test_every_sandbox_order_normalises_and_ties_to_order_total():
    book = SellerBook(400, 11, datetime(2024, 6, 1, tzinfo=timezone.utc), defects=4)
    errors, checked = [], 0
    for i in range(book.count):
        order, items = book.order(i), [{**it, "AmazonOrderId": book.order_id(i)} for it in book.items(i)]
        try:
            canonical = one(order, items)
        except RecordError as exc:
            errors.append(exc)
            continue
        if "OrderTotal" in order:
            checked += 1
            assert canonical.grand_total.amount == Decimal(order["OrderTotal"]["Amount"])
        assert canonical.tax_collected_by == ("marketplace" if order["MarketplaceId"] == "ATVPDKIKX0DER"
                                              and canonical.status not in ("Pending", "Canceled") else "seller")
    assert checked > 300
    assert len(errors) == 4 and all(e.field == "SellerSKU" for e in errors)


def test_the_source_declares_the_normaliser_and_join():
    normaliser = next(n for n in AmazonSellingPartnerSource().normalisers() if n.stream == "orders")
    assert normaliser.stream == "orders" and normaliser.join == {"order_items": ("AmazonOrderId", "AmazonOrderId")}
    assert normaliser.function is normalise_order
