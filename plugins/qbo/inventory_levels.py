"""QuickBooks Online inventory items → stock levels, for pipelines that push QuickBooks' quantities to a channel.

One `InventoryLevel` per active inventory item that tracks its quantity: SKU = the item's Name (the name the
order flow matches store SKUs to), location `quickbooks` (QuickBooks Online counts one quantity per item),
on-hand = `QtyOnHand`. Which of them reach a channel is `ledgerlink.inventory`'s decision (masters, FBA, the
baseline); the items stream reads every inventory item on every run, since QtyOnHand moves without a new
LastUpdatedTime.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ledgerlink import InventoryLevel, Normaliser, RecordError, SourceRef, inventory, to_decimal

from .streams import DELETED

__all__ = ["normalise_item", "NORMALISERS"]


def normalise_item(rec: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[InventoryLevel]:
    if rec.get(DELETED) or rec.get("Type") != "Inventory" or not rec.get("TrackQtyOnHand", True) \
            or rec.get("Active") is False:
        return []
    key = str(rec.get("Id") or "")
    name = str(rec.get("Name") or "")
    if not name:
        raise RecordError("inventory item has no Name", stream="items", key=key, field="Name")
    try:
        quantity = to_decimal(rec.get("QtyOnHand") if rec.get("QtyOnHand") is not None else 0, field="QtyOnHand")
    except (TypeError, ValueError) as exc:
        raise RecordError(f"QtyOnHand {rec.get('QtyOnHand')!r} is not a quantity ({exc})", stream="items", key=key,
                          field="QtyOnHand") from None
    return [InventoryLevel(source="qbo", source_refs=[SourceRef(stream="items", key=key)], sku=name,
                           location=inventory.QUICKBOOKS_LOCATION, on_hand=quantity,
                           as_of=datetime.now(timezone.utc).replace(microsecond=0))]


NORMALISERS = [Normaliser(stream="items", function=normalise_item)]
