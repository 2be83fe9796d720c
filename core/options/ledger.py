"""The options every ledger destination shares: the order posting rules plus the settlements, returns,
inventory, reconcile and anomalies sections of `destination.options`.

Both QuickBooks destinations derive their options model from `LedgerOptions`, so a section means the same in
QuickBooks Online and Desktop and is checked, with every other option, when the pipeline is loaded. Each
section's model is the one its engine reads at run time (`SettlementOptions`, `ReturnsOptions`,
`InventoryOptions`, `ReconcileOptions`): one model per group, never a copy.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ..anomalies.options import AnomalyOptions
from ..cogs.options import CogsOptions
from ..deferred.options import DeferredOptions
from ..inventory.options import InventoryOptions
from ..posting.options import OrderPostingOptions
from ..posting.returns import ReturnsOptions
from ..settlements.options import SettlementOptions
from .model import Options

__all__ = ["LedgerOptions", "ReconcileOptions"]


class ReconcileOptions(Options):
    """`destination.options.reconcile`: settings of `ledgerlink reconcile`'s checks."""

    settlement_gap_seconds: Annotated[float, Field(strict=True)] = Field(
        1, ge=0, le=7 * 86_400, description=(
            "settlement_sequence: a gap or overlap between one settlement's end and the next one's start of at most "
            "this many seconds is not reported (Amazon's periods meet to the second); at most a week"))


class LedgerOptions(OrderPostingOptions):
    """What a ledger destination reads from `destination.options`: the order posting rules both QuickBooks
    destinations share, and the sections of the shared engines."""

    settlements: SettlementOptions = Field(default_factory=SettlementOptions, description=(
        "how settlements post: mode (summary or per_order), accounts (a YAML account map), roles (a YAML role "
        "table), currencies; see the settlements page of the docs (docs/concepts/settlements.md)"))
    reconcile: ReconcileOptions = Field(default_factory=ReconcileOptions, description=(
        "settings for `ledgerlink reconcile` (settlement_gap_seconds)"))
    returns: ReturnsOptions = Field(default_factory=ReturnsOptions, description=(
        "how refunds and returns post: credit memos or refund receipts, and restocking of sellable returns; see "
        "the returns page of the docs (docs/concepts/returns.md)"))
    anomalies: AnomalyOptions = Field(default_factory=AnomalyOptions, description=(
        "thresholds of `ledgerlink anomalies`' checks, one block per check, and `disabled` checks; see the "
        "anomalies page of the docs (docs/concepts/anomalies.md)"))
    inventory: InventoryOptions = Field(default_factory=InventoryOptions, description=(
        "how stock levels move: which system masters each SKU, the adjustment account, the drift threshold; see "
        "the inventory page of the docs (docs/concepts/inventory.md)"))
    cogs: CogsOptions = Field(default_factory=CogsOptions, description=(
        "cost of goods: unit costs (a costs file, a landed-cost history), fifo or moving_average, a journal per "
        "settlement or month; see the cost-of-goods page of the docs (docs/concepts/cost-of-goods.md)"))
    deferred: DeferredOptions = Field(default_factory=DeferredOptions, description=(
        "Amazon's deferred transactions: recognised at the month end they were sold in, reversed when released; "
        "see the deferred page of the docs (docs/concepts/deferred.md)"))
