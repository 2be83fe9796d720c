"""The paged stream the overlap tests read: pages by number, `{"data": [...], "next": N}`; each request also
carries the greatest cursor seen so far (its state)."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from ledgerlink import HttpStream

__all__ = ["Paged"]


class Paged(HttpStream):
    """Pages by number; the request also carries the greatest cursor seen (state) so far."""

    name: ClassVar[str] = "things"
    path: ClassVar[str] = "/things"
    operation: ClassVar[str] = "listThings"
    primary_key: ClassVar[str] = "id"
    cursor_field: ClassVar[str] = "updated"
    records_path: ClassVar[tuple[str, ...]] = ("data",)

    def request_params(self, state: dict[str, Any], page_token: Any | None) -> dict[str, Any]:
        return {"page": page_token or 1, "since": state.get("updated", "")}

    def next_page_token(self, response: httpx.Response, body: Any) -> Any | None:
        return body["next"] if body and body.get("next") else None
