"""Which way a stock level may flow, and whether it should: plain functions of what each side last said.

Two systems count the same stock: the channel (a store, Amazon) and QuickBooks. For each SKU ledgerlink keeps
the quantity both last agreed on and what each side was last seen to say (`SkuState`, kept in the shared
baseline file). A level read from one side is compared three ways:

- both sides say the same quantity: they agree (this is how a value ledgerlink wrote, read back from the other
  side, is recognised: it is not a new change, so nothing oscillates);
- the side read has not moved since the agreement: nothing to do (a change on the other side flows the other way);
- it moved and the other side did not: the other side is brought to it;
- both moved to different quantities: a conflict, which the configured rule settles (`channel_wins` or
  `quickbooks_wins`); the winner's quantity is written to the loser, and the loser's own change is not sent.

A SKU mastered by one side only flows from that side. Amazon's own warehouses (FBA) are always the channel's.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from .options import InventoryOptions, Master

__all__ = ["Side", "SkuState", "Decision", "OTHER", "master_of", "may_flow", "decide", "settle", "winner"]

Side = Literal["channel", "quickbooks"]
OTHER: dict[str, Side] = {"channel": "quickbooks", "quickbooks": "channel"}


@dataclass(frozen=True)
class SkuState:
    """What the baseline knows of one SKU (None: never seen)."""

    agreed: Decimal | None = None
    channel: Decimal | None = None
    quickbooks: Decimal | None = None
    #: when each side was first seen at its current quantity (ISO text): the snapshot a write is keyed by
    channel_at: str | None = None
    quickbooks_at: str | None = None
    #: seen at an Amazon fulfilment centre: channel-mastered for good
    fba: bool = False

    def seen(self, side: Side) -> Decimal | None:
        return self.channel if side == "channel" else self.quickbooks

    @property
    def snapshot(self) -> str:
        """The later of the two sides' times: a new one whenever either side was seen to change."""
        return max(self.channel_at or "", self.quickbooks_at or "") or "-"


@dataclass(frozen=True)
class Decision:
    """What to do with a level read from one side.

    `write`: bring the other side to the level's quantity. `yield_if_changed`: at write time, where the other
    side is read fresh, do not write when it has moved from `agreed` (the rule says its change wins)."""

    write: bool
    why: str
    conflict: bool = False
    yield_if_changed: bool = False
    agreed: Decimal | None = None


def master_of(sku: str, options: InventoryOptions, *, fba: bool = False) -> Master:
    """The SKU's master: FBA stock (seen at an Amazon fulfilment centre, or listed in `fba_skus`) is always the
    channel's, whatever the config says; otherwise the per-SKU entry, a matching pattern, or the default."""
    if fba or options.listed_fba(sku):
        return "channel"
    return options.configured_master(sku)


def may_flow(master: Master, side: Side) -> bool:
    """May a level read from `side` be written to the other side?"""
    return master == "two_way" or master == side


def winner(rule: str) -> Side:
    return "channel" if rule == "channel_wins" else "quickbooks"


def decide(side: Side, value: Decimal, state: SkuState, master: Master, rule: str) -> Decision:
    """The three-way comparison for a level read from `side` at `value` (see the module docstring)."""
    other = OTHER[side]
    if not may_flow(master, side):
        return Decision(False, f"{other} masters this SKU")
    seen_other = state.seen(other)
    if seen_other is not None and seen_other == value:
        return Decision(False, "both sides agree", agreed=value)
    if master == side:
        return Decision(True, f"{side} masters this SKU", agreed=state.agreed)
    agreed = state.agreed
    if agreed is not None and value == agreed:
        return Decision(False, f"{side} unchanged since both agreed", agreed=agreed)
    other_moved = seen_other is not None and (agreed is None or seen_other != agreed)
    if other_moved:
        if winner(rule) == side:
            return Decision(True, f"conflict: both changed, {rule}", conflict=True, agreed=agreed)
        return Decision(False, f"conflict: both changed, {rule}", conflict=True, agreed=agreed)
    # only this side is known to have moved: write, unless the other side turns out to have moved too and wins
    return Decision(True, f"{side} changed", yield_if_changed=winner(rule) == other, agreed=agreed)


def settle(target: Decimal, current: Decimal, decision: Decision) -> Literal["agreed", "yield", "write"]:
    """At write time, with the other side's quantity read fresh (`current`): already there, step aside for a
    conflicting change the rule prefers, or write."""
    if current == target:
        return "agreed"
    if decision.yield_if_changed and (decision.agreed is None or current != decision.agreed):
        return "yield"
    return "write"
