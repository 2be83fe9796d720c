"""The Amazon SP-API source's configuration (the connector spec users fill in)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from ledgerlink import Options, http_url, inventory, plausible_date

__all__ = ["AmazonSPConfig", "AmazonSPWriteOptions", "SANDBOX_URL", "PRODUCTION_ENDPOINTS", "AMAZON_SANDBOX_ENDPOINTS", "LWA_URL"]

#: the sandbox's documented default address (`ledgerlink sandbox amazon_sp`)
SANDBOX_URL = "http://127.0.0.1:8711"
#: Amazon's regional SP-API endpoints (North America, Europe, Far East)
PRODUCTION_ENDPOINTS = {"na": "https://sellingpartnerapi-na.amazon.com",
                        "eu": "https://sellingpartnerapi-eu.amazon.com",
                        "fe": "https://sellingpartnerapi-fe.amazon.com"}
#: Amazon's own static sandbox (the models' `x-amzn-api-sandbox` cases), per region
AMAZON_SANDBOX_ENDPOINTS = {region: url.replace("https://", "https://sandbox.")
                            for region, url in PRODUCTION_ENDPOINTS.items()}
#: Login with Amazon's token endpoint (one for every region)
LWA_URL = "https://api.amazon.com/auth/o2/token"


class AmazonSPConfig(BaseModel):
    """How to reach one seller's SP-API account. `environment` and `region` pick Amazon's endpoints
    (production or Amazon's sandbox, NA/EU/FE) or this machine's sandbox; `endpoint`/`lwa_endpoint` override
    either."""

    model_config = ConfigDict(extra="forbid", title="Amazon Selling Partner API", allow_inf_nan=False)

    environment: Literal["local", "production", "amazon_sandbox"] = Field(
        "local", description="local: `ledgerlink sandbox amazon_sp` on this machine; production: Amazon's regional "
                             "endpoint; amazon_sandbox: Amazon's static sandbox (sandbox.sellingpartnerapi-…)")
    endpoint: str | None = Field(None, description="SP-API base URL; overrides environment and region, e.g. "
                                                   "https://sellingpartnerapi-eu.amazon.com")
    lwa_endpoint: str | None = Field(None, description="Login with Amazon token URL (default: "
                                                       "https://api.amazon.com/auth/o2/token, or the local sandbox's)")
    client_id: str = Field(description="LWA client id of the SP-API application")
    client_secret: str = Field(json_schema_extra={"airbyte_secret": True})
    refresh_token: str = Field(json_schema_extra={"airbyte_secret": True},
                               description="the seller's LWA refresh token (Atzr|...)")
    marketplace_ids: list[str] = Field(min_length=1, description="e.g. ATVPDKIKX0DER (amazon.com)")
    start_date: AwareDatetime = Field(description="read orders last updated at or after this time (with a zone)")
    region: Literal["na", "eu", "fe"] = "na"
    seller_id: str | None = Field(None, description="merchant token; names the rate-limit bucket")
    lookback_minutes: int = Field(0, ge=0, le=525_600, description="re-read this much before the saved cursor each run")
    max_window_days: int = Field(30, ge=1, le=365, description="longest LastUpdatedAfter..Before window per query")
    page_size: int = Field(100, ge=1, le=100, description="orders per page (MaxResultsPerPage / maxResultsPerPage)")
    orders_api: Literal["v0", "2026-01-01"] = Field(
        "v0", description="v0: getOrders + one getOrderItems per order (streams orders, order_items); 2026-01-01: "
                          "searchOrders, items inline, 100 orders a request (stream orders_2026)")
    inventory_full_read_hours: float = Field(
        24, ge=0, le=8_760, description="fba_inventory: re-read every summary this often (reads by startDateTime in between "
                              "miss inbound-quantity changes, as Amazon documents); 0: every run reads everything")
    finances_api: Literal["2024-06-19", "v0"] = Field(
        "2024-06-19", description="2024-06-19: listTransactions (stream finances, DEFERRED/RELEASED statuses); v0: "
                                  "listFinancialEvents (stream financial_events, released events only), as a fallback")
    finances_lookback_days: float = Field(
        2, ge=0, le=365, description="finances: re-read this many days before the saved cursor (Amazon posts late)")
    finances_window_days: int = Field(
        30, ge=1, le=180, description="finances: longest postedAfter..postedBefore window (Amazon answers an empty "
                                      "page beyond 180 days)")
    settlement_files: list[str] = Field(
        default_factory=list, description="settlements: settlement flat files (V2 or V1) to import from disk, as "
                                          "paths or globs (e.g. ~/amazon/settlements/*.txt), to back-fill history")
    settlement_reports: bool = Field(
        True, description="settlements: list Amazon's settlement reports with getReports (last 90 days); false "
                          "reads only settlement_files")
    report_window_days: int = Field(
        30, ge=1, le=90, description="report streams (fba_customer_returns, fba_inventory_ledger, fba_reimbursements, "
                                     "all_orders_report): longest dataStartTime..dataEndTime of one report")
    report_min_window_minutes: float = Field(
        30, ge=0, le=43_200, description="report streams: request no report for less than this much new time since "
                                         "the last one read (Amazon allows about one createReport a minute, and its "
                                         "reports' data changes far less often); a later run requests it")
    report_poll_seconds: float = Field(
        0.2, gt=0, le=3_600, description="report streams: first wait before asking getReport again (grows by half each time, "
                               "up to a minute)")
    report_max_wait_minutes: float = Field(
        120, gt=0, le=10_080, description="report streams: wait at most this long in one run for one "
                                        "report; one still in progress is saved and the next run asks about it")
    report_look_again_seconds: float = Field(
        60, gt=0, le=86_400, description="report streams: a report still in progress when a run may wait no longer "
                                         "(a fleet worker, `sync --wait-in-run-seconds`) is saved in the stream's "
                                         "state and looked at again after at least this long, by the next run")
    report_fatal_attempts: int = Field(
        3, ge=1, le=100, description="report streams: create a FATAL report again up to this many attempts in all")
    report_retry_cooldown_seconds: float = Field(
        60, ge=0, le=86_400, description="report streams: wait this long before creating a FATAL report again")
    backfill: Literal["api", "reports"] = Field(
        "api", description="api: getOrders reads the orders history; reports: the all_orders_report stream (one "
                           "all-orders report per 30 days, items included) back-fills it in a handful of calls")

    notifications_api_key_header: str = Field(
        "x-ledgerlink-api-key", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9-]+$",
        description="notifications: the header the EventBridge connection sends its API key in (the receiver at "
                    "/webhooks/amazon checks it)")
    notifications_api_key: str | None = Field(
        None, min_length=16, json_schema_extra={"airbyte_secret": True},
        description="notifications: the EventBridge connection's API key (at least 16 characters); unset, the "
                    "receiver refuses every notification (503)")

    @field_validator("start_date")
    @classmethod
    def _plausible_start(cls, v: datetime | None) -> datetime | None:
        """SP-API refuses dates it cannot print as YYYY-MM-DD…Z; a year-1 or year-9999 date is a typo anyway."""
        return None if v is None else plausible_date(v)

    @field_validator("endpoint", "lwa_endpoint")
    @classmethod
    def _http(cls, v: str | None) -> str | None:
        return None if v is None else http_url(v, PRODUCTION_ENDPOINTS["na"])

    @model_validator(mode="after")
    def _endpoints(self) -> "AmazonSPConfig":
        """Fill in the endpoints `environment` and `region` imply, unless given."""
        if self.endpoint is None:
            self.endpoint = {"local": SANDBOX_URL, "production": PRODUCTION_ENDPOINTS[self.region],
                             "amazon_sandbox": AMAZON_SANDBOX_ENDPOINTS[self.region]}[self.environment]
        if self.lwa_endpoint is None:
            self.lwa_endpoint = f"{self.endpoint.rstrip('/')}/auth/o2/token" if self.environment == "local" else LWA_URL
        return self

    @property
    def rate_key(self) -> str:
        """SP-API usage plans are per selling partner and region (and operation, added by the client)."""
        return f"{self.seller_id or self.client_id}/{self.region}"


#: the shared stock section (`destination.options.inventory`), read by `ledgerlink.inventory`
InventoryOptions = inventory.InventoryOptions


class AmazonSPWriteOptions(Options):
    """The amazon_sp destination's `destination.options`: which stock levels become FBM listing quantities (and
    how the stock both ways is mastered). Shipment confirmations take no options."""

    locations: list[str] | None = Field(None, description=(
        "only stock levels at these locations are pushed to Amazon (default: every location but Amazon's own)"))
    unlisted_skus: Literal["skip", "dead_letter"] = Field("skip", description=(
        "a SKU the seller does not list on Amazon: skip (logged) or dead_letter"))
    inventory: InventoryOptions = Field(default_factory=InventoryOptions, description=(
        "which system masters each SKU's stock, the baseline file both directions share; see the inventory page of "
        "the docs (docs/concepts/inventory.md)"))

    @field_validator("locations", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        """A location id written as a number (`[1]`) is the location "1"."""
        if isinstance(value, list):
            return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
        return value
