"""The MyShop source: its config, one stream of orders, and the connection check."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

import ledgerlink

SANDBOX_URL = "http://127.0.0.1:8790"


class MyShopConfig(BaseModel):
    """How to reach one MyShop store."""

    base_url: str = Field(SANDBOX_URL, description="API base URL: the sandbox, or https://api.myshop.example")
    api_key: str = Field(description="the store's API key",
                         json_schema_extra={"airbyte_secret": True})  # masked in every log line
    page_size: int = Field(50, ge=1, le=100, description="orders per page")
    store_id: str | None = Field(None, description="the store's id, as MyShop's callbacks name it (for webhooks)")
    webhook_secret: str | None = Field(None, description="the secret MyShop signs its callbacks with",
                                       json_schema_extra={"airbyte_secret": True})


def client(config: MyShopConfig) -> ledgerlink.HttpClient:
    """Every call goes through ledgerlink's HTTP toolkit: timeouts, a rate limit per store, retries."""
    return ledgerlink.HttpClient(config.base_url, rate_key=config.api_key[-4:],
                                 default_limit=ledgerlink.Limit(rate=5, burst=10),
                                 headers={"X-Api-Key": config.api_key})


class Orders(ledgerlink.HttpStream):
    """Orders by last update, oldest first; the cursor makes the next read incremental."""

    name = "orders"
    path = "/orders"
    operation = "listOrders"  # names the call in errors and picks its rate limit
    primary_key = "id"
    cursor_field = "updated_at"
    records_path = ("data",)

    def request_params(self, state: dict[str, Any], page_token: Any | None) -> dict[str, Any]:
        # The first page starts after the saved cursor; later pages follow the API's own opaque cursor
        # (`state` advances as records are observed, so it must not drive paging).
        if page_token:
            return {"limit": self.config.page_size, "cursor": page_token}
        return {"limit": self.config.page_size, "updated_after": state.get("updated_at", "")}

    def next_page_token(self, response: Any, body: Any) -> Any | None:
        return body.get("next_cursor")


class MyShopSource(ledgerlink.Source):
    name = "myshop"
    config_model = MyShopConfig

    def streams(self, config: MyShopConfig) -> list[ledgerlink.Stream]:
        return [Orders(config, client(config))]

    def stream_classes(self) -> list[type[ledgerlink.Stream]]:
        return [Orders]  # `ledgerlink discover myshop` lists them without a live config

    def check_connection(self, config: MyShopConfig) -> None:
        client(config).request("GET", "/ping", operation="ping")  # a refusal raises a typed error
