"""Hand-built deferred transactions (Finances 2024-06-19 shape) for the deferred-transaction tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def transaction(tid: str, *, posted: str, maturity: str, status: str = "DEFERRED", principal: str = "100.00",
                tax: str = "7.25", commission: str = "-15.00", fba: str = "-3.22", mft: bool = True,
                order_id: str = "111-0000001-0000001", settlement_id: str | None = None) -> dict[str, Any]:
    def money(v: str) -> dict[str, Any]:
        return {"currencyCode": "USD", "currencyAmount": Decimal(v)}

    sales = [("Principal", principal), ("Tax", tax)]
    expenses = [("Commission", commission), ("FBAPerUnitFulfillmentFee", fba)]
    groups = [("Sales", sales), ("Expenses", expenses)]
    if mft:
        groups.append(("Tax withheld", [("MarketplaceFacilitatorTax-Principal", str(-Decimal(tax)))]))
    total = sum((Decimal(v) for _, leaves in groups for _, v in leaves), Decimal(0))
    related = [{"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": order_id}]
    if settlement_id:
        related.append({"relatedIdentifierName": "SETTLEMENT_ID", "relatedIdentifierValue": settlement_id})
    return {"transactionId": tid, "transactionType": "Shipment", "transactionStatus": status,
            "description": "Order Payment", "postedDate": posted + "T10:00:00Z", "totalAmount": money(str(total)),
            "relatedIdentifiers": related, "marketplaceDetails": {"marketplaceId": "ATVPDKIKX0DER"},
            "contexts": [{"contextType": "DeferredContext", "deferralReason": "DD7",
                          "maturityDate": maturity + "T10:00:00Z"}],
            "breakdowns": [{"breakdownType": g, "breakdownAmount": money(str(sum((Decimal(v) for _, v in leaves),
                                                                                 Decimal(0)))),
                            "breakdowns": [{"breakdownType": n, "breakdownAmount": money(v), "breakdowns": []}
                                           for n, v in leaves]} for g, leaves in groups],
            "items": []}


class PlanCtx:
    def __init__(self, options: dict[str, Any] | None = None):
        self.options = options or {}
        self.cache: dict[Any, Any] = {}
