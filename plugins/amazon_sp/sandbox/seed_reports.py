"""The sandbox's report documents, built from its seeded seller (`seed.SellerBook`).

The all-orders flat file is the same orders and items that getOrders/getOrderItems serve, one row per item.
FBA customer returns, the inventory ledger and reimbursements are derived from the FBA orders, each from its
order's own random stream: the same seed gives the same documents, whatever the window asked for. An FBA refund
in the finances feed (`seed_finances.FinanceBook`) whose unit came back (Amazon did not reimburse it) has its
return row the day before the refund, for the refunded SKU and quantity; their dispositions alternate SELLABLE
and a damaged one, so even a small seller has a refunded unit back in stock and one that is not.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from .seed import MARKETPLACES, SKUS, SellerBook
from .seed_finances import FinanceBook

__all__ = ["REPORT_TYPES", "NOT_CREATABLE", "SETTLEMENT_TYPES", "ALL_ORDERS_HEADER", "RETURNS_HEADER",
           "LEDGER_HEADER", "REIMBURSEMENTS_HEADER", "SHIPMENTS_HEADER", "document_rows", "render_tsv", "FbaEvents", "GENERATED"]

#: every reportType value in Amazon's "Report Type Values" page (2022-01-04; a test checks this list against it)
REPORT_TYPES: frozenset[str] = frozenset({
    "FEE_DISCOUNTS_REPORT", "GET_AFN_INVENTORY_DATA", "GET_AFN_INVENTORY_DATA_BY_COUNTRY",
    "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL", "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_INVOICING",
    "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_TAX", "GET_B2B_PRODUCT_OPPORTUNITIES_NOT_YET_ON_AMAZON",
    "GET_B2B_PRODUCT_OPPORTUNITIES_RECOMMENDED_FOR_YOU", "GET_BRAND_ANALYTICS_ALTERNATE_PURCHASE_REPORT",
    "GET_BRAND_ANALYTICS_ITEM_COMPARISON_REPORT", "GET_BRAND_ANALYTICS_MARKET_BASKET_REPORT",
    "GET_BRAND_ANALYTICS_REPEAT_PURCHASE_REPORT", "GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT",
    "GET_CONVERGED_FLAT_FILE_PENDING_ORDERS_DATA", "GET_CSV_MFN_PRIME_RETURNS_REPORT", "GET_EASYSHIP_DOCUMENTS",
    "GET_EASYSHIP_PICKEDUP", "GET_EASYSHIP_WAITING_FOR_PICKUP", "GET_EXCESS_INVENTORY_DATA",
    "GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA", "GET_FBA_FULFILLMENT_CURRENT_INVENTORY_DATA",
    "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA", "GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_PROMOTION_DATA",
    "GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_REPLACEMENT_DATA", "GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_SALES_DATA",
    "GET_FBA_FULFILLMENT_CUSTOMER_TAXES_DATA", "GET_FBA_FULFILLMENT_INBOUND_NONCOMPLIANCE_DATA",
    "GET_FBA_FULFILLMENT_INVENTORY_ADJUSTMENTS_DATA", "GET_FBA_FULFILLMENT_INVENTORY_HEALTH_DATA",
    "GET_FBA_FULFILLMENT_INVENTORY_RECEIPTS_DATA", "GET_FBA_FULFILLMENT_INVENTORY_SUMMARY_DATA",
    "GET_FBA_FULFILLMENT_LONGTERM_STORAGE_FEE_CHARGES_DATA", "GET_FBA_FULFILLMENT_MONTHLY_INVENTORY_DATA",
    "GET_FBA_FULFILLMENT_REMOVAL_ORDER_DETAIL_DATA", "GET_FBA_FULFILLMENT_REMOVAL_SHIPMENT_DETAIL_DATA",
    "GET_FBA_INVENTORY_AGED_DATA", "GET_FBA_MYI_ALL_INVENTORY_DATA", "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
    "GET_FBA_RECOMMENDED_REMOVAL_DATA", "GET_FBA_REIMBURSEMENTS_DATA", "GET_FBA_STORAGE_FEE_CHARGES_DATA",
    "GET_FBA_UNO_INVENTORY_DATA", "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING",
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL", "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
    "GET_FLAT_FILE_ARCHIVED_ORDERS_DATA_BY_ORDER_DATE", "GET_FLAT_FILE_MFN_SKU_RETURN_ATTRIBUTES_REPORT",
    "GET_FLAT_FILE_OFFAMAZONPAYMENTS_SANDBOX_SETTLEMENT_DATA", "GET_FLAT_FILE_OPEN_LISTINGS_DATA",
    "GET_FLAT_FILE_ORDER_REPORT_DATA_INVOICING", "GET_FLAT_FILE_ORDER_REPORT_DATA_SHIPPING",
    "GET_FLAT_FILE_ORDER_REPORT_DATA_TAX", "GET_FLAT_FILE_PENDING_ORDERS_DATA",
    "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE", "GET_FLAT_FILE_SALES_TAX_DATA", "GET_GST_MTR_B2B_CUSTOM",
    "GET_GST_MTR_B2C_CUSTOM", "GET_LEDGER_DETAIL_VIEW_DATA", "GET_LEDGER_SUMMARY_VIEW_DATA",
    "GET_MERCHANTS_LISTINGS_FYP_REPORT", "GET_MERCHANT_CANCELLED_LISTINGS_DATA", "GET_MERCHANT_LISTINGS_ALL_DATA",
    "GET_MERCHANT_LISTINGS_DATA", "GET_MERCHANT_LISTINGS_DATA_BACK_COMPAT", "GET_MERCHANT_LISTINGS_DATA_LITE",
    "GET_MERCHANT_LISTINGS_DATA_LITER", "GET_MERCHANT_LISTINGS_DEFECT_DATA", "GET_MERCHANT_LISTINGS_INACTIVE_DATA",
    "GET_MFN_PAN_EU_OFFER_STATUS", "GET_ORDER_REPORT_DATA_INVOICING", "GET_ORDER_REPORT_DATA_SHIPPING",
    "GET_ORDER_REPORT_DATA_TAX", "GET_PAN_EU_OFFER_STATUS", "GET_PENDING_ORDERS_DATA", "GET_PRODUCT_EXCHANGE_DATA",
    "GET_PROMOTION_PERFORMANCE_REPORT", "GET_REFERRAL_FEE_PREVIEW_REPORT", "GET_REMOTE_FULFILLMENT_ELIGIBILITY",
    "GET_RESERVED_INVENTORY_DATA", "GET_RESTOCK_INVENTORY_RECOMMENDATIONS_REPORT", "GET_SELLER_FEEDBACK_DATA",
    "GET_STRANDED_INVENTORY_LOADER_DATA", "GET_STRANDED_INVENTORY_UI_DATA", "GET_V1_SELLER_PERFORMANCE_REPORT",
    "GET_V2_SELLER_PERFORMANCE_REPORT", "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE",
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2", "GET_V2_SETTLEMENT_REPORT_DATA_XML", "GET_VAT_TRANSACTION_DATA",
    "GET_VENDOR_DEMAND_FORECAST_REPORT", "GET_VENDOR_INVENTORY_HEALTH_AND_PLANNING_REPORT",
    "GET_VENDOR_NET_PURE_PRODUCT_MARGIN_REPORT", "GET_VENDOR_SALES_DIAGNOSTIC_REPORT",
    "GET_XML_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL", "GET_XML_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
    "GET_XML_BROWSE_TREE_DATA", "GET_XML_MFN_PRIME_RETURNS_REPORT", "GET_XML_MFN_SKU_RETURN_ATTRIBUTES_REPORT",
    "GET_XML_RETURNS_DATA_BY_RETURN_DATE", "RFQD_BULK_DOWNLOAD", "SC_VAT_TAX_REPORT"
})
#: settlement reports are scheduled by Amazon, never created; the sales tax report is generated in Seller Central
SETTLEMENT_TYPES = frozenset({"GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE", "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
                              "GET_V2_SETTLEMENT_REPORT_DATA_XML"})
NOT_CREATABLE = SETTLEMENT_TYPES | {"GET_FLAT_FILE_SALES_TAX_DATA"}

ALL_ORDERS_HEADER = (
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
    "fulfillment-channel", "sales-channel", "order-channel", "ship-service-level", "product-name", "sku", "asin",
    "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
    "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "promotion-ids", "cpf", "is-business-order",
    "purchase-order-number", "price-designation", "signature-confirmation-recommended")
RETURNS_HEADER = ("return-date", "order-id", "sku", "asin", "fnsku", "product-name", "quantity",
                  "fulfillment-center-id", "detailed-disposition", "reason", "status", "license-plate-number",
                  "customer-comments")
LEDGER_HEADER = ("Date", "FNSKU", "ASIN", "MSKU", "Title", "EventType", "ReferenceID", "Quantity",
                 "FulfillmentCenter", "Disposition", "Reason", "Country", "ReconciledQuantity",
                 "UnreconciledQuantity")
#: GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL: one row per shipped item of an FBA order (buyer columns omitted)
SHIPMENTS_HEADER = ("amazon-order-id", "merchant-order-id", "shipment-id", "shipment-item-id", "amazon-order-item-id",
                    "merchant-order-item-id", "purchase-date", "payments-date", "shipment-date", "reporting-date",
                    "sku", "product-name", "quantity-shipped", "currency", "item-price", "item-tax", "shipping-price",
                    "shipping-tax", "ship-service-level", "ship-city", "ship-state", "ship-postal-code",
                    "ship-country", "carrier", "tracking-number", "estimated-arrival-date", "fulfillment-center-id",
                    "fulfillment-channel", "sales-channel")
REIMBURSEMENTS_HEADER = ("approval-date", "reimbursement-id", "case-id", "amazon-order-id", "reason", "sku",
                         "fnsku", "asin", "product-name", "condition", "currency-unit", "amount-per-unit",
                         "amount-total", "quantity-reimbursed-cash", "quantity-reimbursed-inventory",
                         "quantity-reimbursed-total", "original-reimbursement-id", "original-reimbursement-type")

#: Orders v0 OrderStatus → the flat file's order-status
_REPORT_STATUS = {"Canceled": "Cancelled", "PartiallyShipped": "Shipping"}
_CENTRES = {"US": ("PHX7", "ONT8", "BFI4", "MDW2"), "CA": ("YYZ4", "YVR3")}
_DISPOSITIONS = ("SELLABLE", "SELLABLE", "SELLABLE", "CUSTOMER_DAMAGED", "DEFECTIVE", "CARRIER_DAMAGED")
#: dispositions of refunded FBA units that came back, in turn (order of the orders in the book)
_REFUND_DISPOSITIONS = ("SELLABLE", "CUSTOMER_DAMAGED", "SELLABLE", "DEFECTIVE", "SELLABLE", "CARRIER_DAMAGED")
_REASONS = ("UNWANTED_ITEM", "NOT_AS_DESCRIBED", "DEFECTIVE", "ORDERED_WRONG_ITEM", "FOUND_BETTER_PRICE",
            "DAMAGED_BY_CARRIER")


def iso_offset(ts: int) -> str:
    """The flat files' time format: 2022-07-18T18:52:47+00:00."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ts))


