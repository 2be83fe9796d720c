"""FBA customer returns report rows (`fba_customer_returns`) → canonical `Return`s.

Each row is units a buyer sent back to an Amazon fulfilment centre and the state Amazon found them in
(`detailed-disposition`): SELLABLE units went back into sellable stock; CUSTOMER_DAMAGED, DEFECTIVE,
CARRIER_DAMAGED, DISTRIBUTOR_DAMAGED, EXPIRED… did not. `sellable` is Amazon's own verdict (SELLABLE only); a
pipeline may count more dispositions as sellable (`returns.sellable_dispositions`). The refund itself comes
from the finances feed, usually days earlier: the two meet in the books by order and SKU, not here.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ledgerlink import RecordError, Return

from ..timestamps import parse_time

__all__ = ["normalise_customer_return", "STREAM", "SELLABLE"]

STREAM = "fba_customer_returns"
#: the detailed-disposition of a unit Amazon put back into sellable stock
SELLABLE = "SELLABLE"


def normalise_customer_return(row: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Return]:
    """One report row → one Return, keyed by order, SKU and license plate (each returned package has its own)."""
    order_id = str(row.get("order-id") or "").strip()
    sku = str(row.get("sku") or "").strip()
    plate = str(row.get("license-plate-number") or "").strip()
    when = str(row.get("return-date") or "").strip()
    key = "/".join((order_id, sku, plate or when))
    if not order_id:
        raise RecordError("return row has no order-id", stream=STREAM, key=key, field="order-id",
                          hint="Amazon names the order of every customer return; check the report file")
    if not sku:
        raise RecordError("return row has no sku", stream=STREAM, key=key, field="sku",
                          hint=f"map ASIN {row.get('asin') or '?'} / FNSKU {row.get('fnsku') or '?'} to a SKU, or "
                               "fix the listing in Seller Central")
    try:
        returned_at = parse_time(when)
    except ValueError:
        raise RecordError(f"{when!r} is not an ISO 8601 time", stream=STREAM, key=key, field="return-date") from None
    try:
        quantity = Decimal(str(row.get("quantity") or "").strip())
    except InvalidOperation:
        raise RecordError(f"{row.get('quantity')!r} is not a quantity", stream=STREAM, key=key,
                          field="quantity") from None
    if quantity <= 0 or quantity != quantity.to_integral_value():
        raise RecordError(f"quantity {quantity} is not a positive whole number of units", stream=STREAM, key=key,
                          field="quantity", hint="a customer return is one or more whole units")
    disposition = str(row.get("detailed-disposition") or "").strip().upper() or None
    return [Return(source="amazon_sp", return_id=key, order_id=order_id, returned_at=returned_at, sku=sku,
                   quantity=quantity, disposition=disposition, sellable=disposition == SELLABLE,
                   reason=str(row.get("reason") or "").strip() or None)]
