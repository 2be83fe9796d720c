"""Cost of goods: unit costs per SKU (a costs file, a landed-cost history, the ledger's item cost), valued
first-in-first-out or at the moving average, posted as a journal per settlement (or per month) that moves the
units sold, refunded and restocked, lost, damaged and disposed between inventory asset and cost of goods. A SKU
without a cost holds its settlement with the SKU named, never a silent zero (docs/concepts/cost-of-goods.md)."""

from .costs import COST_COLUMNS, CostBook, CostEntry, costs_from_items, load_costs_file, parse_costs_text
from .history import MovementHistory, history_for
from .hold import CostsOnHold
from .journal import COGS_MARK, build_cogs_journals, cost_book, plan_cogs
from .movements import ADJUSTMENT_KINDS, KINDS, settlement_movements
from .options import CogsOptions, parse_cogs_options
from .valuation import MissingCost, Movement, Valued, missing_costs, value_movements

__all__ = [
    "COST_COLUMNS", "CostBook", "CostEntry", "costs_from_items", "load_costs_file", "parse_costs_text",
    "MovementHistory", "history_for", "CostsOnHold", "COGS_MARK", "build_cogs_journals", "cost_book", "plan_cogs",
    "ADJUSTMENT_KINDS", "KINDS", "settlement_movements", "CogsOptions", "parse_cogs_options",
    "MissingCost", "Movement", "Valued", "missing_costs", "value_movements",
]
