"""The sandbox seller's money: shipments, refunds, reimbursements, fees and deferrals, derived from its orders.

Every shipped order posts a Shipment whose charges are the order's own item prices, taxes, shipping and
promotions (so finances and orders agree to the cent), less Amazon's commission and, for FBA, the per-unit
fulfilment fee; in the US, Amazon withholds the marketplace-facilitator tax. About one order in eight is refunded
(one line, in full, commission refunded less Amazon's refund fee), and some FBA refunds whose unit never came
back are reimbursed a month later. Business orders (B2B, 30 days) and a third of merchant-fulfilled orders
(DD7, 7 days) are DEFERRED until their maturity date; those already mature are released (`DEFERRED_RELEASED`,
as the model documents) and carry the settlement they were paid in.

One `FinanceEvent` list feeds both APIs' shapes: `transaction()` (Finances 2024-06-19) and
`financial_event()` (v0, which shows deferred events only once released).
"""

from __future__ import annotations

import bisect
import hashlib
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .seed import MARKETPLACES, SellerBook, iso

__all__ = ["FinanceBook", "FinanceEvent", "ItemAmounts", "transaction", "financial_event", "V0_LISTS"]

_CENT = Decimal("0.01")
_DAY = 86400
_COMMISSION = Decimal("0.15")
_FBA_FEE_USD = Decimal("3.22")
_SETTLEMENT_DAYS = 14
#: v0 FinancialEvents list for each kind of event
V0_LISTS = {"Shipment": "ShipmentEventList", "Refund": "RefundEventList", "Reimbursement": "AdjustmentEventList"}
_GROUPS = (("Sales", "charges"), ("Expenses", "fees"), ("Tax withheld", "withheld"))


def _c(amount: Decimal) -> Decimal:
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass
class ItemAmounts:
    """One order line's money in one event, by component (signed as Amazon books them for the seller)."""

    sku: str
    asin: str
    title: str
    order_item_id: str
    quantity: int
    charges: dict[str, Decimal] = field(default_factory=dict)
    fees: dict[str, Decimal] = field(default_factory=dict)
    withheld: dict[str, Decimal] = field(default_factory=dict)
    promotions: dict[str, Decimal] = field(default_factory=dict)  # promotion id -> amount
    adjustment_id: str | None = None

    def total(self) -> Decimal:
        return sum((*self.charges.values(), *self.fees.values(), *self.withheld.values(),
                    *self.promotions.values()), Decimal(0))


@dataclass
class FinanceEvent:
    kind: str  # Shipment, Refund, Reimbursement
    transaction_id: str
    order_id: str | None
    marketplace: str
    posted: int
    fulfilment: str  # AFN or MFN
    items: list[ItemAmounts]
    deferral: tuple[str, int] | None = None  # (reason, maturity date)
    released_at: int | None = None  # when a deferred event was released
    refund_id: str | None = None

    @property
    def currency(self) -> str:
        return MARKETPLACES[self.marketplace][0]

    @property
    def status(self) -> str:
        if self.deferral is None:
            return "RELEASED"
        return "DEFERRED" if self.released_at is None else "DEFERRED_RELEASED"

    def total(self) -> Decimal:
        return sum((i.total() for i in self.items), Decimal(0))

    def settlement(self) -> tuple[str, str] | None:
        """(settlement id, financial event group id) of the payout that carried it; none while deferred."""
        if self.status == "DEFERRED":
            return None
        paid = self.released_at if self.released_at is not None else self.posted
        group = paid // (_SETTLEMENT_DAYS * _DAY)
        market = list(MARKETPLACES).index(self.marketplace)
        settlement = f"{(market + 1) * 10_000_000_000 + group}"
        return settlement, "FEG" + hashlib.sha1(settlement.encode()).hexdigest()[:29].upper()


