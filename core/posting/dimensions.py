"""The class, location and department a store's documents carry (`stores` option, `"*"` for any store)."""

from __future__ import annotations

from dataclasses import dataclass

from ..commerce import CanonicalObject
from .options import OrderPostingOptions

__all__ = ["Dimensions", "dimensions_for", "number_for"]


@dataclass(frozen=True)
class Dimensions:
    class_name: str | None = None
    location: str | None = None
    department: str | None = None
    number_prefix: str | None = None

    def __bool__(self) -> bool:
        return any((self.class_name, self.location, self.department))


def dimensions_for(obj: CanonicalObject, options: OrderPostingOptions) -> Dimensions:
    """The `stores` entry of the object's store, else the `"*"` entry, else none."""
    entry = options.stores.get(obj.store) if obj.store else None
    if entry is None:
        entry = options.stores.get("*")
    if entry is None:
        return Dimensions()
    return Dimensions(entry.class_, entry.location, entry.department or entry.location, entry.number_prefix)


def number_for(obj: CanonicalObject, options: OrderPostingOptions, number: str) -> str:
    """A document number as the ledger should show it: the store's `number_prefix` (if any) and the channel's
    number (an order or refund id). The ledger plugin then fits it to its field's length."""
    return f"{dimensions_for(obj, options).number_prefix or ''}{number}"
