"""Which ledger item a store SKU posts to, and whether ledgerlink may create it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import RecordError
from ..suggest.hints import item_hint
from .options import OrderPostingOptions

__all__ = ["ItemChoice", "item_for", "ItemKind", "missing_item_hint"]

ItemKind = Literal["non_inventory", "inventory", "service"]


@dataclass(frozen=True)
class ItemChoice:
    """`name`: the ledger item's name; `create_as`: the kind to create it as when the ledger lacks it, or None
    (it must exist: a missing one is a dead letter naming the fix); `sku`: the store SKU it came from."""

    name: str
    create_as: ItemKind | None
    sku: str


def item_for(sku: str, options: OrderPostingOptions, *, default_kind: ItemKind = "non_inventory",
             stream: str = "Order", key: str | None = None, field: str | None = None) -> ItemChoice:
    """The store SKU matched to an item name (`items.sku_map`, else the SKU itself under `match: name`). A SKU
    that matches nothing under `match: sku_map` is a RecordError when `unmatched: dead_letter`."""
    rules = options.items
    name = rules.sku_map.get(sku)
    if name is None and rules.match == "sku_map":
        if rules.unmatched == "dead_letter" or not options.create_items:
            raise RecordError(f"SKU {sku!r} is not in items.sku_map", stream=stream, key=key, field=field,
                              hint=missing_item_hint(sku, options) + item_hint(sku, rules.sku_map.values()))
        name = sku
    if name is None:
        name = sku
    creatable = options.create_items and rules.unmatched == "create"
    if not creatable:
        return ItemChoice(name, None, sku)
    kind: ItemKind = next((r.as_ for r in rules.create if r.matches(sku)), rules.create_as or default_kind)
    return ItemChoice(name, kind, sku)


def missing_item_hint(sku: str, options: OrderPostingOptions) -> str:
    """What to do about a SKU no item matches, naming only the options that would change it in this pipeline:
    `items.unmatched` when it is `dead_letter`, `create_items` when that is what is off (the default `unmatched:
    create` does nothing while `create_items` is false)."""
    fixes = [f"add {sku!r}: <item name> to destination.options.items.sku_map"]
    turn_on = []
    if options.items.unmatched == "dead_letter":
        turn_on.append("items.unmatched: create")
    if not options.create_items:
        turn_on.append("create_items: true")
    fixes.append(f"let ledgerlink create the item: set {' and '.join(turn_on)} under destination.options")
    return ", or ".join(fixes) + "; then `ledgerlink dlq retry`"
