"""FBA inventory: getInventorySummaries per marketplace (`streams`) → canonical `InventoryLevel`s (`normalise`).

A stream family, as `catalogue` reads it: `STREAM_CLASSES`, `NORMALISERS` and `streams(config, client)`."""

from __future__ import annotations

from typing import Any

from ledgerlink import HttpClient, Normaliser, Stream

from .normalise import normalise_inventory
from .streams import FbaInventoryStream

__all__ = ["STREAM_CLASSES", "NORMALISERS", "streams"]

#: stream classes this family adds to the source (for discover)
STREAM_CLASSES: list[type[Stream]] = [FbaInventoryStream]
#: normalisers of those streams
NORMALISERS: list[Normaliser] = [Normaliser(stream=FbaInventoryStream.name, function=normalise_inventory)]


def streams(config: Any, client: HttpClient) -> list[Stream]:
    """The live streams for one config."""
    return [FbaInventoryStream(config, client)]