class FinanceBook:
    """Every FinanceEvent of the seller, in posted order, built once from the SellerBook."""

    def __init__(self, book: SellerBook):
        self.seed = book.seed
        newest = book.anchor - 600
        events: list[FinanceEvent] = []
        for i in range(book.count):
            order, items = book.order_and_items(i)
            if order["OrderStatus"] != "Shipped":
                continue
            events.extend(self._events(i, order, items, book.updated[i], newest))
        events.sort(key=lambda e: (e.posted, e.transaction_id))
        self.events = events
        self._posted = [e.posted for e in events]
        self.by_id = {e.transaction_id: e for e in events}

    def _id(self, *parts: object) -> str:
        return hashlib.sha1(":".join(map(str, (self.seed, *parts))).encode()).hexdigest()[:26].upper()

    def _events(self, i: int, order: dict[str, Any], items: list[dict[str, Any]], shipped: int,
                newest: int) -> list[FinanceEvent]:
        rng = random.Random(self.seed * 1_000_003 + i)
        market, order_id = order["MarketplaceId"], order["AmazonOrderId"]
        afn = order["FulfillmentChannel"] == "AFN"
        facilitator = MARKETPLACES[market][6]
        factor = MARKETPLACES[market][4]
        lines = [self._shipped_line(item, afn, facilitator, factor) for item in items if item.get("SellerSKU")]
        if not lines:
            return []
        deferral = None
        if order.get("IsBusinessOrder"):
            deferral = ("B2B", shipped + 30 * _DAY)
        elif not afn and rng.random() < 0.35:
            deferral = ("DD7", shipped + 7 * _DAY)
        shipment = FinanceEvent("Shipment", self._id("shipment", order_id), order_id, market, shipped,
                                "AFN" if afn else "MFN", lines, deferral)
        if deferral and deferral[1] <= newest:
            shipment.released_at = deferral[1]
        out = [shipment]
        if rng.random() < 0.12:
            refunded = lines[0]
            posted = shipped + rng.randint(2, 20) * _DAY + rng.randint(0, _DAY)
            if posted <= newest:
                refund = FinanceEvent("Refund", self._id("refund", order_id), order_id, market, posted,
                                      shipment.fulfilment, [self._refund_line(refunded, order_id)],
                                      refund_id=self._id("refund-id", order_id)[:12])
                out.append(refund)
                reimbursed = posted + 30 * _DAY
                if afn and rng.random() < 0.6 and reimbursed <= newest:
                    unit = _c(refunded.charges["Principal"] / refunded.quantity * Decimal("0.8"))
                    line = ItemAmounts(refunded.sku, refunded.asin, refunded.title, refunded.order_item_id, 1,
                                       charges={"FBAInventoryReimbursement": unit})
                    out.append(FinanceEvent("Reimbursement", self._id("reimbursement", order_id), order_id, market,
                                            reimbursed, "AFN", [line]))
        return out

    @staticmethod
    def _shipped_line(item: dict[str, Any], afn: bool, facilitator: bool, factor: Decimal) -> ItemAmounts:
        def amount(name: str) -> Decimal:
            return Decimal(item[name]["Amount"]) if name in item else Decimal(0)

        qty = int(item["QuantityShipped"])
        line = ItemAmounts(item["SellerSKU"], item["ASIN"], item["Title"], item["OrderItemId"], qty)
        for component, name, sign in (("Principal", "ItemPrice", 1), ("Tax", "ItemTax", 1),
                                      ("ShippingCharge", "ShippingPrice", 1), ("ShippingTax", "ShippingTax", 1)):
            if name in item:
                line.charges[component] = sign * amount(name)
        discount = amount("PromotionDiscount") + amount("ShippingDiscount")
        if discount:
            promotion = (item.get("PromotionIds") or ["FREE-SHIPPING"])[0]
            line.promotions[promotion] = -discount
        sold = amount("ItemPrice") + amount("ShippingPrice") - discount
        line.fees["Commission"] = -_c(sold * _COMMISSION)
        if afn:
            line.fees["FBAPerUnitFulfillmentFee"] = -_c(_FBA_FEE_USD * factor) * qty
        if facilitator:
            line.withheld["MarketplaceFacilitatorTax-Principal"] = -amount("ItemTax")
            if "ShippingTax" in item:
                line.withheld["MarketplaceFacilitatorTax-Shipping"] = -amount("ShippingTax")
        return line

    def _refund_line(self, shipped: ItemAmounts, order_id: str) -> ItemAmounts:
        """The whole line back to the buyer; Amazon keeps 20% of the commission (at most 5.00) as its fee."""
        commission = -shipped.fees["Commission"]
        fee = min(_c(commission * Decimal("0.2")), Decimal("5.00"))
        return ItemAmounts(
            shipped.sku, shipped.asin, shipped.title, shipped.order_item_id, shipped.quantity,
            charges={k: -v for k, v in shipped.charges.items()},
            fees={"Commission": commission, "RefundCommission": -fee},
            withheld={k: -v for k, v in shipped.withheld.items()},
            promotions={k: -v for k, v in shipped.promotions.items()},
            adjustment_id=self._id("adjustment", order_id, shipped.order_item_id)[:16])

    # ------------------------------------------------------------------ queries

    def select(self, after: int, before: int) -> list[FinanceEvent]:
        """Events posted in [after, before), oldest first."""
        return self.events[bisect.bisect_left(self._posted, after):bisect.bisect_left(self._posted, before)]

    def release(self, transaction_id: str, when: int) -> FinanceEvent:
        """Amazon releases a deferred transaction (its maturity date came, or the buyer paid the invoice)."""
        event = self.by_id.get(transaction_id)
        if event is None:
            raise KeyError(f"no transaction {transaction_id}")
        if event.status != "DEFERRED":
            raise ValueError(f"transaction {transaction_id} is {event.status}, not DEFERRED")
        event.released_at = when
        return event


