"""`ledgerlink cogs ...`: cost of goods. `costs` takes the item costs QuickBooks already knows into the costs file."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ConfigError, LedgerlinkError
from .common import fail, load_pipeline_file, open_store

__all__ = ["cogs"]


@click.group()
def cogs() -> None:
    """Cost of goods: unit costs per SKU (see docs/concepts/cost-of-goods.md)."""


@cogs.command("costs")
@click.argument("pipeline")
@click.option("--out", "out", default=None, help="the costs file to add to (default: the pipeline's cogs.costs)")
def costs(pipeline: str, out: str | None) -> None:
    """Add the ledger's item costs (QuickBooks Online PurchaseCost; QuickBooks Desktop AverageCost or
    PurchaseCost) to the costs file, for every SKU the file does not name yet. Lines already there stay."""
    from ..cogs.ledger_costs import add_to_costs_file, ledger_item_costs
    from ..cogs.options import parse_cogs_options

    try:
        loaded = load_pipeline_file(pipeline)
        options = parse_cogs_options(loaded.destination.options)
        target = Path(out) if out else options.costs_path()
        if target is None:
            raise ConfigError("the pipeline names no costs file", where="destination.options.cogs.costs",
                              hint="set `costs: costs.csv` under destination.options.cogs, or give --out FILE")
        store = open_store(pipeline)
        try:
            ledger = ledger_item_costs(loaded, store)
        finally:
            store.close()
        added, kept = add_to_costs_file(target, ledger)
    except LedgerlinkError as exc:
        fail(exc)
        return
    click.echo(f"{target}: {len(added)} SKU(s) added from the ledger's item costs, {kept} already there"
               + (f" ({', '.join(added[:10])}{', ...' if len(added) > 10 else ''})" if added else ""))
