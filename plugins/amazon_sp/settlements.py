"""Placeholder: filled in by the settlements work (streams, normalisers)."""

from __future__ import annotations

from typing import Any

from ledgerlink import HttpClient, Normaliser, Stream

#: stream classes this module adds to the source (for discover)
STREAM_CLASSES: list[type[Stream]] = []
#: normalisers of those streams
NORMALISERS: list[Normaliser] = []


def streams(config: Any, client: HttpClient) -> list[Stream]:
    """The live streams for one config (may depend on it, e.g. settlement_files)."""
    return []
