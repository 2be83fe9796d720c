"""The two directions, as destinations' plans and writes call them.

- `to_quickbooks(level, options)`: a level read from a channel → the quantity QuickBooks should be brought to,
  or None (QuickBooks masters the SKU, the channel did not move, the level is at another location...).
- `to_channel(level, options)`: a level read from QuickBooks → the level to write to the channel, or None.
- `after_quickbooks_read(marker, current)` / `after_quickbooks_write(marker)`: at write time, where QuickBooks'
  own quantity is read fresh, settle the plan against it and record what QuickBooks now says.

Both directions record what they read in the baseline, so the other direction knows it (see decide.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from ..commerce import InventoryLevel
from ..connectors import OutboundRecord, PlannedWrite, WriteResult
from ..errors import RecordError
from .baseline import open_baseline
from .decide import Decision, Side, decide, master_of, settle
from .options import InventoryOptions, parse_inventory_options

__all__ = ["StockMove", "to_quickbooks", "to_channel", "after_quickbooks_read", "after_quickbooks_write",
           "mark_channel_write", "record_channel_writes", "enabled", "QUICKBOOKS_LOCATION", "is_fba", "MARKER"]

#: the location of a level read from QuickBooks (QuickBooks Online counts one quantity per item)
QUICKBOOKS_LOCATION = "quickbooks"
#: the private payload section that carries a plan's decision to write time (never sent to QuickBooks)
MARKER = "_inventory"


def is_fba(level: InventoryLevel) -> bool:
    """Stock in Amazon's fulfilment network (the amazon_sp source's FBA levels are at `amazon_fba/<market>`)."""
    return level.location.startswith("amazon_fba")


@dataclass(frozen=True)
class StockMove:
    """A quantity to write to the other side, why, and what write time must check."""

    sku: str
    quantity: Decimal
    source: str
    location: str
    scope: str | None
    #: the baseline snapshot (ISO time): a write is keyed by it, so a re-read of the same levels plans nothing new
    snapshot: str
    decision: Decision
    options: InventoryOptions

    @property
    def snapshot_time(self) -> datetime:
        return datetime.fromisoformat(self.snapshot)

    def marker(self) -> dict[str, Any]:
        """What write time needs, in the payload's private `_inventory` section (deterministic: the payload's
        hash must not change when the same snapshot is planned again)."""
        return {"sku": self.sku, "target": _text(self.quantity), "agreed": _text(self.decision.agreed),
                "yield_if_changed": self.decision.yield_if_changed, "conflict": self.decision.conflict,
                "baseline": str(self.options.baseline_path), "scope": self.scope,
                "unknown_skus": self.options.unknown_skus, "why": self.decision.why}

    def detail(self) -> str:
        return f"{self.location} says {_text(self.quantity)} on hand ({self.decision.why})"


def _text(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


def enabled(options: dict[str, Any] | None) -> bool:
    """Is the inventory flow switched on (an `inventory` section, even empty, in the destination's options)?"""
    return isinstance(options, dict) and options.get("inventory") is not None


def _count(level: InventoryLevel) -> Decimal:
    """A stock count: a whole number of units, not below zero (an oversold channel is a dead letter to look
    at, not a quantity to copy into the books)."""
    value = level.on_hand
    if value != value.to_integral_value():
        raise RecordError(f"on-hand quantity {value} of SKU {level.sku} is not a whole number of units",
                          stream="inventory_level", key=level.natural_key, field="on_hand",
                          hint="check the source's stock record for this SKU")
    if value < 0:
        raise RecordError(f"on-hand quantity {value} of SKU {level.sku} is negative", stream="inventory_level",
                          key=level.natural_key, field="on_hand",
                          hint="count the stock and correct it where it is kept, then sync again; a negative "
                               "count is never copied across")
    return value


def _move(side: Side, level: InventoryLevel, options: InventoryOptions) -> StockMove | None:
    quantity = _count(level)
    baseline = open_baseline(options.baseline_path)
    fba = side == "channel" and is_fba(level)
    # not scoped by `level.store`: the two directions read different systems (a store, a company), which name
    # themselves differently; one baseline file belongs to one store ↔ company pair
    state = baseline.observe(side, level.sku, quantity, fba=fba)
    master = master_of(level.sku, options, fba=state.fba)
    if side == "quickbooks" and master == "two_way" and state.channel is None:
        # two-way: only SKUs the channel → QuickBooks pipeline saw on the channel (QuickBooks also counts what no
        # store sells); a QuickBooks-mastered SKU goes to the channel whatever it was seen to stock
        return None
    decision = decide(side, quantity, state, master, options.conflict)
    if not decision.write:
        return None
    return StockMove(level.sku, quantity, level.source, level.location, None, state.snapshot, decision, options)


def to_quickbooks(level: InventoryLevel, options: dict[str, Any] | None,
                  cache: dict[Any, Any] | None = None) -> StockMove | None:
    """A channel's level → the quantity QuickBooks should now hold, or None. Opt-in: a pipeline whose options
    have no `inventory` section posts no stock (an orders pipeline that happens to read levels changes nothing)."""
    if not enabled(options):
        return None
    parsed = parse_inventory_options(options, cache)
    if level.location == QUICKBOOKS_LOCATION:
        return None  # QuickBooks' own count is not posted back into QuickBooks
    if parsed.location is not None and level.location != parsed.location:
        return None  # QuickBooks mirrors one channel location
    return _move("channel", level, parsed)


def to_channel(level: InventoryLevel, options: dict[str, Any] | None, cache: dict[Any, Any] | None = None, *,
               require_location: bool = False) -> InventoryLevel | None:
    """A QuickBooks level → the level to write to the channel (at the configured location, keyed by the
    baseline snapshot), or None: FBA and channel-mastered SKUs are never written from QuickBooks."""
    if level.location != QUICKBOOKS_LOCATION or is_fba(level) or not enabled(options):
        return None  # a channel's own level (the channel destinations handle it as before), or not switched on
    parsed = parse_inventory_options(options, cache)
    if require_location and parsed.location is None:
        raise RecordError("the channel location QuickBooks quantities go to is not set", stream="inventory_level",
                          key=level.natural_key, field="inventory.location",
                          hint="set destination.options.inventory.location to the location id or code")
    move = _move("quickbooks", level, parsed)
    if move is None:
        return None
    return level.model_copy(update={"location": parsed.location or level.location, "as_of": move.snapshot_time})


def after_quickbooks_read(marker: dict[str, Any], current: Decimal) -> Literal["agreed", "yield", "write"]:
    """Write time: QuickBooks holds `current` now. Record it, and say whether the planned quantity is already
    there, must give way to a conflicting QuickBooks change (the rule prefers QuickBooks), or is written."""
    target = Decimal(str(marker["target"]))
    agreed = Decimal(str(marker["agreed"])) if marker.get("agreed") is not None else None
    decision = Decision(True, str(marker.get("why") or ""), bool(marker.get("conflict")),
                        bool(marker.get("yield_if_changed")), agreed)
    outcome = settle(target, current, decision)
    open_baseline(Path(marker["baseline"])).observe("quickbooks", str(marker["sku"]), current,
                                                    scope=marker.get("scope"))
    return outcome


def after_quickbooks_write(marker: dict[str, Any]) -> None:
    """Write time: QuickBooks was brought to the planned quantity; both sides now agree on it."""
    open_baseline(Path(marker["baseline"])).observe("quickbooks", str(marker["sku"]), Decimal(str(marker["target"])),
                                                    scope=marker.get("scope"))


def mark_channel_write(write: PlannedWrite, level: InventoryLevel, options: dict[str, Any] | None,
                       cache: dict[Any, Any] | None = None) -> PlannedWrite:
    """Carry what `record_channel_writes` needs in the channel write's private `_inventory` section (the channel
    destinations send only the fields they know)."""
    parsed = parse_inventory_options(options, cache)
    write.data[MARKER] = {"sku": level.sku, "target": _text(level.on_hand), "baseline": str(parsed.baseline_path)}
    return write


def record_channel_writes(records: list[OutboundRecord], results: list[WriteResult]) -> list[WriteResult]:
    """After a channel destination wrote QuickBooks' quantities: the channel now says them, so both sides agree
    (and a change made on the channel before the next read is seen as one). A write the channel skipped (an FBA
    or unlisted SKU: no id, not created) records nothing."""
    by_key = {r.key: r for r in records}
    for result in results:
        record = by_key.get(result.key)
        marker = record.data.get(MARKER) if record is not None else None
        if not isinstance(marker, dict) or not result.ok or result.retry or result.awaiting:
            continue
        if result.created or result.destination_id:
            open_baseline(Path(marker["baseline"])).observe("channel", str(marker["sku"]),
                                                            Decimal(str(marker["target"])))
    return results
