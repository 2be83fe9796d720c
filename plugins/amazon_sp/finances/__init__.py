"""Finances: refunds from listTransactions (2024-06-19) or v0 listFinancialEvents. `streams` reads, `normalise`
turns refunds into canonical `Refund`s.

A stream family, as `catalogue` reads it: `STREAM_CLASSES`, `NORMALISERS` and `streams(config, client)`."""

from __future__ import annotations

from typing import Any

from ledgerlink import HttpClient, Normaliser, Stream

from .deferred import normalise_finances
from .normalise import normalise_financial_event, normalise_transaction
from .streams import FinancesStream, FinancialEventsStream

__all__ = ["STREAM_CLASSES", "NORMALISERS", "streams"]

#: stream classes this family adds to the source (for discover)
STREAM_CLASSES: list[type[Stream]] = [FinancesStream, FinancialEventsStream]
#: normalisers of those streams
NORMALISERS: list[Normaliser] = [Normaliser(stream=FinancesStream.name, function=normalise_finances),
                                 Normaliser(stream=FinancialEventsStream.name, function=normalise_financial_event)]


def streams(config: Any, client: HttpClient) -> list[Stream]:
    """The configured Finances API's stream only (a catalog may list both)."""
    if config.finances_api == "v0":
        return [FinancialEventsStream(config, client)]
    return [FinancesStream(config, client)]
