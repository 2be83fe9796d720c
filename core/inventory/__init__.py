"""Stock levels both ways: which system masters each SKU, and how a change moves without echoing back.

Channel → QuickBooks: a level of a SKU the channel masters (or a two-way SKU that moved on the channel) becomes
an inventory adjustment. QuickBooks → channel: a QuickBooks-mastered or two-way SKU's quantity is written to the
channel. FBA stock is always the channel's. A shared baseline file (what each side last said, what both last
agreed) makes the comparison three-way, so a value ledgerlink wrote is not read back as a new change, and a
conflict (both sides moved) is settled by the configured rule. `ledgerlink reconcile` lists drift.
"""

from .baseline import Baseline, open_baseline
from .decide import OTHER, Decision, Side, SkuState, decide, master_of, may_flow, settle, winner
from .flow import (
    MARKER, QUICKBOOKS_LOCATION, StockMove, after_quickbooks_read, after_quickbooks_write, enabled, is_fba,
    mark_channel_write, record_channel_writes, to_channel, to_quickbooks,
)
from .options import DEFAULT_BASELINE, InventoryOptions, Master, parse_inventory_options
from . import reconcile_checks  # noqa: F401 - registers inventory_drift

__all__ = [
    "InventoryOptions", "Master", "parse_inventory_options", "DEFAULT_BASELINE",
    "Side", "SkuState", "Decision", "OTHER", "master_of", "may_flow", "decide", "settle", "winner",
    "Baseline", "open_baseline",
    "StockMove", "to_quickbooks", "to_channel", "after_quickbooks_read", "after_quickbooks_write", "is_fba",
    "mark_channel_write", "record_channel_writes", "enabled",
    "QUICKBOOKS_LOCATION", "MARKER",
]
