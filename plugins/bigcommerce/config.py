"""The BigCommerce connectors' configuration (the spec users fill in)."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from ledgerlink import Options, http_url, inventory, plausible_date

__all__ = ["BigCommerceConfig", "BigCommerceWriteOptions", "SANDBOX_URL", "PRODUCTION_URL", "DEFAULT_STORE_HASH"]

#: the sandbox's documented default address (`ledgerlink sandbox bigcommerce`)
SANDBOX_URL = "http://127.0.0.1:8713"
PRODUCTION_URL = "https://api.bigcommerce.com"
#: the sandbox's store, also the example pipeline's default
DEFAULT_STORE_HASH = "abc123"


class BigCommerceConfig(BaseModel):
    """How to reach one BigCommerce store through a store-level API account (`X-Auth-Token`)."""

    model_config = ConfigDict(extra="forbid", title="BigCommerce", allow_inf_nan=False)

    base_url: str = Field(SANDBOX_URL, description=f"API base URL: {PRODUCTION_URL} or a sandbox ({SANDBOX_URL}); "
                                                   "requests go to {base_url}/stores/{store_hash}/v2|v3/...")
    store_hash: str = Field(min_length=1, pattern=r"^[A-Za-z0-9]+$", description="the store's permanent id")
    access_token: str = Field(min_length=1, json_schema_extra={"airbyte_secret": True},
                              description="the API account's access token (sent as X-Auth-Token)")
    start_date: AwareDatetime | None = Field(None, description=(
        "read orders modified at or after this time (with a zone); empty: the store's whole history"))
    page_size: int = Field(250, ge=1, le=250, description="records per page (BigCommerce allows 250)")
    lookback_minutes: int = Field(0, ge=0, le=525_600, description="re-read this much before the saved cursor each "
                                                                  "run (at most a year)")
    timeout_s: float = Field(30.0, gt=0, le=600, description="HTTP timeout per request, seconds (at most 600)")
    webhook_secret: str | None = Field(None, json_schema_extra={"airbyte_secret": True}, description=(
        "sent by BigCommerce in the X-Ledgerlink-Webhook-Secret header of every webhook (set when "
        "`ledgerlink bigcommerce webhooks create` subscribes); the receiver refuses callbacks without it"))
    requests_per_second: float = Field(5.0, gt=0, le=100_000, description=(
        "client-side pace per store (at most 100000, for a time-scaled sandbox); the store's real quota is read from X-Rate-Limit-* headers and a 429 "
        "waits for X-Rate-Limit-Time-Reset-Ms"))

    @field_validator("start_date")
    @classmethod
    def _plausible_start(cls, v: datetime | None) -> datetime | None:
        """A year-1 or year-9999 start date is a typo, and BigCommerce refuses dates it cannot print."""
        return None if v is None else plausible_date(v)

    @field_validator("base_url")
    @classmethod
    def _no_slash(cls, v: str) -> str:
        return http_url(v, PRODUCTION_URL)

    @property
    def root(self) -> str:
        """The store's API root, e.g. https://api.bigcommerce.com/stores/abc123."""
        return f"{self.base_url}/stores/{self.store_hash}"


#: the shared stock section (`destination.options.inventory`), read by `ledgerlink.inventory`
InventoryOptions = inventory.InventoryOptions


class BigCommerceWriteOptions(Options):
    """The bigcommerce destination's `destination.options`: how QuickBooks' stock levels reach the store.
    Shipments take no options."""

    inventory: InventoryOptions = Field(default_factory=InventoryOptions, description=(
        "which system masters each SKU's stock, the store location QuickBooks mirrors, the baseline file both "
        "directions share; see the inventory page of the docs (docs/concepts/inventory.md)"))
