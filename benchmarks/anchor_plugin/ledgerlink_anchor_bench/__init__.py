"""A third-party plugin of the anchor benchmark, written against ledgerlink's public API only: a source over the
anchor server's paginated orders (`GET /orders?page=N&limit=250`, `{"data": [...], "meta": {"pagination": …}}`)
and a destination that plans and writes nothing, so `ledgerlink sync` measures read → stage alone."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, field_validator

from ledgerlink import Destination, HttpClient, HttpStream, Source, Stream, WriteResult, hookimpl, http_url

__all__ = ["AnchorSource", "NothingDestination", "AnchorOrders"]


class AnchorConfig(BaseModel):
    base_url: str = "http://127.0.0.1:8765"
    page_size: int = 250

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_url(value, "http://127.0.0.1:8765")


class AnchorOrders(HttpStream):
    """Orders by page number, 250 a page, until a page comes back empty."""

    name = "orders"
    path = "/orders"
    operation = "listOrders"
    primary_key = "id"
    cursor_field = "date_modified"
    records_path = ("data",)
    #: each order is staged as the anchor server's own text (public HttpStream option; see docs/guides/plugin.md)
    stage_text = True

    def request_params(self, state: dict[str, Any], page_token: Any | None) -> dict[str, Any]:
        return {"page": page_token or 1, "limit": self.config.page_size}

    def next_page_token(self, response: httpx.Response, body: Any) -> Any | None:
        if not body or not body.get("data"):
            return None
        return int(body["meta"]["pagination"]["current_page"]) + 1


class AnchorSource(Source):
    name: ClassVar[str] = "anchor_bench"
    config_model: ClassVar[type[BaseModel]] = AnchorConfig

    def stream_classes(self) -> list[type[Stream]]:
        return [AnchorOrders]

    def streams(self, config: AnchorConfig) -> list[Stream]:
        return [AnchorOrders(config, HttpClient(config.base_url, rate_key="anchor"))]


class NothingConfig(BaseModel):
    pass


class NothingDestination(Destination):
    """Plans nothing, writes nothing: the benchmark measures read → stage."""

    name: ClassVar[str] = "nothing_bench"
    config_model: ClassVar[type[BaseModel]] = NothingConfig

    def write_batch(self, stream: str, records: list[Any]) -> list[WriteResult]:
        return [WriteResult(r.key, destination_id=None) for r in records]


@hookimpl
def register_connectors(register: Any) -> None:
    register(AnchorSource)
    register(NothingDestination)
