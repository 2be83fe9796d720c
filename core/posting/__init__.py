"""Posting rules every ledger shares: which document an order becomes, its customer, items, tax and dimensions.

Ledger plugins (QuickBooks Online, QuickBooks Desktop, a third party's) decide the shape of their payloads;
the decisions that are the same in every ledger live here, so they cannot drift apart.
"""

from .amounts import UNIT_PRICE_PLACES, LineAmount, OrderAmounts, order_amounts, rounding_line, unit_price
from .customers import CustomerChoice, customer_for, normalised_name
from .decide import Decision, decide, rule_matches
from .dimensions import Dimensions, dimensions_for, number_for
from .items import ItemChoice, ItemKind, item_for
from .options import (
    DEFAULT_CANCELLED_STATUSES, DEFAULT_POST_STATUSES, ChannelOptions, CreateRule, DocumentRule, DocumentType,
    DocumentWhen, ItemRules, OrderPostingOptions, StoreDimensions, TaxOptions, normalise_status,
)
from .instalments import PAID_MARK, Instalment, instalment_due
from .payments import deposit_account_for, payment_method_for
from .returns import *  # noqa: F403  refunds and returns (helper "returns" owns returns.py)
from .returns import __all__ as _returns_all

__all__ = [
    "OrderPostingOptions", "DocumentRule", "DocumentWhen", "ItemRules", "CreateRule", "StoreDimensions",
    "ChannelOptions", "TaxOptions", "DocumentType", "DEFAULT_POST_STATUSES", "DEFAULT_CANCELLED_STATUSES",
    "normalise_status",
    "Decision", "decide", "rule_matches",
    "CustomerChoice", "customer_for", "normalised_name",
    "ItemChoice", "ItemKind", "item_for",
    "LineAmount", "OrderAmounts", "order_amounts", "unit_price", "rounding_line", "UNIT_PRICE_PLACES",
    "Dimensions", "dimensions_for", "number_for",
    "payment_method_for", "deposit_account_for",
    "Instalment", "instalment_due", "PAID_MARK",  # invoices paid in instalments (books-rev)
    *_returns_all,
]
