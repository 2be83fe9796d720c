"""The sandbox seller's FBA inventory: one summary per SKU and marketplace, agreeing with its orders.

Units reserved for customer orders are exactly the units of the seller's FBA orders still Pending or
Unshipped in that marketplace, and a summary's `lastUpdatedTime` is no older than the last FBA order that
moved it, so inventory and orders tell one story. The other quantities come from the seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from .seed import MARKETPLACES, SKUS, SellerBook, iso

__all__ = ["InventoryBook", "StockLevel", "INBOUND_FIELDS"]

#: quantities whose changes Amazon's startDateTime filter does not detect (the model says so)
INBOUND_FIELDS = ("inboundWorkingQuantity", "inboundShippedQuantity", "inboundReceivingQuantity")
_RESERVED = ("pendingCustomerOrderQuantity", "pendingTransshipmentQuantity", "fcProcessingQuantity")
_UNFULFILLABLE = ("customerDamagedQuantity", "warehouseDamagedQuantity", "distributorDamagedQuantity",
                  "carrierDamagedQuantity", "defectiveQuantity", "expiredQuantity")
_RESEARCHING = ("researchingQuantityInShortTerm", "researchingQuantityInMidTerm", "researchingQuantityInLongTerm")


@dataclass
class StockLevel:
    """One SKU in one marketplace's slice of the FBA network."""

    marketplace: str
    sku: int  # index into SKUS
    quantities: dict[str, int]
    #: when any quantity last changed (`lastUpdatedTime`)
    updated: int
    #: when a change startDateTime can see last happened (inbound changes are invisible to it)
    detected: int
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self, details: bool) -> dict[str, Any]:
        """The `InventorySummary` getInventorySummaries returns (`inventoryDetails` only with details=true)."""
        entry = SKUS[self.sku]
        q = self.quantities
        reserved = sum(q[f] for f in _RESERVED)
        unfulfillable = sum(q[f] for f in _UNFULFILLABLE)
        researching = sum(q[f] for f in _RESEARCHING)
        total = q["fulfillableQuantity"] + sum(q[f] for f in INBOUND_FIELDS) + reserved + unfulfillable + researching
        out: dict[str, Any] = {
            "asin": entry.asin, "fnSku": "X00" + entry.asin[-7:], "sellerSku": entry.sku, "condition": "NewItem"}
        if details:
            out["inventoryDetails"] = {
                "fulfillableQuantity": q["fulfillableQuantity"],
                **{f: q[f] for f in INBOUND_FIELDS},
                "reservedQuantity": {"totalReservedQuantity": reserved, **{f: q[f] for f in _RESERVED}},
                "researchingQuantity": {
                    "totalResearchingQuantity": researching,
                    "researchingQuantityBreakdown": [{"name": f, "quantity": q[f]} for f in _RESEARCHING if q[f]]},
                "unfulfillableQuantity": {"totalUnfulfillableQuantity": unfulfillable,
                                          **{f: q[f] for f in _UNFULFILLABLE}},
            }
        out.update({"lastUpdatedTime": iso(self.updated), "productName": entry.title, "totalQuantity": total})
        out.update(self.extra)
        return out


class InventoryBook:
    """Every StockLevel of the seller, per marketplace in SKU order (Amazon pages them in a stable order)."""

    def __init__(self, book: SellerBook):
        rng = random.Random(book.seed * 7_919 + 31)
        pending: dict[tuple[str, str], int] = {}
        moved: dict[tuple[str, str], int] = {}
        for i in range(book.count):
            order, items = book.order_and_items(i)
            if order["FulfillmentChannel"] != "AFN":
                continue
            market = order["MarketplaceId"]
            for item in items:
                sku = item.get("SellerSKU")
                if not sku:
                    continue
                key = (market, sku)
                moved[key] = max(moved.get(key, 0), book.updated[i])
                if order["OrderStatus"] in ("Pending", "Unshipped"):
                    pending[key] = pending.get(key, 0) + int(item["QuantityOrdered"])
        base = book.anchor - 30 * 86400
        self.levels: dict[str, list[StockLevel]] = {}
        for market in MARKETPLACES:
            levels = []
            for n, entry in enumerate(SKUS):
                q = {"fulfillableQuantity": 0 if rng.random() < 0.1 else rng.randint(5, 400)}
                for f in INBOUND_FIELDS:
                    q[f] = rng.choice((0, 0, 0, rng.randint(1, 120)))
                q["pendingCustomerOrderQuantity"] = pending.get((market, entry.sku), 0)
                q["pendingTransshipmentQuantity"] = rng.choice((0, 0, rng.randint(1, 20)))
                q["fcProcessingQuantity"] = rng.choice((0, 0, 0, rng.randint(1, 5)))
                for f in _UNFULFILLABLE:
                    q[f] = rng.choice((0, 0, 0, 0, rng.randint(1, 4)))
                for f in _RESEARCHING:
                    q[f] = rng.choice((0, 0, 0, 0, rng.randint(1, 3)))
                when = max(base + rng.randint(0, 20 * 86400), moved.get((market, entry.sku), 0))
                levels.append(StockLevel(market, n, q, when, when))
            levels.sort(key=lambda s: SKUS[s.sku].sku)
            self.levels[market] = levels

    def find(self, market: str, sku: str) -> StockLevel | None:
        return next((s for s in self.levels.get(market, []) if SKUS[s.sku].sku == sku), None)

    def update(self, market: str, sku: str, when: int, **quantities: int) -> StockLevel:
        """A change in the FBA network (receipt, sale, damage…). Only inbound changes stay invisible to
        startDateTime, as on Amazon."""
        level = self.find(market, sku)
        if level is None:
            raise KeyError(f"{sku} is not stocked in {market}")
        unknown = set(quantities) - set(level.quantities)
        if unknown:
            raise KeyError(f"unknown quantities {sorted(unknown)}; known: {sorted(level.quantities)}")
        level.quantities.update(quantities)
        level.updated = when
        if set(quantities) - set(INBOUND_FIELDS):
            level.detected = when
        return level
