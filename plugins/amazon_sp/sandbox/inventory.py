"""The sandbox's FBA Inventory API: getInventorySummaries, refusing what Amazon refuses.

Marketplace granularity only, one marketplace a request, `details`, `startDateTime` (no older than 18 months;
inbound changes are not detected, as the model warns), `sellerSkus`/`sellerSku`, pages of 50 and a nextToken
that dies `next_token_life_s` (30 Amazon seconds, scaled by time_scale) after it is issued and must be sent with
the query that produced it. Outside Amazon's paths, `POST /_sandbox/inventory` changes a SKU's quantities and
`POST /_sandbox/inventory/expire_tokens` kills the nextTokens issued so far.

`routes(api)` returns the routes served next to the Orders API; `PLANS` adds the usage plan (operation ->
(rate/s, burst)) to the sandbox's throttling, scaled by its time_scale like the rest.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledgerlink import json_loads

from .replies import Invalid as _Invalid
from .replies import parse_time, refuse, reply
from .seed import MARKETPLACES
from .seed_inventory import InventoryBook

__all__ = ["PLANS", "routes", "InventoryApi"]

OPERATION = "getInventorySummaries"
PLANS: dict[str, tuple[float, int]] = {OPERATION: (2.0, 2)}
_OLDEST_S = 548 * 86400  # startDateTime no earlier than 18 months before the request


class InventoryApi:
    """getInventorySummaries over the seller's `InventoryBook` (built on first use) and its issued nextTokens."""

    def __init__(self, api: Any):
        self.api = api
        self._book: InventoryBook | None = None
        #: nextToken -> (issued at, monotonic seconds; the query it continues)
        self.tokens: dict[str, tuple[float, dict[str, Any]]] = {}
        #: how old each nextToken was when it came back, in real seconds (tests read it)
        self.token_ages: list[float] = []

    @property
    def book(self) -> InventoryBook:
        if self._book is None:
            self._book = InventoryBook(self.api.book)
        return self._book

    @property
    def token_life(self) -> float:
        return self.api.options.next_token_life_s / self.api.options.time_scale

    async def summaries(self, request: Request) -> Response:
        refused = self.api._gate(request, OPERATION)
        if refused is not None:
            return refused
        try:
            body = self._page(request.query_params)
        except _Invalid as exc:
            return self.api._count(OPERATION, refuse(400, "InvalidInput", str(exc)))
        return self.api._count(OPERATION, reply(body))

    def _query(self, q: Any) -> dict[str, Any]:
        """The filters, checked as Amazon checks them."""
        if q.get("granularityType") is None or q.get("granularityId") is None:
            raise _Invalid("Missing required parameters granularityType and granularityId.")
        if q["granularityType"] != "Marketplace":
            raise _Invalid(f"Invalid granularityType {q['granularityType']!r}: the only allowed value is Marketplace.")
        markets = [m for raw in q.getlist("marketplaceIds") for m in raw.split(",") if m]
        if len(markets) != 1:
            raise _Invalid("marketplaceIds must hold exactly one marketplace ID.")
        market = markets[0]
        if market not in MARKETPLACES:
            raise _Invalid(f"Invalid marketplaceIds: {market}. The seller does not sell there.")
        if q["granularityId"] != market:
            raise _Invalid("granularityId must be the marketplace ID given in marketplaceIds.")
        details = q.get("details", "false").lower()
        if details not in ("true", "false"):
            raise _Invalid(f"Invalid details {q['details']!r}: true or false.")
        since_text = q.get("startDateTime")
        since = None
        if since_text is not None:
            since = parse_time("startDateTime", since_text)
            if since < time.time() - _OLDEST_S:
                raise _Invalid("startDateTime must be no earlier than 18 months before the time of the request.")
        skus = [s for raw in q.getlist("sellerSkus") for s in raw.split(",") if s]
        if len(skus) > 50:
            raise _Invalid("sellerSkus accepts at most 50 SKUs.")
        if not skus and q.get("sellerSku"):
            skus = [q["sellerSku"]]
        return {"market": market, "details": details == "true", "since": since_text,
                "skus": [] if since is not None else skus}  # with startDateTime Amazon ignores the SKUs

    def _page(self, q: Any) -> dict[str, Any]:
        query = self._query(q)
        token = q.get("nextToken")
        offset = 0
        if token is not None:
            issued = self.tokens.get(token)
            if issued is None:
                raise _Invalid("Invalid nextToken.")
            at, previous = issued
            if {k: v for k, v in previous.items() if k != "offset"} != query:
                raise _Invalid("Use nextToken with the same parameters (including startDateTime) as the request that "
                               "returned it.")
            self.token_ages.append(time.monotonic() - at)
            if time.monotonic() - at > self.token_life:
                raise _Invalid("The nextToken has expired: it is valid for 30 seconds after it is issued. Request the "
                               "first page again without nextToken.")
            offset = previous["offset"]
        since = parse_time("startDateTime", query["since"]) if query["since"] else None
        wanted = set(query["skus"])
        levels = [s for s in self.book.levels[query["market"]]
                  if (since is None or s.detected > since)
                  and (not wanted or s.summary(False)["sellerSku"] in wanted)]
        size = self.api.options.inventory_page_size
        body: dict[str, Any] = {}
        if offset + size < len(levels):
            fresh = secrets.token_urlsafe(24)
            self.tokens[fresh] = (time.monotonic(), {**query, "offset": offset + size})
            body["pagination"] = {"nextToken": fresh}
        body["payload"] = {
            "granularity": {"granularityType": "Marketplace", "granularityId": query["market"]},
            "inventorySummaries": [s.summary(query["details"]) for s in levels[offset:offset + size]]}
        return body

    async def update(self, request: Request) -> Response:
        """`{"marketplaceId", "sellerSku", <quantity field>: n, ...}`: a change in the FBA network, now."""
        change = json_loads(await request.body())
        market, sku = change.pop("marketplaceId", None), change.pop("sellerSku", None)
        try:
            level = self.book.update(str(market), str(sku), int(time.time()), **change)
        except KeyError as exc:
            return reply({"error": str(exc)}, 404)
        return reply(level.summary(True))


    async def expire_tokens(self, request: Request) -> Response:
        """Every nextToken issued so far dies, as if 30 s had passed (a stall, deterministically)."""
        self.tokens = {token: (float("-inf"), query) for token, (_, query) in self.tokens.items()}
        return reply({"expired": len(self.tokens)})


def routes(api: Any) -> list[Route]:
    inventory = api.inventory = InventoryApi(api)
    return [Route("/fba/inventory/v1/summaries", inventory.summaries, methods=["GET"]),
            Route("/_sandbox/inventory", inventory.update, methods=["POST"]),
            Route("/_sandbox/inventory/expire_tokens", inventory.expire_tokens, methods=["POST"])]
