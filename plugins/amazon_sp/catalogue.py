"""The source's streams beyond orders, one subpackage per API family, gathered in one place.

Orders (v0 and 2026-01-01) have their own reading loop in `source.py` (one pass feeds `orders` and
`order_items`); every other family is a subpackage exposing `STREAM_CLASSES`, `NORMALISERS` and
`streams(config, client)`, read by the toolkit's default loop.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ledgerlink import HttpClient, Normaliser, Stream

from . import finances, inventory, reports, settlements

__all__ = ["FAMILIES", "stream_classes", "streams", "normalisers"]

FAMILIES: tuple[ModuleType, ...] = (inventory, finances, reports, settlements)


def stream_classes() -> list[type[Stream]]:
    return [cls for family in FAMILIES for cls in family.STREAM_CLASSES]


def streams(config: Any, client: HttpClient) -> list[Stream]:
    return [s for family in FAMILIES for s in family.streams(config, client)]


def normalisers() -> list[Normaliser]:
    return [n for family in FAMILIES for n in family.NORMALISERS]
