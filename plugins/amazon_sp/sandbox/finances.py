"""The sandbox's Finances APIs: 2024-06-19 listTransactions and v0 listFinancialEvents, over `FinanceBook`.

Both refuse what Amazon refuses: a postedAfter/postedBefore later than two minutes before the request, a
postedBefore not after postedAfter, a nextToken sent without the arguments that produced it. Both answer an
*empty* page, not an error, when the two dates are more than 180 days apart, as Amazon does. listTransactions
leaves out merchant-fulfilled US orders when marketplaceId is the US (the model's note), filters by
transactionStatus and by the two related identifiers Amazon can filter on; v0 shows a deferred event only
once it is released. `POST /_sandbox/finances/release {"transactionId"}` releases a deferred transaction.

`routes(api)` returns the routes served next to the Orders API; `PLANS` adds the usage plans (operation ->
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
from .seed_finances import V0_LISTS, FinanceBook, FinanceEvent, financial_event, transaction

__all__ = ["PLANS", "routes", "FinancesApi"]

TRANSACTIONS, EVENTS = "listTransactions", "listFinancialEvents"
PLANS: dict[str, tuple[float, int]] = {TRANSACTIONS: (0.5, 10), EVENTS: (0.5, 30)}
_SETTLE_S = 120
_WIDEST_S = 180 * 86400
_STATUSES = ("DEFERRED", "RELEASED", "DEFERRED_RELEASED")
_FILTERABLE = {"ORDER_ID", "FINANCIAL_EVENT_GROUP_ID"}


class FinancesApi:
    """Both Finances APIs over the seller's `FinanceBook` (built on first use) and their issued nextTokens."""

    def __init__(self, api: Any):
        self.api = api
        self._book: FinanceBook | None = None
        self.tokens: dict[str, dict[str, Any]] = {}

    @property
    def book(self) -> FinanceBook:
        if self._book is None:
            self._book = FinanceBook(self.api.book)
        return self._book

    async def _serve(self, request: Request, operation: str, page: Any) -> Response:
        refused = self.api._gate(request, operation)
        if refused is not None:
            return refused
        try:
            body = page(request.query_params)
        except _Invalid as exc:
            return self.api._count(operation, refuse(400, "InvalidInput", str(exc)))
        return self.api._count(operation, reply(body))

    async def list_transactions(self, request: Request) -> Response:
        return await self._serve(request, TRANSACTIONS, self._transactions_page)

    async def list_financial_events(self, request: Request) -> Response:
        return await self._serve(request, EVENTS, self._events_page)

    # ------------------------------------------------------------------ shared checks

    @staticmethod
    def _window(q: Any, after_name: str, before_name: str, *, required: bool) -> tuple[int | None, int | None]:
        latest = int(time.time()) - _SETTLE_S
        after_text, before_text = q.get(after_name), q.get(before_name)
        if after_text is None:
            if required:
                raise _Invalid(f"{after_name} is required.")
            return None, None
        after = parse_time(after_name, after_text)
        if after > latest:
            raise _Invalid(f"{after_name} must be more than two minutes before the time of the request.")
        before = parse_time(before_name, before_text) if before_text else latest
        if before <= after:
            raise _Invalid(f"{before_name} must be later than {after_name}.")
        if before > latest:
            raise _Invalid(f"{before_name} must be more than two minutes before the time of the request.")
        return after, before

    def _continue(self, q: Any, token_name: str, query: dict[str, Any], *, exact: bool) -> dict[str, Any] | None:
        """The page a nextToken continues (None: a first page). Amazon wants the arguments of the call that
        produced it again (`exact`: all of them; v0 also takes the token alone)."""
        token = q.get(token_name)
        if token is None:
            return None
        issued = self.tokens.get(token)
        if issued is None or issued["query"]["kind"] != query["kind"]:
            raise _Invalid(f"Invalid {token_name}.")
        given = {k: v for k, v in query.items() if v is not None}
        expected = {k: v for k, v in issued["query"].items() if v is not None}
        if (given != expected) if exact else any(expected.get(k) != v for k, v in given.items()):
            raise _Invalid(f"Call with {token_name} and the same arguments as the call that produced it.")
        return issued

    def _next(self, query: dict[str, Any], offset: int, after: int | None, before: int | None, size: int) -> str:
        token = secrets.token_urlsafe(18)
        self.tokens[token] = {"query": query, "offset": offset, "after": after, "before": before, "size": size}
        return token

    # ------------------------------------------------------------------ listTransactions (2024-06-19)

    def _transactions_page(self, q: Any) -> dict[str, Any]:
        name, value = q.get("relatedIdentifierName"), q.get("relatedIdentifierValue")
        if (name is None) != (value is None):
            raise _Invalid("relatedIdentifierName and relatedIdentifierValue go together.")
        if name is not None and name not in _FILTERABLE:
            raise _Invalid(f"Invalid relatedIdentifierName {name!r}: only FINANCIAL_EVENT_GROUP_ID and ORDER_ID can "
                           "filter transactions.")
        after, before = self._window(q, "postedAfter", "postedBefore", required=name is None)
        market, status = q.get("marketplaceId"), q.get("transactionStatus")
        if market is not None and market not in MARKETPLACES:
            raise _Invalid(f"Invalid marketplaceId {market!r}.")
        if status is not None and status not in _STATUSES:
            raise _Invalid(f"Invalid transactionStatus {status!r}: one of {', '.join(_STATUSES)}.")
        query = {"kind": TRANSACTIONS, "postedAfter": q.get("postedAfter"), "postedBefore": q.get("postedBefore"),
                 "marketplaceId": market, "transactionStatus": status, "relatedIdentifierName": name,
                 "relatedIdentifierValue": value}
        issued = self._continue(q, "nextToken", query, exact=True)
        size = self.api.options.transactions_page_size
        offset = 0
        if issued is not None:
            after, before, offset, size = issued["after"], issued["before"], issued["offset"], issued["size"]
        if after is not None and before is not None and before - after > _WIDEST_S:
            return {"payload": {"transactions": []}}  # Amazon's answer, not an error

        def wanted(e: FinanceEvent) -> bool:
            if market is not None and e.marketplace != market:
                return False
            if market == "ATVPDKIKX0DER" and e.fulfilment == "MFN":
                return False  # the model's note: US merchant-fulfilled orders only come without marketplaceId
            if status is not None and e.status != status:
                return False
            if name == "ORDER_ID":
                return e.order_id == value
            if name == "FINANCIAL_EVENT_GROUP_ID":
                paid = e.settlement()
                return paid is not None and paid[1] == value
            return True

        events = self.book.select(after, before) if after is not None and before is not None else self.book.events
        selected = [e for e in events if wanted(e)]
        payload: dict[str, Any] = {"transactions": [transaction(e) for e in selected[offset:offset + size]]}
        if offset + size < len(selected):
            payload["nextToken"] = self._next(query, offset + size, after, before, size)
        return {"payload": payload}

    # ------------------------------------------------------------------ listFinancialEvents (v0)

    def _events_page(self, q: Any) -> dict[str, Any]:
        token = q.get("NextToken")
        after, before = self._window(q, "PostedAfter", "PostedBefore", required=token is None)
        try:
            size = int(q.get("MaxResultsPerPage", "100"))
        except ValueError:
            raise _Invalid("MaxResultsPerPage must be an integer between 1 and 100.") from None
        if not 1 <= size <= 100:
            raise _Invalid("MaxResultsPerPage must be an integer between 1 and 100.")
        query = {"kind": EVENTS, "PostedAfter": q.get("PostedAfter"), "PostedBefore": q.get("PostedBefore"),
                 "MaxResultsPerPage": q.get("MaxResultsPerPage")}
        issued = self._continue(q, "NextToken", query, exact=False)
        offset = 0
        if issued is not None:
            after, before, offset, size = issued["after"], issued["before"], issued["offset"], issued["size"]
        lists: dict[str, list[dict[str, Any]]] = {name: [] for name in V0_LISTS.values()}
        payload: dict[str, Any] = {"FinancialEvents": lists}
        if after is None or before is None or before - after > _WIDEST_S:
            return {"payload": payload}  # more than 180 days apart: Amazon's answer is empty, not an error
        released = [e for e in self.book.select(after, before) if e.status != "DEFERRED"]
        for event in released[offset:offset + size]:
            name, body = financial_event(event)
            lists[name].append(body)
        if offset + size < len(released):
            payload = {"NextToken": self._next(query, offset + size, after, before, size), **payload}
        return {"payload": payload}

    # ------------------------------------------------------------------ test controls (not Amazon's)

    async def release(self, request: Request) -> Response:
        """`{"transactionId": "..."}`: Amazon releases a deferred transaction now."""
        spec = json_loads(await request.body())
        try:
            event = self.book.release(str(spec.get("transactionId")), int(time.time()))
        except (KeyError, ValueError) as exc:
            return reply({"error": str(exc)}, 404 if isinstance(exc, KeyError) else 409)
        return reply(transaction(event))


def routes(api: Any) -> list[Route]:
    finances = api.finances = FinancesApi(api)
    return [Route("/finances/2024-06-19/transactions", finances.list_transactions, methods=["GET"]),
            Route("/finances/v0/financialEvents", finances.list_financial_events, methods=["GET"]),
            Route("/_sandbox/finances/release", finances.release, methods=["POST"])]
