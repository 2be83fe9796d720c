"""Reports API (2021-06-30): `engine` walks a report's life and parses its document; `streams` are the report
types read (FBA customer returns, inventory ledger, reimbursements, all orders, FBA shipments); `normalise`
and `returns_normalise` turn their rows into canonical objects.

A stream family, as `catalogue` reads it: `STREAM_CLASSES`, `NORMALISERS` and `streams(config, client)`."""

from __future__ import annotations

from typing import Any

from ledgerlink import HttpClient, Normaliser, Stream

from .normalise import normalise_all_orders, normalise_fba_shipment
from .returns_normalise import normalise_customer_return
from .streams import (
    AllOrdersReportStream, FbaCustomerReturnsStream, FbaInventoryLedgerStream, FbaReimbursementsStream,
    FbaShipmentsStream, engine_for,
)

__all__ = ["STREAM_CLASSES", "NORMALISERS", "streams"]

#: stream classes this family adds to the source (for discover)
STREAM_CLASSES: list[type[Stream]] = [FbaCustomerReturnsStream, FbaInventoryLedgerStream, FbaReimbursementsStream,
                                      AllOrdersReportStream, FbaShipmentsStream]
#: normalisers of those streams (ledger and reimbursements are staged only, for later flows)
NORMALISERS: list[Normaliser] = [Normaliser(stream=AllOrdersReportStream.name, function=normalise_all_orders),
                                 Normaliser(stream=FbaShipmentsStream.name, function=normalise_fba_shipment),
                                 Normaliser(stream=FbaCustomerReturnsStream.name, function=normalise_customer_return)]


def streams(config: Any, client: HttpClient) -> list[Stream]:
    """Every report stream, sharing one engine; the catalog picks which run (each createReport costs a
    minute of Amazon's 1-a-minute plan once the burst of 15 is spent)."""
    engine = engine_for(config, client)
    return [cls(config, client, engine=engine) for cls in STREAM_CLASSES]  # type: ignore[call-arg]
