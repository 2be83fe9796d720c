"""An FBA `InventorySummary` → the canonical `InventoryLevel` at its marketplace's Amazon location."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerlink import InventoryLevel, RecordError, SourceRef

from ..timestamps import parse_time
from .streams import FbaInventoryStream

__all__ = ["normalise_inventory", "location_of"]



def location_of(marketplace: str) -> str:
    """The canonical location of FBA stock sold in one marketplace: Amazon's fulfilment network there."""
    return f"amazon_fba/{marketplace}"


def _count(node: dict[str, Any], name: str, key: str, *, required: bool = False) -> Decimal:
    value = node.get(name)
    if value is None:
        if required:
            raise RecordError("missing quantity", stream=FbaInventoryStream.name, key=key, field=name,
                              hint="Amazon sends every quantity with details=true")
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RecordError(f"{value!r} is not a count of units", stream=FbaInventoryStream.name, key=key, field=name)
    return Decimal(value)


def normalise_inventory(summary: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[InventoryLevel]:
    """An InventorySummary (read with details=true) → InventoryLevel at `amazon_fba/<marketplace>`.

    available = fulfillable; reserved, unfulfillable = Amazon's totals; inbound = working + shipped + receiving;
    on_hand = the units in Amazon's buildings: fulfillable + reserved + unfulfillable + researching."""
    market, sku = summary.get("marketplaceId"), summary.get("sellerSku")
    key = f"{market}/{sku}"
    if not sku:
        raise RecordError("summary has no sellerSku", stream=FbaInventoryStream.name, key=key, field="sellerSku",
                          hint=f"Amazon lists ASIN {summary.get('asin') or '?'} without a SKU: fix the listing")
    if not market:
        raise RecordError("summary has no marketplaceId", stream=FbaInventoryStream.name, key=key,
                          field="marketplaceId", hint="re-read the fba_inventory stream with this plugin")
    details = summary.get("inventoryDetails")
    if not isinstance(details, dict):
        raise RecordError("no inventoryDetails", stream=FbaInventoryStream.name, key=key, field="inventoryDetails",
                          hint="read getInventorySummaries with details=true (the fba_inventory stream does)")
    fulfillable = _count(details, "fulfillableQuantity", key, required=True)
    inbound = sum((_count(details, f, key) for f in ("inboundWorkingQuantity", "inboundShippedQuantity",
                                                     "inboundReceivingQuantity")), Decimal(0))
    reserved = _count(details.get("reservedQuantity") or {}, "totalReservedQuantity", key)
    unfulfillable = _count(details.get("unfulfillableQuantity") or {}, "totalUnfulfillableQuantity", key)
    researching = _count(details.get("researchingQuantity") or {}, "totalResearchingQuantity", key)
    text = summary.get("lastUpdatedTime")
    try:
        as_of = parse_time(str(text))
    except ValueError:
        raise RecordError(f"{text!r} is not an ISO 8601 time", stream=FbaInventoryStream.name, key=key,
                          field="lastUpdatedTime") from None
    return [InventoryLevel(
        source="amazon_sp", source_refs=[SourceRef(stream=FbaInventoryStream.name, key=key)], sku=str(sku),
        location=location_of(str(market)), on_hand=fulfillable + reserved + unfulfillable + researching,
        available=fulfillable, reserved=reserved, inbound=inbound, unfulfillable=unfulfillable, as_of=as_of)]