def _day(ts: int) -> str:
    return time.strftime("%m/%d/%Y", time.gmtime(ts))


def fnsku(sku: str) -> str:
    return "X00" + hashlib.sha1(sku.encode()).hexdigest()[:7].upper()


def render_tsv(header: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    """A tab-separated document: the header line, then one line per row (missing cells empty)."""
    lines = ["\t".join(header)]
    lines.extend("\t".join(str(row.get(name, "")) for name in header) for row in rows)
    return "\n".join(lines) + "\n"


def _amount(item: dict[str, Any], name: str, negate: bool = False) -> str:
    money = item.get(name)
    if not money:
        return ""
    value = Decimal(money["Amount"])
    return str(-value if negate and value else value)


def all_orders_rows(book: SellerBook, marketplaces: list[str], start: int, end: int) -> list[dict[str, Any]]:
    """GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL: every item of every order updated in [start, end]."""
    rows = []
    for i in book.select(marketplaces, start, end):
        order, items = book.order_and_items(i)
        status = _REPORT_STATUS.get(order["OrderStatus"], order["OrderStatus"])
        address = order.get("ShippingAddress") or {}
        buyer = order.get("BuyerInfo") or {}
        for item in items:
            priced = "ItemPrice" in item
            rows.append({
                "amazon-order-id": order["AmazonOrderId"], "purchase-date": iso_offset(book.purchased[i]),
                "last-updated-date": iso_offset(book.updated[i]), "order-status": status,
                "fulfillment-channel": "Amazon" if order["FulfillmentChannel"] == "AFN" else "Merchant",
                "sales-channel": order["SalesChannel"], "ship-service-level": order["ShipServiceLevel"],
                "product-name": item["Title"], "sku": item.get("SellerSKU", ""), "asin": item["ASIN"],
                "item-status": "Cancelled" if status == "Cancelled" else (
                    "Shipped" if item["QuantityShipped"] else "Unshipped"),
                "quantity": item["QuantityOrdered"],
                "currency": item["ItemPrice"]["CurrencyCode"] if priced else "",
                "item-price": _amount(item, "ItemPrice"), "item-tax": _amount(item, "ItemTax"),
                "shipping-price": _amount(item, "ShippingPrice"), "shipping-tax": _amount(item, "ShippingTax"),
                "gift-wrap-price": _amount(item, "GiftWrapPrice"), "gift-wrap-tax": _amount(item, "GiftWrapTax"),
                "item-promotion-discount": _amount(item, "PromotionDiscount", negate=True),
                "ship-promotion-discount": _amount(item, "ShippingDiscount", negate=True),
                "ship-city": address.get("City", ""), "ship-state": address.get("StateOrRegion", ""),
                "ship-postal-code": address.get("PostalCode", ""), "ship-country": address.get("CountryCode", ""),
                "promotion-ids": ",".join(item.get("PromotionIds") or []),
                "is-business-order": "true" if order["IsBusinessOrder"] else "false",
                "purchase-order-number": buyer.get("PurchaseOrderNumber", ""),
                "signature-confirmation-recommended": "false",
            })
    return rows


@dataclass(frozen=True)
class _Event:
    at: int
    market: str
    row: dict[str, Any]


class FbaEvents:
    """Returns, ledger movements and reimbursements of the book's shipped FBA orders, built once (lazily)."""

    def __init__(self, book: SellerBook):
        self.book = book
        self._built: dict[str, list[_Event]] | None = None

    def select(self, kind: str, marketplaces: list[str], start: int, end: int) -> list[dict[str, Any]]:
        events = self._events()[kind]
        return [e.row for e in events if start <= e.at <= end and e.market in marketplaces]

    def _events(self) -> dict[str, list[_Event]]:
        if self._built is None:
            built: dict[str, list[_Event]] = {"returns": [], "ledger": [], "reimbursements": []}
            self._came_back = self._refunds_that_came_back()
            for i in range(self.book.count):
                self._order_events(i, built)
            for events in built.values():
                events.sort(key=lambda e: e.at)
            self._built = built
        return self._built

    def _refunds_that_came_back(self) -> dict[tuple[str, str], tuple[int, int, str]]:
        """(order id, SKU) → (refund posted, units, disposition) of every FBA refund Amazon did not reimburse
        (so its unit came back), dispositions in turn from _REFUND_DISPOSITIONS per marketplace."""
        finance = FinanceBook(self.book)
        reimbursed = {e.order_id for e in finance.events if e.kind == "Reimbursement"}
        refunds = sorted((e for e in finance.events if e.kind == "Refund" and e.fulfilment == "AFN"
                          and e.order_id not in reimbursed and e.items), key=lambda e: (e.posted, e.transaction_id))
        turn: dict[str, int] = {}  # per marketplace, so each has a sellable and a damaged one early
        out: dict[tuple[str, str], tuple[int, int, str]] = {}
        for e in refunds:
            n = turn[e.marketplace] = turn.get(e.marketplace, -1) + 1
            out[(str(e.order_id), e.items[0].sku)] = (e.posted, e.items[0].quantity,
                                                      _REFUND_DISPOSITIONS[n % len(_REFUND_DISPOSITIONS)])
        return out

    def _order_events(self, i: int, out: dict[str, list[_Event]]) -> None:
        book = self.book
        order, items = book.order_and_items(i)
        if order["FulfillmentChannel"] != "AFN" or order["OrderStatus"] != "Shipped":
            return
        rng = random.Random(book.seed * 1_000_003 + i)
        market = order["MarketplaceId"]
        currency, _, country = MARKETPLACES[market][:3]
        shipped = book.purchased[i] + 3600 * (6 + rng.randrange(30))
        centre = rng.choice(_CENTRES[country])
        oid = order["AmazonOrderId"]
        for n, item in enumerate(items):
            sku, qty = item.get("SellerSKU", ""), item["QuantityShipped"]
            if not sku or not qty:
                continue
            entry = next(c for c in SKUS if c.sku == sku)
            base = {"FNSKU": fnsku(sku), "ASIN": entry.asin, "MSKU": sku, "Title": entry.title,
                    "Country": country, "ReconciledQuantity": "0", "UnreconciledQuantity": "0"}
            out["ledger"].append(_Event(shipped, market, {
                **base, "Date": _day(shipped), "EventType": "Shipments", "ReferenceID": f"T{(i * 37 + n) % 10**9:09d}",
                "Quantity": str(-qty), "FulfillmentCenter": centre, "Disposition": "SELLABLE", "Reason": ""}))
            roll = rng.random()
            refunded = self._came_back.get((oid, sku))
            if refunded is not None or roll < 0.08:  # a customer return (every refunded unit that came back)
                if refunded is not None:
                    posted, units, disposition = refunded
                    returned = max(shipped + 3600, posted - 86400)
                else:
                    returned, units = shipped + 86400 * (4 + rng.randrange(20)), 1
                    disposition = rng.choice(_DISPOSITIONS)
                lpn = f"LPN{(i * 7919 + n * 104729 + book.seed) % 10**10:010d}"
                out["returns"].append(_Event(returned, market, {
                    "return-date": iso_offset(returned), "order-id": oid, "sku": sku, "asin": entry.asin,
                    "fnsku": fnsku(sku), "product-name": entry.title, "quantity": str(units), "fulfillment-center-id": centre,
                    "detailed-disposition": disposition, "reason": rng.choice(_REASONS),
                    "status": "Unit returned to inventory", "license-plate-number": lpn, "customer-comments": ""}))
                out["ledger"].append(_Event(returned, market, {
                    **base, "Date": _day(returned), "EventType": "CustomerReturns", "ReferenceID": lpn, "Quantity": str(units),
                    "FulfillmentCenter": centre, "Disposition": disposition, "Reason": ""}))
                if disposition == "CARRIER_DAMAGED":
                    self._reimburse(out, i, n, returned + 86400 * 3, market, currency, oid, entry, item,
                                    "CustomerReturn")
            elif roll < 0.10:  # lost in the warehouse after the order shipped a replacement
                self._reimburse(out, i, n, shipped + 86400 * (10 + rng.randrange(20)), market, currency, oid, entry,
                                item, "Lost_Warehouse")

    def _reimburse(self, out: dict[str, list[_Event]], i: int, n: int, when: int, market: str, currency: str,
                   oid: str, entry: Any, item: dict[str, Any], reason: str) -> None:
        unit = (Decimal(item["ItemPrice"]["Amount"]) / item["QuantityOrdered"]).quantize(Decimal("0.01"))
        out["reimbursements"].append(_Event(when, market, {
            "approval-date": iso_offset(when), "reimbursement-id": f"{(i * 2971 + n + self.book.seed) % 10**10:010d}",
            "case-id": "", "amazon-order-id": oid, "reason": reason, "sku": entry.sku, "fnsku": fnsku(entry.sku),
            "asin": entry.asin, "product-name": entry.title, "condition": "New", "currency-unit": currency,
            "amount-per-unit": str(unit), "amount-total": str(unit), "quantity-reimbursed-cash": "1",
            "quantity-reimbursed-inventory": "0", "quantity-reimbursed-total": "1", "original-reimbursement-id": "",
            "original-reimbursement-type": ""}))


_CARRIERS = (("AMZN_US", "TBA"), ("UPS", "1Z"), ("USPS", "9400"))


def shipment_rows(book: SellerBook, marketplaces: list[str], start: int, end: int) -> list[dict[str, Any]]:
    """GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL: the shipped items of FBA orders shipped in [start, end]
    (an order ships a day after purchase, or when it was last updated if sooner)."""
    rows = []
    for i in book.select(marketplaces, start, book.anchor):
        order, items = book.order_and_items(i)
        if order["FulfillmentChannel"] != "AFN" or order["OrderStatus"] != "Shipped":
            continue
        shipped = min(book.updated[i], book.purchased[i] + 86400)
        if not start <= shipped <= end:
            continue
        digest = hashlib.sha1(order["AmazonOrderId"].encode()).hexdigest()
        carrier, prefix = _CARRIERS[int(digest[:2], 16) % len(_CARRIERS)]
        address = order.get("ShippingAddress") or {}
        country = MARKETPLACES[order["MarketplaceId"]][2]
        for n, item in enumerate(items):
            if not item["QuantityShipped"]:
                continue
            rows.append({
                "amazon-order-id": order["AmazonOrderId"], "shipment-id": "D" + digest[:8].upper(),
                "shipment-item-id": "D" + digest[8:16].upper() + f"{n:02d}", "amazon-order-item-id": item["OrderItemId"],
                "purchase-date": iso_offset(book.purchased[i]), "payments-date": iso_offset(book.purchased[i]),
                "shipment-date": iso_offset(shipped), "reporting-date": iso_offset(shipped),
                "sku": item.get("SellerSKU", ""), "product-name": item["Title"],
                "quantity-shipped": item["QuantityShipped"],
                "currency": item["ItemPrice"]["CurrencyCode"] if "ItemPrice" in item else "",
                "item-price": _amount(item, "ItemPrice"), "item-tax": _amount(item, "ItemTax"),
                "shipping-price": _amount(item, "ShippingPrice"), "shipping-tax": _amount(item, "ShippingTax"),
                "ship-service-level": order["ShipServiceLevel"], "ship-city": address.get("City", ""),
                "ship-state": address.get("StateOrRegion", ""), "ship-postal-code": address.get("PostalCode", ""),
                "ship-country": address.get("CountryCode", ""), "carrier": carrier,
                "tracking-number": prefix + digest[16:28].upper(), "estimated-arrival-date": iso_offset(shipped + 3 * 86400),
                "fulfillment-center-id": _CENTRES.get(country, ("PHX7",))[int(digest[2:4], 16) % len(_CENTRES.get(country, ("PHX7",)))],
                "fulfillment-channel": "AFN", "sales-channel": order["SalesChannel"],
            })
    return rows


#: report types the sandbox can produce, and how: (header, rows(book, events, marketplaces, start, end))
GENERATED: dict[str, tuple[tuple[str, ...], Callable[[SellerBook, FbaEvents, list[str], int, int],
                                                     list[dict[str, Any]]]]] = {
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL": (
        ALL_ORDERS_HEADER, lambda book, events, m, a, b: all_orders_rows(book, m, a, b)),
    "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA": (
        RETURNS_HEADER, lambda book, events, m, a, b: events.select("returns", m, a, b)),
    "GET_LEDGER_DETAIL_VIEW_DATA": (LEDGER_HEADER, lambda book, events, m, a, b: events.select("ledger", m, a, b)),
    "GET_FBA_REIMBURSEMENTS_DATA": (
        REIMBURSEMENTS_HEADER, lambda book, events, m, a, b: events.select("reimbursements", m, a, b)),
    "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL": (
        SHIPMENTS_HEADER, lambda book, events, m, a, b: shipment_rows(book, m, a, b)),
}


def document_rows(report_type: str, book: SellerBook, events: FbaEvents, marketplaces: list[str], start: int,
                  end: int) -> tuple[tuple[str, ...], list[dict[str, Any]]] | None:
    """(header, rows) of a report the sandbox generates; None for a valid type it has no data model for (its
    reports come back CANCELLED, as Amazon does when there is nothing to report)."""
    generated = GENERATED.get(report_type)
    if generated is None:
        return None
    header, rows = generated
    return header, rows(book, events, marketplaces, start, end)
