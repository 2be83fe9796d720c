"""A 2024-06-19 `Transaction` Amazon deferred (a `DeferredContext`: delivery date plus days, B2B invoices) →
the canonical `DeferredTransaction` `ledgerlink.deferred` recognises at month end and reverses when released.

Its parts are the transaction's breakdown leaves named `Group/Leaf` as Amazon names them (`Sales/Principal`,
`Expenses/Commission`, `Tax withheld/MarketplaceFacilitatorTax-Principal`), summed over the transaction's own
breakdowns. DEFERRED is still held; DEFERRED_RELEASED was released, on the maturity date Amazon gave (the
settlement identifiers it carries name the payout). Transactions never deferred give nothing.
"""

from __future__ import annotations


from typing import Any

from ledgerlink import Money, RecordError, SourceRef, deferred, to_decimal

from ..timestamps import parse_time

__all__ = ["deferred_transaction", "normalise_finances"]


def _leaves(breakdowns: Any, path: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    out = []
    for b in breakdowns or []:
        if not isinstance(b, dict):
            continue
        here = (*path, str(b.get("breakdownType") or "?"))
        if b.get("breakdowns"):
            out.extend(_leaves(b["breakdowns"], here))
        else:
            out.append(("/".join(here), b.get("breakdownAmount")))
    return out


def deferred_transaction(txn: dict[str, Any], stream: str) -> deferred.DeferredTransaction | None:
    """The transaction as a DeferredTransaction when Amazon deferred it; None otherwise."""
    key = str(txn.get("transactionId") or "")
    context = next((c for c in txn.get("contexts") or []
                    if isinstance(c, dict) and c.get("contextType") == "DeferredContext"), None)
    status = txn.get("transactionStatus")
    if context is None and status != "DEFERRED":
        return None
    try:
        posted = parse_time(str(txn.get("postedDate")))
    except ValueError:
        raise RecordError(f"{txn.get('postedDate')!r} is not an ISO 8601 time", stream=stream, key=key,
                          field="postedDate") from None
    maturity = None
    if context is not None and context.get("maturityDate"):
        try:
            maturity = parse_time(str(context["maturityDate"]))
        except ValueError:
            raise RecordError(f"{context['maturityDate']!r} is not an ISO 8601 time", stream=stream, key=key,
                              field="contexts.maturityDate") from None
    total_node = txn.get("totalAmount") or {}
    currency = str(total_node.get("currencyCode") or "").upper()
    if not currency or total_node.get("currencyAmount") is None:
        raise RecordError("no total amount", stream=stream, key=key, field="totalAmount")
    parts = []
    for name, node in _leaves(txn.get("breakdowns")):
        if not isinstance(node, dict) or node.get("currencyAmount") is None:
            raise RecordError(f"breakdown {name} has no amount", stream=stream, key=key, field="breakdowns")
        code = str(node.get("currencyCode") or currency).upper()
        parts.append(deferred.DeferredPart(name=name, amount=Money(
            amount=to_decimal(node["currencyAmount"], field=name), currency=code)))
    ids = {str(i.get("relatedIdentifierName")): str(i.get("relatedIdentifierValue"))
           for i in txn.get("relatedIdentifiers") or [] if isinstance(i, dict)}
    released = status in ("DEFERRED_RELEASED", "RELEASED")
    return deferred.DeferredTransaction(
        source="amazon_sp", source_refs=[SourceRef(stream=stream, key=key)], transaction_id=key,
        transaction_type=str(txn.get("transactionType") or ""), status="released" if released else "deferred",
        posted_at=posted, maturity_at=maturity, released_at=maturity if released else None,
        reason=(context or {}).get("deferralReason"), order_id=ids.get("ORDER_ID"),
        settlement_id=ids.get("SETTLEMENT_ID"),
        marketplace=(txn.get("marketplaceDetails") or {}).get("marketplaceId"),
        total=Money(amount=to_decimal(total_node["currencyAmount"], field="totalAmount"), currency=currency),
        parts=parts)





def normalise_finances(txn: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Any]:
    """The `finances` stream's normaliser: the transaction's refund (`normalise_transaction`) and, when Amazon
    deferred it, its DeferredTransaction (one function: a stream's normalisers share one cursor)."""
    from .normalise import normalise_transaction
    from .streams import FinancesStream

    out: list[Any] = list(normalise_transaction(txn, related))  # checks transactionStatus first
    held = deferred_transaction(txn, FinancesStream.name)
    return [held, *out] if held is not None else out
