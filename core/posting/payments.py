"""The payment method and deposit account an order's money is recorded with, per channel."""

from __future__ import annotations

from ..commerce import Order
from .options import OrderPostingOptions

__all__ = ["payment_method_for", "deposit_account_for"]


def payment_method_for(order: Order, options: OrderPostingOptions) -> str | None:
    """The ledger payment method a document names: the channel's fixed `payment_method`, else the channel's
    (then the global) `payment_methods` mapping of the order's method, else the method's own name; None when
    the order has none (or it is mapped to "")."""
    channel = options.channel_options(order.sales_channel, order.marketplace, order.channel)
    if channel is not None and channel.payment_method is not None:
        return channel.payment_method.strip() or None
    method = (order.payment_method or "").strip()
    if not method:
        return None
    if channel is not None and method in channel.payment_methods:
        return channel.payment_methods[method].strip() or None
    return options.payment_methods.get(method, method).strip() or None


def deposit_account_for(order: Order, options: OrderPostingOptions, default: str) -> str:
    """The account a channel's receipts and payments deposit to (`channels.<name>.deposit_account`), else
    `default` (the ledger's deposit_account option)."""
    channel = options.channel_options(order.sales_channel, order.marketplace, order.channel)
    if channel is not None and channel.deposit_account:
        return channel.deposit_account
    return default
