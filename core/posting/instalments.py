"""An invoice paid in instalments: which payments to post, each for what, under which key.

The channel says how much of an order was paid so far (`Order.amount_paid`; a paid order is paid in full). Each
instalment posts as a payment of its own, keyed by the amount paid so far when it was seen
(`…/paid/12.50`), so planning the same order again plans the same payment, and a later, larger amount plans
the next one for the difference. The payment that completes the invoice keeps the key a payment in full always
had, so an order paid at once posts exactly as before. Ledgers shape the payment; this decides the amounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable

from ..commerce import Order
from ..connectors import idempotency_key
from ..money import quantize

__all__ = ["Instalment", "instalment_due", "PAID_MARK"]

#: what an instalment's key carries after the order's natural key: the amount paid so far
PAID_MARK = "/paid/"


@dataclass(frozen=True)
class Instalment:
    key: str
    #: what this payment pays
    amount: Decimal
    #: what the order has paid once it is posted
    paid_so_far: Decimal
    #: it completes the invoice
    final: bool


def _paid_in(key: str, natural_key: str, stream: str) -> Decimal | None:
    """The amount paid so far that an earlier instalment's key records (None: not an instalment key)."""
    head = idempotency_key(stream, natural_key) + PAID_MARK
    if not key.startswith(head):
        return None
    try:
        return Decimal(key[len(head):])
    except ArithmeticError:
        return None


def instalment_due(order: Order, total: Decimal, planned_keys: Iterable[str], *,
                   stream: str = "Payment") -> Instalment | None:
    """The payment to plan now for an invoiced order: what the channel says was paid, less what the payments
    already planned for it (their keys, `planned_keys`) paid; None when nothing new was paid. `stream` is the
    ledger's name for a payment (QuickBooks Desktop: ReceivePayment)."""
    cur = order.currency
    if order.paid:
        paid = total
    elif order.amount_paid is not None:
        paid = min(quantize(order.amount_paid.amount, cur), total)
    else:
        return None
    earlier = [p for p in (_paid_in(k, order.natural_key, stream) for k in planned_keys) if p is not None and p < paid]
    before = max(earlier, default=Decimal(0))
    if paid <= before or paid <= 0:
        return None
    final = paid == total
    key = idempotency_key(stream, order.natural_key)
    key = key if final else f"{key}{PAID_MARK}{paid}"
    return Instalment(key=key, amount=paid - before, paid_so_far=paid, final=final)
