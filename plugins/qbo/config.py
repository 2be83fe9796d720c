"""What a user configures: the connection (`QboConfig`) and the posting rules (`PostingOptions`).

The connection is the connector's config (secrets marked for masking); the posting rules are the
pipeline's `destination.options`, validated here so a typo fails the plan with the key's name.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ledgerlink import LedgerOptions, http_url, plausible_date, posting

__all__ = ["QboConnection", "QboConfig", "QboSourceConfig", "AccountSpec", "PostingOptions",
           "SANDBOX_URL", "INTUIT_SANDBOX_URL", "INTUIT_PRODUCTION_URL",
           "DEFAULT_POST_STATUSES", "normalise_status", "MIN_MINOR_VERSION"]

#: the local sandbox's documented address (`ledgerlink sandbox qbo`)
SANDBOX_URL = "http://127.0.0.1:8712"
INTUIT_SANDBOX_URL = "https://sandbox-quickbooks.api.intuit.com"
INTUIT_PRODUCTION_URL = "https://quickbooks.api.intuit.com"
INTUIT_TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
#: Intuit ignores minor versions below 75 since 2025-08-01; asking for one would hide schema drift
MIN_MINOR_VERSION = 75

#: the shared posting rules' defaults, re-exported for callers that imported them from here
DEFAULT_POST_STATUSES = posting.DEFAULT_POST_STATUSES
normalise_status = posting.normalise_status


def _secret(description: str) -> object:
    return Field(description=description, json_schema_extra={"airbyte_secret": True})


class QboConnection(BaseModel):
    """Connection to one QuickBooks Online company (realm): what the source and the destination share."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    base_url: str = Field(SANDBOX_URL, description=(
        f"API base URL: the local sandbox ({SANDBOX_URL}), Intuit's sandbox ({INTUIT_SANDBOX_URL}) "
        f"or production ({INTUIT_PRODUCTION_URL})"))
    token_url: str = Field(f"{SANDBOX_URL}/oauth2/v1/tokens/bearer",
                           description=f"OAuth2 token endpoint (Intuit's: {INTUIT_TOKEN_URL})")
    realm_id: str = Field(description="the QuickBooks company id (realmId)", min_length=1, max_length=64)
    client_id: str = Field(description="the Intuit app's client id", min_length=1)
    client_secret: str = _secret("the Intuit app's client secret")  # type: ignore[assignment]
    refresh_token: str = _secret("an OAuth2 refresh token for the company; rotated tokens are stored "  # type: ignore[assignment]
                                 "encrypted and preferred over this one")
    minor_version: int = Field(MIN_MINOR_VERSION, le=999, description="QBO API minorversion (75 or later)")
    timeout_s: float = Field(30.0, gt=0, le=600, description="HTTP timeout per request, seconds (at most 600)")
    requests_per_minute: int = Field(500, ge=1, le=10_000_000, description=(
        "client-side rate limit per company: Intuit allows 500 a minute; raise it only for the local sandbox "
        "started with a time_scale (at most 10000000)"))

    @field_validator("minor_version")
    @classmethod
    def _recent(cls, v: int) -> int:
        if v < MIN_MINOR_VERSION:
            raise ValueError(f"minor_version must be {MIN_MINOR_VERSION} or later: Intuit ignores older ones")
        return v

    @field_validator("base_url", "token_url")
    @classmethod
    def _no_slash(cls, v: str) -> str:
        return http_url(v, INTUIT_PRODUCTION_URL)


class AccountSpec(BaseModel):
    """What an account ledgerlink may create is (Intuit's AccountType and AccountSubType enumerations)."""

    model_config = ConfigDict(extra="forbid")

    AccountType: str = Field(description="e.g. Bank, Other Current Asset, Income, Expense, Other Current Liability")
    AccountSubType: str | None = Field(None, description="e.g. Checking, UndepositedFunds, SalesOfProductIncome")


class QboConfig(QboConnection):
    """The destination's config: the connection, batch limits, and whether missing accounts may be created."""

    batch_requests_per_minute: int = Field(40, ge=1, le=1_000_000, description=(
        "client-side limit of batch calls per company: Intuit allows 40 a minute (each also counts against "
        "requests_per_minute); raise it only for the local sandbox started with a time_scale (at most 1000000)"))
    batch_size: int = Field(30, ge=1, le=30, description=(
        "documents per batch call (Intuit allows 30); also how many outbox records are written together"))
    create_missing_accounts: bool = Field(False, description=(
        "create an account a document names (AccountRef, DepositToAccountRef, ...) when QuickBooks has none of "
        "that name, with the AccountType/AccountSubType given for it in `accounts`; off: a missing account is a "
        "dead letter naming it"))
    accounts: dict[str, AccountSpec] = Field(default_factory=dict, description=(
        "the accounts ledgerlink may create when create_missing_accounts is on: name → {AccountType, "
        "AccountSubType}, e.g. {\"Amazon Clearing\": {\"AccountType\": \"Bank\", \"AccountSubType\": \"Checking\"}}"))


class QboSourceConfig(QboConnection):
    """The source's config: the connection, where history starts, and how changes are found."""

    start_date: datetime = Field(datetime(2000, 1, 1, tzinfo=timezone.utc), description=(
        "read objects last updated at or after this time on the first run (ISO 8601; default: all history)"))
    change_data_capture: bool = Field(True, description=(
        "after the first run, ask /cdc what changed (which also reports deleted transactions) while the last "
        "run is less than 30 days ago; off: always query by Metadata.LastUpdatedTime (deletions not seen)"))
    page_size: int = Field(1000, ge=1, le=1000, description="objects per query page (Intuit allows 1000)")
    webhook_verifier_token: str | None = Field(None, json_schema_extra={"airbyte_secret": True}, description=(
        "the app's webhook verifier token (Intuit developer portal > Webhooks > Show token): lets `ledgerlink "
        "serve` accept signed change notifications at /webhooks/qbo and sync at once"))

    @field_validator("start_date")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        return plausible_date(v)


class PostingOptions(LedgerOptions):
    """How an order becomes QuickBooks documents (the pipeline's `destination.options`): the shared order-to-cash
    rules and the settlements, returns, inventory and reconcile sections (`ledgerlink.LedgerOptions`) plus
    QuickBooks Online's accounts and item types. The destination's `options_model`: checked when the pipeline is
    loaded."""

    income_account: str = Field("Sales of Product Income", description="income account of created items")
    deposit_account: str = Field("Undeposited Funds", description=(
        "account sales receipts and payments deposit to (per channel: channels.<name>.deposit_account)"))
    discount_account: str = Field("Discounts given", description="account of the discount line")
    item_type: Literal["NonInventory", "Service"] = Field("NonInventory", description=(
        "type of created items (per SKU glob: items.create)"))
    asset_account: str = Field("Inventory Asset", description="asset account of created inventory items")
    expense_account: str = Field("Cost of Goods Sold", description="cost of goods sold account of created "
                                                                   "inventory items")

    def default_item_kind(self) -> posting.ItemKind:
        return "service" if self.item_type == "Service" else "non_inventory"
