"""Which document an order becomes: the `documents` rules, first match wins, then the catch-all."""

from __future__ import annotations

from dataclasses import dataclass

from ..commerce import Order
from .options import DocumentType, DocumentWhen, OrderPostingOptions, normalise_status

__all__ = ["Decision", "decide", "rule_matches"]


@dataclass(frozen=True)
class Decision:
    """`document`: what to post now (None: nothing). `cancel`: the order is cancelled, so whatever was posted
    for it is voided or reversed. `earlier`: a document an earlier, unpaid state of this order may have posted
    (an invoice), which a ledger must look for before posting `document` so one order never posts twice — and
    whose payment is due now. `rule` says which rule decided, for messages."""

    document: DocumentType | None
    cancel: bool = False
    rule: str = ""
    earlier: DocumentType | None = None


def _norm(values: str | list[str] | None) -> set[str] | None:
    if values is None:
        return None
    return {normalise_status(v) for v in ([values] if isinstance(values, str) else values)}


def rule_matches(when: DocumentWhen, order: Order) -> bool:
    """All of a rule's given conditions hold for the order (names compared case- and punctuation-blind)."""
    checks = [
        (_norm(when.channel), [order.channel, order.sales_channel]),
        (_norm(when.status), [order.status]),
        (_norm(when.marketplace), [order.marketplace, order.sales_channel]),
        (_norm(when.store), [order.store]),
    ]
    for wanted, have in checks:
        if wanted is not None and not any(h is not None and normalise_status(h) in wanted for h in have):
            return False
    if when.fulfilment is not None and when.fulfilment != order.fulfilment:
        return False
    if when.paid is not None and when.paid != order.paid:
        return False
    if when.business is not None and when.business != order.is_business_order:
        return False
    return True


def _by_rules(order: Order, options: OrderPostingOptions) -> tuple[DocumentType | None, str]:
    for index, rule in enumerate(options.documents):
        if rule_matches(rule.when, order):
            return (None if rule.post_as == "skip" else rule.post_as), f"documents[{index}]"
    default = options.default_document
    if default == "auto":
        return ("sales_receipt" if order.paid else "invoice"), "default_document (auto)"
    return (None if default == "skip" else default), f"default_document ({default})"


def decide(order: Order, options: OrderPostingOptions) -> Decision:
    """The document for `order` now. Cancelled orders post nothing and cancel what was posted; orders outside
    the posting statuses post nothing (yet)."""
    if options.is_cancelled(order.status):
        return Decision(None, cancel=True, rule=f"cancelled status {order.status!r}")
    if not options.in_post_status(order.status):
        return Decision(None, rule=f"status {order.status!r} is not a posting status")
    document, rule = _by_rules(order, options)
    return Decision(document, rule=rule, earlier=_earlier(order, options) if document == "sales_receipt" else None)


def _earlier(order: Order, options: OrderPostingOptions) -> DocumentType | None:
    """An invoice, if the rules would have invoiced this order in one of its channel's unpaid statuses."""
    if not order.paid:
        return None
    statuses = options.unpaid_statuses.get(order.channel) or options.unpaid_statuses.get(order.sales_channel or "")
    for status in statuses or []:
        if not options.in_post_status(status):
            continue
        before, _ = _by_rules(order.model_copy(update={"paid": False, "status": status}), options)
        if before == "invoice":
            return "invoice"
    return None
