"""Cost-of-goods options, as a pipeline gives them in `destination.options.cogs`:

    cogs:
      enabled: true
      inventory: summary        # summary: QuickBooks does not track the items (COGS journals move the units);
                                # quickbooks: QuickBooks tracks inventory items and books its own COGS
                                # (only lost, damaged and disposed units are journalled)
      method: fifo              # or moving_average
      per: settlement           # one COGS journal per settlement, or `month`: one per month it spans
      costs: costs.csv          # sku,cost[,effective_date][,quantity][,currency]: unit costs, a landed-cost
                                # history with effective dates, or received lots (with quantity) for FIFO
      unit_costs: {SKU-1: "4.20"}   # inline costs (e.g. the ledger's item cost, `ledgerlink cogs costs`)
      restock_refunds: true     # refunded units came back to stock (their cost leaves COGS again)

The accounts are the settlement account map's `inventory_asset`, `cost_of_goods` and `inventory_loss` roles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from ..money import Amount, to_decimal
from ..options import Options, check_options

__all__ = ["CogsOptions", "parse_cogs_options"]


class CogsOptions(Options):
    """`destination.options.cogs`: how units sold, returned, lost, damaged and disposed are costed and posted."""

    enabled: bool = Field(False, description="post cost of goods for the units each settlement moves")
    inventory: Literal["summary", "quickbooks"] = Field("summary", description=(
        "summary: QuickBooks does not track the items, ledgerlink journals every unit movement between inventory "
        "asset and cost of goods; quickbooks: QuickBooks tracks inventory items and books its own cost of goods, "
        "ledgerlink journals only lost, damaged and disposed units"))
    method: Literal["fifo", "moving_average"] = Field("fifo", description=(
        "how received lots (costs with a quantity) are costed: fifo (first in, first out) or moving_average"))
    per: Literal["settlement", "month"] = Field("settlement", description=(
        "one COGS journal per settlement (dated like its journal), or one per calendar month its rows span"))
    costs: str | None = Field(None, description=(
        "a CSV file of unit costs: sku, cost, and optionally effective_date (a landed-cost history), quantity "
        "(received lots, for fifo or moving_average) and currency; a relative path is read from the working "
        "directory (or base_dir); `ledgerlink cogs costs PIPELINE` adds the ledger's item costs to it"))
    unit_costs: dict[str, Amount] = Field(default_factory=dict, description=(
        "inline unit costs by SKU, e.g. {SKU-1: '4.20'} (the costs file wins for a SKU it names)"))
    restock_refunds: bool = Field(True, description=(
        "refunded units went back to stock (their cost moves from cost of goods back to inventory)"))
    base_dir: str | None = Field(None, description="folder the costs file is read from (default: the working "
                                                   "directory)")

    @field_validator("unit_costs", mode="before")
    @classmethod
    def _exact(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {}
        for sku, cost in value.items():
            if isinstance(cost, float):  # YAML read 4.20 as a binary float: money is written exactly
                raise ValueError(f"{sku}: write the cost in quotes ('{cost}'), so it is read exactly")
            try:
                amount = to_decimal(cost, field=str(sku))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{sku}: {exc}") from None
            if amount < 0:
                raise ValueError(f"{sku}: a unit cost is zero or more, not {amount}")
            out[str(sku)] = amount
        return out

    def costs_path(self) -> Path | None:
        if not self.costs:
            return None
        p = Path(self.costs)
        return p if p.is_absolute() or not self.base_dir else Path(self.base_dir) / p


def parse_cogs_options(options: dict[str, Any] | None) -> CogsOptions:
    """`destination.options.cogs` validated; an OptionsError naming every wrong key (with a did-you-mean)."""
    raw = (options or {}).get("cogs") or {}
    return check_options(CogsOptions, raw, where="destination.options.cogs",
                         hint="see docs/concepts/cost-of-goods.md for the cost-of-goods options")
