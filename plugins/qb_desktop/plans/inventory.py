"""Posting rules for stock levels read from a channel: an InventoryLevel of a SKU the channel masters (or a
two-way SKU that moved on the channel) → an `InventoryAdjustmentAdd` that sets QuickBooks Desktop's quantity
to the channel's on-hand count (`NewQuantity`: QuickBooks computes the difference itself, so nothing needs
reading first).

Which SKUs move, and the conflict rule, are `ledgerlink.inventory`'s. QuickBooks Desktop answers only when
its Web Connector polls, so its own quantity cannot be read at plan time: a two-way SKU that moved on the
channel is written whatever moved in QuickBooks meanwhile (the conflict rule applies in QuickBooks Online, which
is read at write time). The first line of Memo is the key; the key carries the baseline snapshot, so the same
levels read again plan nothing new.
"""

from __future__ import annotations

from ledgerlink import InventoryLevel, PlanContext, PlannedWrite, idempotency_key, inventory

from .orders import MEMO_PREFIX

__all__ = ["plan_inventory", "DEFAULT_ADJUST_ACCOUNT"]

#: the simulator's (and a new company file's usual) account for stock written off or found
DEFAULT_ADJUST_ACCOUNT = "Inventory Adjustments"
MEMO_MAX = 4095


def plan_inventory(level: InventoryLevel, ctx: PlanContext) -> list[PlannedWrite]:
    move = inventory.to_quickbooks(level, ctx.options, ctx.cache)
    if move is None:
        return []
    key = idempotency_key("InventoryAdjustment", f"{level.natural_key}@{move.snapshot}")
    body = {
        "AccountRef": {"FullName": move.options.account or DEFAULT_ADJUST_ACCOUNT},
        "TxnDate": move.snapshot_time.date().isoformat(),
        "Memo": (MEMO_PREFIX + move.options.memo(key, level.source, move.detail()))[:MEMO_MAX],
        "InventoryAdjustmentLineAdd": [{"ItemRef": {"FullName": level.sku},
                                        "QuantityAdjustment": {"NewQuantity": int(move.quantity)}}],
    }
    return [PlannedWrite(stream="InventoryAdjustment", key=key, data={"InventoryAdjustmentAdd": body},
                         source_refs=list(level.source_refs), natural_key=level.natural_key)]
