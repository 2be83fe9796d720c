"""Refunds and returns, the rules every ledger shares: which document a refund becomes, what it adds up to, and
which returned units go back on the shelf.

Money and stock are kept apart on purpose. A refund is money: a credit memo (or refund receipt) for what the
buyer got back. A return is stock: a unit that came back *sellable* is restocked with an inventory adjustment
whose account is cost of goods sold, so the cost booked at the sale reverses with it; a unit that came back
damaged is not restocked (its cost stays expensed). The two arrive apart (Amazon's refund is in the finances
feed, the disposition days later in the FBA returns report), so neither waits for the other, and a refund never
moves stock by itself unless `restock_unreturned_refunds` says so (for sources that report no returns).

The destinations' `options.returns` section is validated here (`ReturnsOptions`), so both QuickBooks plugins
read it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, field_validator

from ..commerce import Refund, Return
from ..errors import RecordError
from ..money import quantize
from ..options.check import check_options
from ..options.model import Options

__all__ = ["ReturnsOptions", "parse_returns_options", "RefundLineAmount", "RefundAmounts", "refund_amounts",
           "check_within_order", "earlier_refunds", "order_key_of", "is_sellable", "refund_customer_name", "tax_is_marketplace_collected",
           "restock_quantity", "DEFAULT_SELLABLE"]

#: Amazon's detailed-disposition for a unit that went back into sellable stock
DEFAULT_SELLABLE = ["SELLABLE"]


class ReturnsOptions(Options):
    """`destination.options.returns`: how refunds post and which returns restock."""

    refund_document: Literal["credit_memo", "refund_receipt"] = Field(
        "credit_memo", description="what a refund posts as: a credit memo (the buyer's credit, applied or paid "
                                   "out by the channel) or a refund receipt (money paid back from `refund_account`; "
                                   "QuickBooks Desktop: the credit memo and a refund cheque applied to it)")
    refund_account: str = Field(
        "Undeposited Funds", description="account a refund receipt pays the refund from (the account the sale was "
                                         "deposited to, so the channel's payout nets both)")
    returns_item: str = Field(
        "Refunds", description="non-stock item refunded products post to (its income account: `returns_account`), "
                               "so a refund never moves stock in QuickBooks; each line's description names the SKU")
    returns_account: str | None = Field(
        None, description="income account of the returns item (default: the destination's income_account, so a "
                          "refund reverses the sale's income; name a contra-income account to see returns apart)")
    line_items: Literal["returns_item", "sku"] = Field(
        "returns_item", description="returns_item (default): product lines on the returns item; sku: on the sale's "
                                    "own item per SKU, only for non-inventory items (QuickBooks restocks an "
                                    "inventory item on a credit memo, sellable or not)")
    shipping_item: str | None = Field(None, description="item refunded shipping posts to (default: the sale's "
                                                        "shipping item)")
    restock: bool = Field(True, description="post an inventory adjustment for each sellable return")
    restock_account: str | None = Field(
        None, description="account of the restocking adjustment (default: the destination's cost of goods sold "
                          "account), so the cost booked at the sale reverses when the unit is back on the shelf")
    restock_reason: str = Field("Customer return, back in sellable stock",
                                description="the reason written on each restocking adjustment")
    restock_unreturned_refunds: bool = Field(
        False, description="restock every refunded unit whose refund line says so (or all, for sources that report "
                           "no returns) without waiting for a return; default no: only a return restocks")
    sellable_dispositions: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SELLABLE),
        description="the channel's dispositions that count as sellable (Amazon: SELLABLE; add e.g. "
                    "CUSTOMER_DAMAGED to restock lightly damaged units); compared without case")
    customer: str | None = Field(
        None, description="the customer refunds post to when the sale's is not known; `{currency}` is replaced "
                          "(default: the channel's per-marketplace customer, e.g. 'Amazon.com USD')")
    customers: dict[str, str] = Field(
        default_factory=dict, description="customer per source or store (e.g. {amazon_sp: 'Amazon.ca {currency}'}), "
                                          "before `customer`")
    tax: Literal["follow_sale", "seller", "marketplace"] = Field(
        "follow_sale", description="whose refunded tax it is: follow_sale (as the sale was posted; when unknown, "
                                   "marketplace for Amazon, seller otherwise), or always seller / marketplace")

    @field_validator("sellable_dispositions")
    @classmethod
    def _upper(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("name at least one disposition (Amazon: SELLABLE)")
        return [d.strip().upper() for d in v]


def parse_returns_options(raw: dict[str, Any] | None, *, where: str = "destination.options.returns") -> ReturnsOptions:
    """The `returns` section validated; an OptionsError (a ConfigError) naming every wrong key otherwise."""
    return check_options(ReturnsOptions, raw or {}, where=where, hint="see docs/concepts/returns.md for the options")


# ---------------------------------------------------------------------------------------------------- amounts


@dataclass(frozen=True)
class RefundLineAmount:
    sku: str | None
    quantity: Decimal
    amount: Decimal
    tax: Decimal
    restock: bool


@dataclass(frozen=True)
class RefundAmounts:
    """What a refund gives back: product lines (ex tax), shipping, tax; `total` includes tax."""

    currency: str
    lines: list[RefundLineAmount] = field(default_factory=list)
    shipping: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)

    @property
    def goods(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.goods + self.shipping + self.tax

    def total_without_tax(self) -> Decimal:
        return self.goods + self.shipping


def refund_amounts(refund: Refund, *, stream: str = "refund") -> RefundAmounts:
    """The refund's numbers, in cents, checked: amounts are what the buyer got back, so none is negative, and
    every amount is in the refund's currency."""
    key, cur = refund.natural_key, refund.currency
    lines: list[RefundLineAmount] = []
    tax = Decimal(0)
    for n, line in enumerate(refund.lines):
        for name, money in (("amount", line.amount), ("tax", line.tax)):
            if money.currency != cur:
                raise RecordError(f"line {n} {name} is in {money.currency}, the refund in {cur}", stream=stream,
                                  key=key, field=f"lines[{n}].{name}",
                                  hint="a refund is in one currency: fix the normaliser or the source data")
            if money.amount < 0:
                raise RecordError(f"line {n} refunds a negative {name} ({money.amount} {cur})", stream=stream,
                                  key=key, field=f"lines[{n}].{name}",
                                  hint="a refund's amounts are what the buyer got back (positive); a charge back "
                                       "to the buyer is a new sale")
        if line.quantity < 0:
            raise RecordError(f"line {n} refunds a negative quantity ({line.quantity})", stream=stream, key=key,
                              field=f"lines[{n}].quantity", hint="refunded quantities are units given back (≥ 0)")
        lines.append(RefundLineAmount(line.sku, line.quantity, quantize(line.amount.amount, cur),
                                      quantize(line.tax.amount, cur), line.restock))
        tax += quantize(line.tax.amount, cur)
    shipping = Decimal(0)
    if refund.shipping is not None:
        if refund.shipping.currency != cur or refund.shipping.amount < 0:
            raise RecordError(f"refunded shipping {refund.shipping.amount} {refund.shipping.currency} is negative or "
                              f"not in {cur}", stream=stream, key=key, field="shipping",
                              hint="refunded shipping is what the buyer got back, in the refund's currency")
        shipping = quantize(refund.shipping.amount, cur)
    return RefundAmounts(currency=cur, lines=lines, shipping=shipping, tax=tax)


