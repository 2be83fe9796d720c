"""The ledger-neutral posting options: which orders post, as what, to which customer, item and store dimensions.

Both QuickBooks destinations' `PostingOptions` subclass `OrderPostingOptions`, so one pipeline's rules mean the
same in QuickBooks Online and Desktop; ledger-only settings (accounts, item types) stay in the plugins.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from ..options.model import Options, Percent, Rate

__all__ = ["OrderPostingOptions", "DocumentRule", "DocumentWhen", "ItemRules", "CreateRule", "StoreDimensions",
           "ChannelOptions", "TaxOptions", "DEFAULT_POST_STATUSES", "DEFAULT_CANCELLED_STATUSES", "normalise_status",
           "DocumentType"]

#: what an order becomes: a sales receipt (paid at once), an invoice (paid later), or nothing
DocumentType = Literal["sales_receipt", "invoice"]

#: Statuses that post on the built-in channels (Amazon, BigCommerce): shipped, paid awaiting shipment, and
#: BigCommerce's Awaiting Payment (an invoice until the payment arrives). Compared after `normalise_status`.
DEFAULT_POST_STATUSES = [
    "Shipped", "PartiallyShipped", "Unshipped", "Completed", "AwaitingFulfillment", "AwaitingShipment",
    "AwaitingPickup", "Paid", "AwaitingPayment",
]
#: Statuses meaning the sale did not happen: Amazon's Canceled, BigCommerce's Cancelled and Declined
DEFAULT_CANCELLED_STATUSES = ["Canceled", "Cancelled", "Declined"]


@functools.lru_cache(maxsize=4096)  # a handful of statuses, asked about several times for every order
def normalise_status(status: str) -> str:
    """`Partially Shipped`, `partially_shipped` and `PartiallyShipped` are the same status."""
    return re.sub(r"[^a-z0-9]", "", status.lower())


def _one_or_many(value: str | list[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


class DocumentWhen(Options):
    """Conditions of a document rule; all given ones must hold (an empty `when` matches every order)."""

    channel: str | list[str] | None = Field(None, description="order channel(s), e.g. amazon, bigcommerce")
    fulfilment: Literal["channel", "merchant"] | None = Field(None, description="channel = FBA; merchant = FBM/own")
    status: str | list[str] | None = Field(None, description="channel order status(es), any spelling")
    paid: bool | None = Field(None, description="the channel says the order is paid")
    marketplace: str | list[str] | None = Field(None, description="marketplace id(s) or store name(s)")
    store: str | list[str] | None = Field(None, description="store id(s) of a multi-store pipeline")
    business: bool | None = Field(None, description="a B2B (Amazon Business) order")


class DocumentRule(Options):
    """`{when: {...}, post_as: invoice}`: orders matching `when` post as `post_as` (first matching rule wins)."""

    when: DocumentWhen = Field(default_factory=DocumentWhen)
    post_as: Literal["sales_receipt", "invoice", "skip"]


class CreateRule(Options):
    """`{sku: "KIT-*", as: inventory}`: SKUs matching the glob are created as that kind of item."""

    model_config = ConfigDict(populate_by_name=True)

    sku: str = Field(description="a glob over the store SKU, e.g. KIT-* (case-sensitive)")
    as_: Literal["non_inventory", "inventory", "service"] = Field(alias="as")

    def matches(self, sku: str) -> bool:
        return fnmatch.fnmatchcase(sku, self.sku)


class ItemRules(Options):
    """How a store SKU finds its ledger item, and what happens when there is none."""

    sku_map: dict[str, str] = Field(default_factory=dict, description=(
        "store SKU → ledger item name, for SKUs whose item is named otherwise"))
    match: Literal["name", "sku_map"] = Field("name", description=(
        "name: an unmapped SKU is the item's name (default); sku_map: only SKUs in sku_map match, the rest are "
        "unmatched"))
    create: list[CreateRule] = Field(default_factory=list, description=(
        "which kind of item a missing SKU is created as, by SKU glob (first match wins), e.g. "
        "[{sku: 'KIT-*', as: inventory}]"))
    create_as: Literal["non_inventory", "inventory", "service"] | None = Field(None, description=(
        "the kind of item any other missing SKU is created as (default: the ledger's item_type option)"))
    unmatched: Literal["create", "dead_letter"] = Field("create", description=(
        "create: a SKU the ledger lacks is created; dead_letter: it is not, and the order is a dead letter saying "
        "how to map it"))


class StoreDimensions(Options):
    """The ledger's dimensions for one store's documents (QuickBooks class, location/department)."""

    model_config = ConfigDict(populate_by_name=True)

    class_: str | None = Field(None, alias="class", description="QuickBooks class name")
    location: str | None = Field(None, description="QuickBooks location (QBO department; QBD: class if no sites)")
    department: str | None = Field(None, description="QuickBooks Online department; same as location there")
    number_prefix: str | None = Field(None, description=(
        "put before this store's document numbers (DocNumber / RefNumber), e.g. \"EU-\": two stores' order 101 "
        "become EU-101 and US-101, so QuickBooks' duplicate-number warning never fires"))


class ChannelOptions(Options):
    """Per-channel settings: where its money is deposited and which payment method it names."""

    deposit_account: str | None = Field(None, description="account this channel's receipts and payments deposit to")
    payment_method: str | None = Field(None, description="payment method every document of this channel names")
    payment_methods: dict[str, str] = Field(default_factory=dict, description=(
        "this channel's payment method → the ledger's payment method name"))


class TaxOptions(Options):
    """How seller-collected tax is posted. Marketplace-collected tax never is (the marketplace remits it)."""

    mode: Literal["auto", "automated", "codes"] = Field("auto", description=(
        "automated: the channel's tax sent as the document's total tax (US companies on automated sales tax); "
        "codes: a tax code per line (non-US companies) and a rounding line; auto: by the company's country"))
    taxable_code: str = Field("TAX", description="tax code of taxed lines in codes mode (e.g. 'GST/HST ON')")
    exempt_code: str = Field("NON", description="tax code of untaxed lines in codes mode (e.g. 'Exempt')")
    rounding_item: str = Field("Rounding", description=(
        "item of the rounding line that makes the document's total equal the channel's exactly"))
    rates: dict[str, Percent] = Field(default_factory=dict, description=(
        "tax code → rate in percent the ledger computes (codes mode), e.g. {'GST/HST ON': '13'}: the difference "
        "between the ledger's tax and the channel's goes on the rounding line"))


class OrderPostingOptions(Options):
    """How an order becomes ledger documents: the rules both QuickBooks destinations share."""

    customer_strategy: Literal["per_marketplace", "per_buyer"] = Field(
        "per_marketplace", description="one customer per marketplace and currency (default; Amazon anonymises "
                                       "buyers), or one per buyer matched by e-mail then name")
    post_statuses: list[str] = Field(default_factory=lambda: list(DEFAULT_POST_STATUSES),
                                     description="channel order statuses that post; others plan nothing")
    cancelled_statuses: list[str] = Field(default_factory=lambda: list(DEFAULT_CANCELLED_STATUSES), description=(
        "statuses meaning the order will never be a sale: a document already posted for it is voided or "
        "reversed (on_cancel); none is posted"))
    on_cancel: Literal["void", "reverse"] = Field("void", description=(
        "void: the posted receipt or invoice is voided (amounts zero, kept for the audit trail); reverse: a "
        "credit memo / refund receipt dated the cancellation, for a closed period"))
    documents: list[DocumentRule] = Field(default_factory=list, description=(
        "ordered rules choosing the document per order (first match wins), e.g. [{when: {channel: amazon, "
        "business: true}, post_as: invoice}]; orders no rule matches take default_document"))
    default_document: Literal["auto", "sales_receipt", "invoice", "skip"] = Field("auto", description=(
        "the catch-all: auto posts a paid order as a sales receipt and an unpaid one as an invoice whose payment "
        "is posted when the order turns paid"))
    unpaid_statuses: dict[str, list[str]] = Field(
        default_factory=lambda: {"bigcommerce": ["Awaiting Payment"]}, description=(
            "channel → the posting statuses its orders are in before they are paid (BigCommerce: Awaiting Payment); "
            "a paid order of such a channel may have been invoiced earlier, so its receipt posts only if no invoice "
            "did, and the invoice's payment posts otherwise"))
    time_zone: str = Field("UTC", description="IANA time zone of the books, for TxnDate")
    payment_methods: dict[str, str] = Field(default_factory=dict, description=(
        "channel payment method → the ledger's payment method name (e.g. {\"Credit Card\": \"Visa\"}); an unmapped "
        "method posts under its own name, one mapped to \"\" posts none"))
    channels: dict[str, ChannelOptions] = Field(default_factory=dict, description=(
        "per channel (amazon, bigcommerce, or a sales channel label such as Amazon.com): deposit_account, "
        "payment_method, payment_methods"))
    create_items: bool = Field(True, description="create an item for a SKU the ledger does not know")
    shipping_item: str = Field("Shipping", description="service item for shipping charges")
    gift_wrap_item: str = Field("Gift Wrap", description="service item for gift wrap charges")
    items: ItemRules = Field(default_factory=ItemRules, description=(
        "SKU → item matching (sku_map, match), what missing SKUs are created as (create, create_as), and "
        "unmatched: create | dead_letter"))
    stores: dict[str, StoreDimensions] = Field(default_factory=dict, description=(
        "per store id (\"*\": any other store): class, location, department of its documents"))
    tax: TaxOptions = Field(default_factory=TaxOptions, description="automated sales tax or tax codes, and rounding")
    exchange_rates: dict[str, Rate] = Field(default_factory=dict, description=(
        "currency → units of home currency per unit, for multicurrency documents (e.g. {CAD: '0.73'}); a currency "
        "not listed takes the ledger's own rate for the document's date"))

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}; use an IANA name such as America/New_York") from None
        return v

    def posts(self, status: str, paid: bool) -> bool:
        """Kept for callers of the receipts-only rule: a paid order in a posting status."""
        return paid and self.in_post_status(status)

    def in_post_status(self, status: str) -> bool:
        return normalise_status(status) in {normalise_status(s) for s in self.post_statuses}

    def is_cancelled(self, status: str) -> bool:
        return normalise_status(status) in {normalise_status(s) for s in self.cancelled_statuses}

    def channel_options(self, *names: str | None) -> ChannelOptions | None:
        """The first `channels` entry naming one of `names` (e.g. the sales channel label, then the channel)."""
        for name in names:
            if name and name in self.channels:
                return self.channels[name]
        return None
