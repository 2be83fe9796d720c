"""Settlements: Amazon's settlement flat files (V1, V2), from disk and from settlement reports.

`parser` reads a file by column name, `streams` turns it into one record per settlement, `normalise` makes
the canonical `Settlement` (all or nothing).

A stream family, as `catalogue` reads it: `STREAM_CLASSES`, `NORMALISERS` and `streams(config, client)`."""

from __future__ import annotations

from typing import Any

from ledgerlink import HttpClient, Normaliser, Stream

from .normalise import normalise_settlement
from .streams import SettlementsStream

__all__ = ["STREAM_CLASSES", "NORMALISERS", "streams"]

#: stream classes this family adds to the source (for discover)
STREAM_CLASSES: list[type[Stream]] = [SettlementsStream]
#: normalisers of those streams
NORMALISERS: list[Normaliser] = [Normaliser(stream=SettlementsStream.name, function=normalise_settlement)]


def streams(config: Any, client: HttpClient) -> list[Stream]:
    """The live streams for one config (may depend on it, e.g. settlement_files)."""
    return [SettlementsStream(config, client)]
