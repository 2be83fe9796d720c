"""A store SKU must name one QuickBooks item: found by Name, and no other item may carry that SKU.

QuickBooks keeps item names unique, but an item's `Sku` field is free text: a bookkeeper who set up "Red Mug"
with Sku MUG-RED and ledgerlink's SKU match by name (an item named MUG-RED) would split one product's sales
over two items. Such a SKU is a dead letter naming both, so the bookkeeper decides which one it is.
"""

from __future__ import annotations

from typing import Any

from ledgerlink import OutboundRecord, RecordError

from .client import QboApi

__all__ = ["check_item_match"]


def _label(row: dict[str, Any]) -> str:
    sku = f", Sku {row.get('Sku')!r}" if row.get("Sku") else ""
    return f"{row.get('Name')!r} (Id {row.get('Id')}{sku})"


def check_item_match(api: QboApi, record: OutboundRecord, name: str, sku: str,
                     by_name: dict[str, Any] | None) -> dict[str, Any] | None:
    """The item `name` matches (`by_name`, found already), or None; a RecordError when another active item
    also carries the SKU, or several active items share the name."""
    candidates: dict[str, dict[str, Any]] = {}
    if by_name is not None and by_name.get("Active", True):
        candidates[str(by_name["Id"])] = by_name
    if sku:
        for row in api.find("Item", "Sku", sku, include_inactive=False):
            if row.get("Active", True) and str(row.get("Sku") or "").strip().casefold() == sku.strip().casefold():
                candidates.setdefault(str(row["Id"]), row)
    if len(candidates) <= 1:
        return by_name
    both = " and ".join(_label(r) for r in candidates.values())
    raise RecordError(f"SKU {sku or name!r} matches {len(candidates)} QuickBooks items: {both}", stream=record.stream,
                      key=record.key, field="Sku",
                      hint="keep one: make the other item inactive or clear its Sku in QuickBooks, or map the SKU to "
                           "the item to use with the destination option items.sku_map {SKU: item name}; then "
                           "`ledgerlink dlq retry`")
