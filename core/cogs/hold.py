"""A settlement whose units cannot be costed is held: a dead letter naming each SKU and what to do. Nothing of the
settlement posts until the cost arrives; `ledgerlink dlq retry` then posts it (its journals once each)."""

from __future__ import annotations

from ..errors import RecordError
from .valuation import MissingCost

__all__ = ["CostsOnHold"]


class CostsOnHold(RecordError):
    """Why the cost of goods of a settlement cannot be posted: SKUs without a cost, rows without a quantity."""

    def __init__(self, settlement_key: str, missing: list[MissingCost], problems: list[str] | None = None,
                 *, costs_file: str | None = None):
        self.missing = list(missing)
        self.problems = list(problems or [])
        reasons = [f"SKU {m.sku!r}: {m.reason}" + (f" (rows {', '.join(m.refs[:10])})" if m.refs else "")
                   for m in self.missing] + self.problems
        shown = reasons[:20] + ([f"... and {len(reasons) - 20} more"] if len(reasons) > 20 else [])
        where = f"the costs file ({costs_file})" if costs_file else "a costs file (destination.options.cogs.costs)"
        skus = ", ".join(m.sku for m in self.missing[:5])
        hint = (f"add a line `sku,cost` for {skus} to {where}, or set the item's purchase cost in QuickBooks and run "
                f"`ledgerlink cogs costs PIPELINE`; then `ledgerlink dlq retry`" if self.missing else
                "fix the settlement report's rows (quantity-purchased, sku), then `ledgerlink dlq retry`")
        super().__init__("cost of goods on hold: " + "; ".join(shown), stream="settlement", key=settlement_key,
                         field="cogs", hint=hint)