# ---------------------------------------------------------------------------------------- 2024-06-19 shape


def _money(currency: str, amount: Decimal) -> dict[str, Any]:
    return {"currencyCode": currency, "currencyAmount": amount}


def _breakdowns(currency: str, items: list[ItemAmounts]) -> list[dict[str, Any]]:
    """Groups (Sales, Expenses, Tax withheld, Reimbursements) of leaves summed over `items`."""
    groups: dict[str, dict[str, Decimal]] = {}
    for item in items:
        for group, attr in _GROUPS:
            for name, value in getattr(item, attr).items():
                leaves = groups.setdefault("Reimbursements" if name == "FBAInventoryReimbursement" else group, {})
                leaves[name] = leaves.get(name, Decimal(0)) + value
        for value in item.promotions.values():
            leaves = groups.setdefault("Sales", {})
            leaves["PromotionDiscount"] = leaves.get("PromotionDiscount", Decimal(0)) + value
    return [{"breakdownType": group, "breakdownAmount": _money(currency, sum(leaves.values(), Decimal(0))),
             "breakdowns": [{"breakdownType": n, "breakdownAmount": _money(currency, v), "breakdowns": []}
                            for n, v in leaves.items()]}
            for group, leaves in groups.items()]


_DESCRIPTIONS = {"Shipment": "Order Payment", "Refund": "Refund Order",
                 "Reimbursement": "FBA Inventory Reimbursement - Customer Return"}
_TYPES = {"Shipment": "Shipment", "Refund": "Refund", "Reimbursement": "Adjustment"}


