"""Which customer a document is for: one per marketplace and currency (default), or one per buyer."""

from __future__ import annotations

from dataclasses import dataclass

from ..commerce import Customer, Order
from .options import OrderPostingOptions

__all__ = ["CustomerChoice", "customer_for", "normalised_name"]


@dataclass(frozen=True)
class CustomerChoice:
    """`display_name` is the ledger's name (≤ `name_max`); `natural_key` is one per customer the rule makes
    (the root of the customer write's idempotency key); `buyer` is the channel's customer (per_buyer) or None."""

    display_name: str
    natural_key: str
    email: str | None = None
    buyer: Customer | None = None


def normalised_name(name: str) -> str:
    """`  Jane   DOE ` and `Jane Doe` are one buyer: whitespace collapsed, case folded (for matching)."""
    return " ".join(name.split()).casefold()


def _fit(name: str, name_max: int | None) -> str:
    return name if name_max is None or len(name) <= name_max else name[:name_max].rstrip()


def customer_for(order: Order, options: OrderPostingOptions, *, name_max: int | None = None) -> CustomerChoice:
    """DESIGN §4: by default one customer per marketplace and currency, since Amazon anonymises buyers; per
    buyer on request, the same customer for every order with that e-mail (else that normalised name)."""
    if options.customer_strategy == "per_buyer":
        buyer = order.customer
        name = _fit(" ".join(buyer.display_name.split()), name_max)
        email = (buyer.email or "").strip() or None
        if email:
            natural = f"{order.source}/buyer/email/{email.casefold()}"
        else:
            natural = f"{order.source}/buyer/name/{normalised_name(buyer.display_name)}"
        return CustomerChoice(name, natural, email, buyer)
    channel = order.sales_channel or " ".join(p for p in (order.channel.title(), order.marketplace) if p)
    return CustomerChoice(_fit(f"{channel} {order.currency}", name_max),
                          f"{order.source}/marketplace/{order.channel}/{order.marketplace or '-'}/{order.currency}")
