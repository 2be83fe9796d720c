"""Payments (v3): an order's transactions and its refunds."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from .store import StoreState

__all__ = ["PaymentEndpoints"]


class PaymentEndpoints(StoreState):
    """Payments (v3): an order's transactions and its refunds."""

    async def transactions(self, request: Request) -> Any:
        oid = self._order(request)
        return self._v3_page(request, self.book.transactions[oid])

    async def refunds(self, request: Request) -> Any:
        rows = self.book.refunds
        wanted = request.query_params.get("order_id:in")
        if wanted:
            ids = {int(x) for x in wanted.split(",") if x.strip().isdigit()}
            rows = [r for r in rows if r["order_id"] in ids]
        return self._v3_page(request, rows)

    async def order_refunds(self, request: Request) -> Any:
        oid = self._order(request)
        return self._v3_page(request, [r for r in self.book.refunds if r["order_id"] == oid])
