"""Hand-built canonical settlements for the posting engine's tests (Flat File V2 vocabulary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ledgerlink import Money, Settlement, SettlementLine, SourceRef

UTC = timezone.utc


def when(day: str) -> datetime:
    """"2025-08-14" or "2025-08-14T10:00" → an aware datetime."""
    text = day if "T" in day else day + "T12:00"
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def line(row: int, tt: str, at: str | None, desc: str | None, amount: str, *, currency: str = "USD",
         order_id: str | None = None, sku: str | None = None, posted: str | None = "2025-08-20") -> SettlementLine:
    return SettlementLine(row=row, transaction_type=tt, amount_type=at, amount_description=desc,
                          amount=Money.of(amount, currency), order_id=order_id, sku=sku,
                          posted_at=when(posted) if posted else None)


def settlement(lines: list[SettlementLine], *, total: str | None = None, sid: str = "12345678901",
               currency: str = "USD", start: str = "2025-08-14", end: str = "2025-08-28",
               deposit: str | None = "2025-08-30") -> Settlement:
    """A settlement whose total is the rows' sum unless `total` says otherwise."""
    amount = Decimal(total) if total is not None else sum((l.amount.amount for l in lines), Decimal(0))
    return Settlement(source="amazon_sp", settlement_id=sid, starts_at=when(start), ends_at=when(end),
                      deposit_at=when(deposit) if deposit else None, total=Money.of(amount, currency), lines=lines,
                      source_refs=[SourceRef(stream="settlement_reports", key=sid)])


def order_rows(start_row: int, order_id: str, principal: str, *, commission: str = "-1.50", fba: str = "-3.00",
               shipping: str | None = None, promo: str | None = None, tax: str | None = None,
               mft: bool = False, currency: str = "USD", posted: str = "2025-08-20",
               tt: str = "Order") -> list[SettlementLine]:
    """The rows Amazon writes for one order item: price, fees, and optionally shipping, promotion, tax (with its
    marketplace-facilitator withholding when `mft`)."""
    spec: list[tuple[str, str, str]] = [("ItemPrice", "Principal", principal)]
    if shipping:
        spec.append(("ItemPrice", "Shipping", shipping))
    if tax:
        spec.append(("ItemPrice", "Tax", tax))
        if mft:
            spec.append(("ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", str(-Decimal(tax))))
    if promo:
        spec.append(("Promotion", "Principal", promo))
    spec.append(("ItemFees", "Commission", commission))
    if fba:
        spec.append(("ItemFees", "FBAPerUnitFulfillmentFee", fba))
    return [line(start_row + i, tt, at, desc, amount, currency=currency, order_id=order_id, sku="SKU-1",
                 posted=posted) for i, (at, desc, amount) in enumerate(spec)]


@dataclass
class PlanCtx:
    """What the runtime hands `Destination.plan` (only `options` and `cache` matter for settlements)."""

    options: dict[str, Any] = field(default_factory=dict)
    cache: dict[Any, Any] = field(default_factory=dict)

    def render(self, template: str, record_key: str | None = None, **variables: Any) -> Any:  # pragma: no cover
        raise AssertionError("settlement plans render no template")
