"""The units a settlement moves, read from its rows: sold (order principal rows), refunded (refund principal
rows), lost and damaged (FBA reimbursement rows: WAREHOUSE_LOST, WAREHOUSE_DAMAGE) and disposed (DisposalComplete
fee rows). Each movement names its row, so every COGS line traces back to the report."""

from __future__ import annotations

from decimal import Decimal

from ..commerce import Settlement, SettlementLine
from .valuation import Movement

__all__ = ["settlement_movements", "KINDS", "ADJUSTMENT_KINDS"]

#: every kind of movement, in the order a journal lists them
KINDS = ("sold", "refunded", "lost", "damaged", "disposed")
#: what an inventory seller (QuickBooks tracks the items) still needs journalled
ADJUSTMENT_KINDS = frozenset({"lost", "damaged", "disposed"})

_LOST = ("WAREHOUSE_LOST", "WAREHOUSE_LOST_MANUAL", "MISSING_FROM_INBOUND", "INBOUND_CARRIER_DAMAGE_LOST")
_DAMAGED = ("WAREHOUSE_DAMAGE", "WAREHOUSE_DAMAGE_EXCEPTION", "INBOUND_CARRIER_DAMAGE")
_DISPOSED = ("DisposalComplete",)


def _kind(line: SettlementLine) -> str | None:
    tt = (line.transaction_type or "").strip()
    desc = (line.amount_description or "").strip()
    at = (line.amount_type or "").strip()
    if desc == "Principal" and at == "ItemPrice":
        return {"Order": "sold", "Refund": "refunded"}.get(tt)
    words = {tt, desc}
    if words & set(_LOST):
        return "lost"
    if words & set(_DAMAGED):
        return "damaged"
    if words & set(_DISPOSED):
        return "disposed"
    return None


def settlement_movements(settlement: Settlement, *, restock_refunds: bool = True
                         ) -> tuple[list[Movement], list[str]]:
    """The settlement's unit movements (refunds only when restocked), and the reasons a row that moves units
    cannot be counted (no SKU, no quantity)."""
    out: list[Movement] = []
    problems: list[str] = []
    for line in settlement.lines:
        kind = _kind(line)
        if kind is None or (kind == "refunded" and not restock_refunds):
            continue
        if not line.sku:
            problems.append(f"row {line.row} ({line.transaction_type} {line.amount_description}) names no SKU")
            continue
        if line.quantity is None:
            problems.append(f"row {line.row} ({line.transaction_type} {line.amount_description}, SKU {line.sku}) "
                            f"has no quantity-purchased")
            continue
        units = abs(Decimal(line.quantity))
        if units == 0:
            continue
        when = (line.posted_at or settlement.ends_at).date()
        out.append(Movement(sku=line.sku, on=when, quantity=-units if kind == "refunded" else units, kind=kind,
                            ref=str(line.row)))
    return out, problems
