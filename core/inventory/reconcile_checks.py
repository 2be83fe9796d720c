"""`ledgerlink reconcile` check `inventory_drift`: SKUs whose channel and QuickBooks quantities differ by more
than `inventory.drift_threshold`.

The channel's quantities are the pipeline's staged levels (normalised again); QuickBooks' are asked of the
destination through the optional method `inventory_quantities(config, skus) -> {sku: Decimal}` (opened as for
`read_back`). A destination without it (QuickBooks Desktop answers only when its Web Connector polls), or a
run with --offline, skips the check and says why.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterator

from ..commerce import InventoryLevel
from ..connectors import WriteContext
from ..reconcile import Finding, ReconcileContext, Skip, register_check
from .decide import master_of
from .flow import QUICKBOOKS_LOCATION, is_fba
from .options import parse_inventory_options

__all__ = ["inventory_drift", "ledger_quantities"]


def ledger_quantities(ctx: ReconcileContext, skus: list[str]) -> dict[str, Decimal]:
    """QuickBooks' quantity of each SKU it has an inventory item for, as the destination reports it."""
    method = getattr(ctx.destination, "inventory_quantities", None)
    if method is None:
        return {}
    context = WriteContext(references=ctx.store.references(ctx.destination.name),
                           save_credential=ctx.store.credentials.save, load_credential=ctx.store.credentials.load)
    ctx.destination.open(ctx.dest_config, context)
    try:
        found = method(ctx.dest_config, skus) or {}
    finally:
        ctx.destination.close()
    return {str(k): Decimal(str(v)) for k, v in found.items()}


@register_check("inventory_drift")
def inventory_drift(ctx: ReconcileContext) -> Iterator[Finding]:
    levels = [lv for lv in ctx.canonical(InventoryLevel) if isinstance(lv, InventoryLevel)]
    if not levels:
        raise Skip("the source reads no stock levels")
    if all(lv.location == QUICKBOOKS_LOCATION for lv in levels):
        raise Skip("the source is QuickBooks: run reconcile on the channel → QuickBooks pipeline")
    if getattr(ctx.destination, "inventory_quantities", None) is None:
        raise Skip(f"{ctx.destination.name} cannot report stock quantities")
    if not ctx.remote:
        raise Skip("--offline")
    options = parse_inventory_options(ctx.options.get("destination_options"))
    chosen = [lv for lv in levels if lv.location != QUICKBOOKS_LOCATION
              and (options.location is None or lv.location == options.location)]
    if not chosen:
        raise Skip(f"no stock level at location {options.location!r}")
    books = ledger_quantities(ctx, sorted({lv.sku for lv in chosen}))
    several = len({lv.location for lv in chosen}) > 1
    for level in sorted(chosen, key=lambda lv: (lv.sku, lv.location)):
        held = books.get(level.sku)
        if held is None:
            continue  # no inventory item: its levels are dead letters (or skipped by `unknown_skus: skip`)
        gap = abs(level.on_hand - held)
        if gap <= options.drift_threshold:
            continue
        master = master_of(level.sku, options, fba=is_fba(level))
        subject = f"SKU {level.sku}" + (f" at {level.location}" if several else "")
        hint = {"channel": "the channel masters it: the next channel → QuickBooks sync adjusts QuickBooks",
                "quickbooks": "QuickBooks masters it: the next QuickBooks → channel sync sets the channel",
                "two_way": "two-way: the next syncs settle it (the conflict rule decides if both moved)"}[master]
        yield Finding("inventory_drift", subject,
                      f"the channel and QuickBooks differ by {gap} unit(s) (threshold {options.drift_threshold})",
                      expected=f"{level.on_hand.normalize():f}", actual=f"{held.normalize():f}",
                      hint=hint + "; a count made by hand on one side only shows here until then")
