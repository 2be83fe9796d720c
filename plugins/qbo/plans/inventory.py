"""Posting rules for stock levels read from a channel: an InventoryLevel of a SKU the channel masters (or a
two-way SKU that moved on the channel) → an `InventoryAdjustment` that brings QuickBooks to the channel's
on-hand quantity.

QuickBooks Online adjusts by difference (`QtyDiff`), which only the Item's `QtyOnHand` at write time can give:
the plan names the target quantity in the payload's private `_inventory` section and `inventory_write.py`
reads the Item just before posting (nothing is posted when it already holds that quantity). Which SKUs move,
and the conflict rule, are `ledgerlink.inventory`'s. The key is the level's natural key at the baseline
snapshot: the same levels read again plan nothing new.
"""

from __future__ import annotations

from ledgerlink import InventoryLevel, PlanContext, PlannedWrite, idempotency_key, inventory

from .orders import NOTE_PREFIX

__all__ = ["plan_inventory", "DEFAULT_ADJUST_ACCOUNT"]

#: QuickBooks Online's own account for stock written off or found (Cost of Goods Sold type)
DEFAULT_ADJUST_ACCOUNT = "Inventory Shrinkage"


def plan_inventory(level: InventoryLevel, ctx: PlanContext) -> list[PlannedWrite]:
    move = inventory.to_quickbooks(level, ctx.options, ctx.cache)
    if move is None:
        return []
    key = idempotency_key("InventoryAdjustment", f"{level.natural_key}@{move.snapshot}")
    data = {
        "TxnDate": move.snapshot_time.date().isoformat(),
        "AdjustAccountRef": {"name": move.options.account or DEFAULT_ADJUST_ACCOUNT},
        "PrivateNote": NOTE_PREFIX + move.options.memo(key, level.source, move.detail()),
        "Line": [{"DetailType": "ItemAdjustmentLineDetail",
                  "ItemAdjustmentLineDetail": {"ItemRef": {"name": level.sku}}}],
        inventory.MARKER: move.marker(),
    }
    return [PlannedWrite(stream="InventoryAdjustment", key=key, data=data, source_refs=list(level.source_refs),
                         natural_key=level.natural_key)]
