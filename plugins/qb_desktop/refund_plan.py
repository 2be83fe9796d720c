"""Posting rules for refunds and returns (issue 8: filled in by the returns work).

`plan_refund`: a Refund → a credit memo or refund receipt; `plan_return`: a Return that came back sellable →
the inventory adjustment that restocks it (cost of goods reverses with it).
"""

from __future__ import annotations

from ledgerlink import PlanContext, PlannedWrite, Refund, Return

__all__ = ["plan_refund", "plan_return"]


def plan_refund(refund: Refund, ctx: PlanContext) -> list[PlannedWrite]:
    return []


def plan_return(ret: Return, ctx: PlanContext) -> list[PlannedWrite]:
    return []