def transaction(event: FinanceEvent, seller_id: str = "A3SANDBOXSELLER") -> dict[str, Any]:
    """The event as a Finances 2024-06-19 `Transaction`."""
    currency = event.currency
    related = []
    if event.order_id:
        related.append({"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": event.order_id})
    if event.refund_id:
        related.append({"relatedIdentifierName": "REFUND_ID", "relatedIdentifierValue": event.refund_id})
    paid = event.settlement()
    if paid:
        related += [{"relatedIdentifierName": "SETTLEMENT_ID", "relatedIdentifierValue": paid[0]},
                    {"relatedIdentifierName": "FINANCIAL_EVENT_GROUP_ID", "relatedIdentifierValue": paid[1]}]
    items = []
    for item in event.items:
        entry: dict[str, Any] = {"description": item.title, "totalAmount": _money(currency, item.total())}
        if item.adjustment_id:
            entry["relatedIdentifiers"] = [{"itemRelatedIdentifierName": "ORDER_ADJUSTMENT_ITEM_ID",
                                            "itemRelatedIdentifierValue": item.adjustment_id}]
        entry["breakdowns"] = _breakdowns(currency, [item])
        entry["contexts"] = [{"contextType": "ProductContext", "asin": item.asin, "sku": item.sku,
                              "quantityShipped": item.quantity, "fulfillmentNetwork": event.fulfilment}]
        items.append(entry)
    out: dict[str, Any] = {
        "sellingPartnerMetadata": {"sellingPartnerId": seller_id, "accountType": "Standard Orders",
                                   "marketplaceId": event.marketplace},
        "relatedIdentifiers": related, "transactionType": _TYPES[event.kind], "transactionId": event.transaction_id,
        "transactionStatus": event.status, "description": _DESCRIPTIONS[event.kind], "postedDate": iso(event.posted),
        "totalAmount": _money(currency, event.total()),
        "marketplaceDetails": {"marketplaceId": event.marketplace,
                               "marketplaceName": MARKETPLACES[event.marketplace][1]},
        "items": items, "breakdowns": _breakdowns(currency, event.items)}
    if event.deferral:
        reason, maturity = event.deferral
        out["contexts"] = [{"contextType": "DeferredContext", "deferralReason": reason, "maturityDate": iso(maturity)}]
    return out


# ------------------------------------------------------------------------------------------------ v0 shape


def _m0(currency: str, amount: Decimal) -> dict[str, Any]:
    return {"CurrencyCode": currency, "CurrencyAmount": amount}


def financial_event(event: FinanceEvent) -> tuple[str, dict[str, Any]]:
    """(FinancialEvents list name, the event) in the Finances v0 shape."""
    currency = event.currency
    if event.kind == "Reimbursement":
        item = event.items[0]
        unit = item.charges["FBAInventoryReimbursement"] / item.quantity
        return V0_LISTS[event.kind], {
            "AdjustmentType": "FBAInventoryReimbursement", "PostedDate": iso(event.posted),
            "AdjustmentAmount": _m0(currency, item.total()),
            "AdjustmentItemList": [{"Quantity": str(item.quantity), "PerUnitAmount": _m0(currency, unit),
                                    "TotalAmount": _m0(currency, item.total()), "SellerSKU": item.sku,
                                    "FnSKU": "X00" + item.asin[-7:], "ProductDescription": item.title,
                                    "ASIN": item.asin}]}
    refund = event.kind == "Refund"
    suffix = "Adjustment" if refund else ""
    rows = []
    for item in event.items:
        row: dict[str, Any] = {"SellerSKU": item.sku, "OrderItemId": item.order_item_id}
        if item.adjustment_id:
            row["OrderAdjustmentItemId"] = item.adjustment_id
        row["QuantityShipped"] = item.quantity
        row[f"ItemCharge{suffix}List"] = [{"ChargeType": k, "ChargeAmount": _m0(currency, v)}
                                          for k, v in item.charges.items()]
        row[f"ItemFee{suffix}List"] = [{"FeeType": k, "FeeAmount": _m0(currency, v)} for k, v in item.fees.items()]
        if item.withheld:
            row["ItemTaxWithheldList"] = [{"TaxCollectionModel": "MarketplaceFacilitator", "TaxesWithheld": [
                {"ChargeType": k, "ChargeAmount": _m0(currency, v)} for k, v in item.withheld.items()]}]
        if item.promotions:
            row[f"Promotion{suffix}List"] = [
                {"PromotionType": "PromotionMetaDataDefinitionValue", "PromotionId": k,
                 "PromotionAmount": _m0(currency, v)} for k, v in item.promotions.items()]
        rows.append(row)
    return V0_LISTS[event.kind], {
        "AmazonOrderId": event.order_id, "MarketplaceName": MARKETPLACES[event.marketplace][1],
        "PostedDate": iso(event.posted), f"ShipmentItem{suffix}List": rows}
