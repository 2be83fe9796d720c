"""What a user configures: the company file the Web Connector serves (`QbdConfig`) and the posting rules
(`PostingOptions`, the pipeline's `destination.options`)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ledgerlink import LedgerOptions, posting

DEFAULT_POST_STATUSES = posting.DEFAULT_POST_STATUSES
normalise_status = posting.normalise_status

__all__ = ["QbdConfig", "PostingOptions", "DEFAULT_POST_STATUSES", "normalise_status", "SANDBOX_URL"]

#: the simulator's documented address (`ledgerlink sandbox qb_desktop`)
SANDBOX_URL = "http://127.0.0.1:8714"
_GUID = re.compile(r"^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$")


class QbdConfig(BaseModel):
    """One QuickBooks Desktop company file, reached through the Web Connector that polls `ledgerlink serve`."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    username: str = Field(description="the Web Connector user name for this company file (in its .qwc file)",
                          min_length=1, max_length=100)
    password_hash: str = Field(description="the Web Connector password, hashed with `ledgerlink qbd hash-password` "
                                           "(the password itself is never stored)",
                               json_schema_extra={"airbyte_secret": True})
    owner_id: str = Field(description="OwnerID GUID of this integration, in braces, e.g. {57F3B9B1-…}")
    file_id: str = Field(description="FileID GUID of the company file, in braces")
    company_file: str = Field("", description="full path of the company file the Web Connector should open "
                                              "(empty: the file open in QuickBooks)")
    app_name: str = Field("ledgerlink", description="the application name the Web Connector shows", max_length=64)
    requests_per_message: int = Field(25, ge=1, le=200, description="qbXML requests sent in one message")
    ticket_ttl_s: int = Field(3600, ge=60, le=604_800, description="seconds a Web Connector session ticket "
                                                                            "stays valid (at most a week)")
    quiet_after_s: int = Field(86400, ge=60, le=31_536_000, description="warn when the Web Connector has not called for this long")
    max_request_bytes: int = Field(10_000_000, ge=10_000, le=500_000_000,
                                   description="largest SOAP request accepted, in bytes (at most 500000000)")
    run_every_minutes: int = Field(15, ge=1, le=10_080, description="how often the Web Connector polls (written to the .qwc)")
    stock_snapshot: str | None = Field(None, description=(
        "file each Web Connector session ends by writing QuickBooks' inventory quantities to (an "
        "ItemInventoryQuery), for the qb_desktop source's items stream; none or empty: no stock query"))

    @field_validator("owner_id", "file_id")
    @classmethod
    def _guid(cls, v: str) -> str:
        v = v.strip()
        if not v.startswith("{"):
            v = "{" + v + "}"
        if not _GUID.match(v):
            raise ValueError("must be a GUID in braces, e.g. {57F3B9B1-86F1-4FCC-B1EE-566DE1813D20}")
        return v.upper()

    @field_validator("stock_snapshot")
    @classmethod
    def _snapshot(cls, v: str | None) -> str | None:
        return (v or "").strip() or None

    @field_validator("password_hash")
    @classmethod
    def _hashed(cls, v: str) -> str:
        from .passwords import looks_hashed

        if not looks_hashed(v):
            raise ValueError("is not a password hash: run `ledgerlink qbd hash-password` and store its output")
        return v


class PostingOptions(LedgerOptions):
    """How an order becomes QuickBooks Desktop documents: the rules both QuickBooks destinations share
    (`ledgerlink.LedgerOptions`: documents, customers, items, stores, tax, channels, and the settlements,
    returns, inventory and reconcile sections) plus what is QuickBooks Desktop's own (accounts and items by name,
    item types, currencies). The destination's `options_model`: checked when the pipeline is loaded."""

    income_account: str = Field("Sales", description="income account of created items")
    deposit_account: str = Field("Undeposited Funds", description=(
        "account sales receipts and received payments deposit to (channels.<name>.deposit_account overrides it)"))
    ar_account: str | None = Field(None, description=(
        "accounts receivable account of invoices and payments (none: the company's default A/R account)"))
    discount_item: str = Field("Discount", description="service item carrying order discounts (negative amount)")
    discount_account: str = Field("Discounts Given", description="account of the discount item")
    tax_item: str = Field("Sales Tax Collected", description="item carrying seller-collected sales tax")
    tax_account: str = Field("Sales Tax Payable", description="liability account of the tax item")
    item_type: Literal["NonInventory", "Service", "Inventory"] = Field(
        "NonInventory", description="type of created items when items.create / items.create_as say nothing "
                                    "(Inventory needs the COGS and asset accounts)")
    cogs_account: str = Field("Cost of Goods Sold", description="COGS account of created inventory items")
    asset_account: str = Field("Inventory Asset", description="asset account of created inventory items")
    home_currency: str = Field("USD", description="the company file's home currency (ISO code)", min_length=3,
                               max_length=3)
    multicurrency: bool = Field(False, description=(
        "the company file has Multiple Currencies on: an order in another currency posts in that currency, to a "
        "customer in that currency; off: such an order is a dead letter saying how to turn it on"))

    @field_validator("home_currency")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.upper()
