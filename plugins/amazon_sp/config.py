"""The Amazon SP-API source's configuration (the connector spec users fill in)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = ["AmazonSPConfig", "SANDBOX_URL"]

#: the sandbox's documented default address (`ledgerlink sandbox amazon_sp`)
SANDBOX_URL = "http://127.0.0.1:8711"


class AmazonSPConfig(BaseModel):
    """How to reach one seller's SP-API account. Point `endpoint`/`lwa_endpoint` at production
    (https://sellingpartnerapi-na.amazon.com, https://api.amazon.com/auth/o2/token) or a sandbox."""

    model_config = ConfigDict(extra="forbid", title="Amazon Selling Partner API")

    endpoint: str = Field(SANDBOX_URL, description="SP-API base URL, e.g. https://sellingpartnerapi-na.amazon.com")
    lwa_endpoint: str = Field(f"{SANDBOX_URL}/auth/o2/token",
                              description="Login with Amazon token URL, e.g. https://api.amazon.com/auth/o2/token")
    client_id: str = Field(description="LWA client id of the SP-API application")
    client_secret: str = Field(json_schema_extra={"airbyte_secret": True})
    refresh_token: str = Field(json_schema_extra={"airbyte_secret": True},
                               description="the seller's LWA refresh token (Atzr|...)")
    marketplace_ids: list[str] = Field(min_length=1, description="e.g. ATVPDKIKX0DER (amazon.com)")
    start_date: AwareDatetime = Field(description="read orders last updated at or after this time (with a zone)")
    region: Literal["na", "eu", "fe"] = "na"
    seller_id: str | None = Field(None, description="merchant token; names the rate-limit bucket")
    lookback_minutes: int = Field(0, ge=0, description="re-read this much before the saved cursor each run")
    max_window_days: int = Field(30, ge=1, description="longest LastUpdatedAfter..Before window per query")
    page_size: int = Field(100, ge=1, le=100, description="orders per page (MaxResultsPerPage / maxResultsPerPage)")
    orders_api: Literal["v0", "2026-01-01"] = Field(
        "v0", description="v0: getOrders + one getOrderItems per order (streams orders, order_items); 2026-01-01: "
                          "searchOrders, items inline, 100 orders a request (stream orders_2026)")

    @property
    def rate_key(self) -> str:
        """SP-API usage plans are per selling partner and region (and operation, added by the client)."""
        return f"{self.seller_id or self.client_id}/{self.region}"

