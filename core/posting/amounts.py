"""The numbers every ledger posts for an order: lines, shipping, gift wrap, discount, tax, and the total.

Marketplace-facilitator tax is kept apart (`marketplace_tax`): the marketplace remits it, so it never becomes
a liability the seller owes and never enters the document. `total` is what the document must add up to."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ..commerce import Order, SourceRef
from ..errors import RecordError
from ..money import Money, quantize

__all__ = ["LineAmount", "OrderAmounts", "order_amounts", "unit_price", "rounding_line", "UNIT_PRICE_PLACES"]

#: a unit price that cannot be whole cents keeps seven places (QuickBooks' UnitPrice precision)
UNIT_PRICE_PLACES = Decimal("0.0000001")


@dataclass(frozen=True)
class LineAmount:
    """One product line: `amount` is exact (before discounts and tax); `unit_price` × `qty` rounds to it."""

    sku: str
    title: str | None
    qty: Decimal
    unit_price: Decimal
    amount: Decimal
    tax: Decimal
    line_id: str
    source_ref: SourceRef | None = None


@dataclass(frozen=True)
class OrderAmounts:
    currency: str
    lines: list[LineAmount]
    shipping: Decimal
    shipping_tax: Decimal
    gift_wrap: Decimal
    gift_wrap_tax: Decimal
    #: order and shipping discounts and promotions, as one positive amount
    discount: Decimal
    #: tax the seller collected and owes (0 when the marketplace collected it)
    seller_tax: Decimal
    #: tax the marketplace collected and remits (never posted)
    marketplace_tax: Decimal
    #: what the document must add up to: the order's grand total less marketplace-collected tax
    total: Decimal
    promotion_ids: list[str] = field(default_factory=list)

    @property
    def net(self) -> Decimal:
        """Lines, shipping and gift wrap less the discount: the document's total before tax."""
        return sum((ln.amount for ln in self.lines), Decimal(0)) + self.shipping + self.gift_wrap - self.discount

    @property
    def tax(self) -> Decimal:
        return self.seller_tax + self.marketplace_tax


def unit_price(amount: Decimal, qty: Decimal, currency: str) -> Decimal:
    """A unit price whose product with `qty` rounds to `amount` exactly: whole cents when they do, else seven
    places (QuickBooks checks Amount = Qty × UnitPrice)."""
    if qty == 0:
        return amount
    cents = quantize(amount / qty, currency)
    if quantize(cents * qty, currency) == amount:
        return cents
    return (amount / qty).quantize(UNIT_PRICE_PLACES)


def rounding_line(expected_total: Decimal, computed_total: Decimal, currency: str) -> Decimal:
    """The amount of a rounding line that makes a document whose lines and tax add up to `computed_total` equal
    the channel's `expected_total` exactly (0: no line needed)."""
    return quantize(expected_total - computed_total, currency)


def _money(value: Money) -> Decimal:
    return quantize(value.amount, value.currency)


def order_amounts(order: Order, *, stream: str = "Order") -> OrderAmounts:
    """The order's amounts, per line and in total. A negative quantity or a line without a SKU is a RecordError
    (a dead letter naming the line); a zero-quantity, zero-amount line (cancelled) is left out."""
    cur = order.currency
    lines: list[LineAmount] = []
    for index, line in enumerate(order.lines):
        amount = _money(line.amount)
        qty = line.quantity
        if qty < 0:
            raise RecordError(f"line {line.line_id} has a negative quantity ({qty})", stream=stream,
                              key=order.natural_key, field=f"lines[{index}].quantity",
                              hint="a sale's quantities are positive: returns post as refunds; fix the order in the "
                                   "channel or the normaliser, then `ledgerlink dlq retry`")
        if qty == 0 and amount == 0:
            continue  # a cancelled line: nothing was sold
        if qty == 0:
            qty = Decimal(1)
        if not line.sku:
            raise RecordError(f"line {line.line_id} has no SKU", stream=stream, key=order.natural_key,
                              field=f"lines[{index}].sku", hint="map the channel's SKU (or an item name) into the line")
        lines.append(LineAmount(sku=line.sku, title=line.title, qty=qty, unit_price=unit_price(amount, qty, cur),
                                amount=amount, tax=_money(line.tax), line_id=line.line_id,
                                source_ref=line.source_ref))
    tax = _money(order.total("tax") + order.total("shipping_tax") + order.total("gift_wrap_tax"))
    seller = order.tax_collected_by == "seller"
    marketplace_tax = Decimal(0) if seller else tax
    promotions = sorted({p for line in order.lines for p in line.promotion_ids})
    return OrderAmounts(
        currency=cur, lines=lines,
        shipping=_money(order.total("shipping")), shipping_tax=_money(order.total("shipping_tax")),
        gift_wrap=_money(order.total("gift_wrap")), gift_wrap_tax=_money(order.total("gift_wrap_tax")),
        discount=_money(order.total("discount") + order.total("shipping_discount")),
        seller_tax=tax if seller else Decimal(0), marketplace_tax=marketplace_tax,
        total=quantize(order.grand_total.amount - marketplace_tax, cur), promotion_ids=promotions)
