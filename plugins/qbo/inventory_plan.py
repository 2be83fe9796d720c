"""Posting rules for stock levels read from a channel (issue 8: filled in by the inventory work).

`plan_inventory`: an InventoryLevel of a channel-mastered SKU → the inventory adjustment that brings QuickBooks
to the channel's quantity.
"""

from __future__ import annotations

from ledgerlink import InventoryLevel, PlanContext, PlannedWrite

__all__ = ["plan_inventory"]


def plan_inventory(level: InventoryLevel, ctx: PlanContext) -> list[PlannedWrite]:
    return []
