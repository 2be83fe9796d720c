"""Customers and the catalog (v3): customers, products (with their variants on request) and variants."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from .store import StoreState

__all__ = ["CatalogEndpoints"]


class CatalogEndpoints(StoreState):
    """Customers and the catalog (v3): customers, products (with their variants on request) and variants."""

    async def customers(self, request: Request) -> Any:
        return self._v3_page(request, list(self.book.customers.values()))

    async def products(self, request: Request) -> Any:
        include = request.query_params.get("include", "")
        rows = []
        for p in self.book.products.values():
            row = {k: v for k, v in p.items() if k != "base_variant_id"}
            if "variants" in include.split(","):
                row["variants"] = [v for v in self.book.variants.values() if v["product_id"] == p["id"]]
            rows.append(row)
        return self._v3_page(request, rows)

    async def variants(self, request: Request) -> Any:
        return self._v3_page(request, list(self.book.variants.values()))