def check_within_order(refund: Refund, refunded: Decimal, order_total: Decimal, *, earlier: Decimal = Decimal(0),
                       stream: str = "refund", field: str = "lines") -> None:
    """A refund (with the order's earlier refunds) larger than the order is bad input: posting it would credit
    the buyer money they never paid. `refunded` and `order_total` must both include tax, or both exclude it."""
    if refunded + earlier > order_total:
        more = f" (with {earlier} {refund.currency} refunded before)" if earlier else ""
        raise RecordError(
            f"refund {refund.refund_id} of {refunded} {refund.currency}{more} is larger than order {refund.order_id}'s "
            f"total of {order_total} {refund.currency}", stream=stream, key=refund.natural_key, field=field,
            hint="check the refund in the channel (a duplicate, or a refund booked on the wrong order); once it is "
                 "corrected there, `ledgerlink dlq retry` posts it, or `ledgerlink dlq discard` drops it")


def earlier_refunds(ctx: Any, refund: Refund, total_of: Any) -> Decimal:
    """What the order's other refunds already took back, by the documents planned or posted for them
    (`ctx.refunds_of`, when the runtime offers it; `total_of` reads a document's total): the over-refund check
    counts them. Refunds refused in review or dead-lettered never posted, so they do not count."""
    refunds_of = getattr(ctx, "refunds_of", None)
    if refunds_of is None:
        return Decimal(0)
    return sum((Decimal(total_of(d.data)) for d in refunds_of(order_key_of(refund))
                if d.natural_key != refund.natural_key and getattr(d, "status", None) not in ("rejected", "dead")),
               Decimal(0))


def order_key_of(refund_or_return: Refund | Return) -> str:
    """The natural key of the order a refund or return belongs to (`source[@store]/order/<id>`), as the order's
    own plan formed it, so its documents can be found."""
    own = refund_or_return.natural_key
    prefix = own[: len(own) - len(f"/{refund_or_return.kind}/{refund_or_return.natural_id}")]
    return f"{prefix}/order/{refund_or_return.order_id}"


# ----------------------------------------------------------------------------------------------- decisions


def is_sellable(ret: Return, options: ReturnsOptions) -> bool:
    """A returned unit goes back on the shelf when its disposition is one the options call sellable; a return
    without a disposition (BigCommerce: the merchant's return flag) is as its source says."""
    if ret.disposition:
        return ret.disposition.strip().upper() in options.sellable_dispositions
    return ret.sellable


def restock_quantity(ret: Return) -> Decimal:
    """Units to put back (a return of zero or fewer units restocks nothing)."""
    return ret.quantity if ret.quantity > 0 else Decimal(0)


_DEFAULT_CUSTOMER = {"amazon_sp": "Amazon.com {currency}", "bigcommerce": "BigCommerce {currency}"}


def refund_customer_name(refund: Refund, options: ReturnsOptions, sale_customer: str | None = None) -> str:
    """The customer a refund posts to: the sale's when its document is known; else the options' per store or
    source, else their `customer`, else the channel's per-marketplace customer (as orders post by default)."""
    if sale_customer:
        return sale_customer
    template = (options.customers.get(refund.store or "") or options.customers.get(refund.source)
                or options.customer or _DEFAULT_CUSTOMER.get(refund.source) or f"{refund.source} {{currency}}")
    return template.replace("{currency}", refund.currency)


def tax_is_marketplace_collected(refund: Refund, options: ReturnsOptions, sale_left_tax_out: bool | None) -> bool:
    """Marketplace-facilitator tax was never the seller's liability, so its refund is not the seller's either."""
    if options.tax != "follow_sale":
        return options.tax == "marketplace"
    if sale_left_tax_out is not None:
        return sale_left_tax_out
    return refund.source == "amazon_sp"
