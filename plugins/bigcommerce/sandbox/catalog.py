"""Customers and the catalog (v3): customers, products (with their variants on request) and variants."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from .replies import Invalid
from .store import StoreState

__all__ = ["CatalogEndpoints"]


class CatalogEndpoints(StoreState):
    """Customers and the catalog (v3): customers, products (with their variants on request) and variants."""

    async def customers(self, request: Request) -> Any:
        return self._v3_page(request, list(self.book.customers.values()), cursor=True)

    async def products(self, request: Request) -> Any:
        include = request.query_params.get("include", "")
        rows = []
        for p in self.book.products.values():
            row = {k: v for k, v in p.items() if k != "base_variant_id"}
            if "variants" in include.split(","):
                row["variants"] = [v for v in self.book.variants.values() if v["product_id"] == p["id"]]
            rows.append(row)
        return self._v3_page(request, rows, cursor=True)

    async def variants(self, request: Request) -> Any:
        return self._v3_page(request, list(self.book.variants.values()), cursor=True)

    async def product_variants(self, request: Request) -> Any:
        """`/v3/catalog/products/{product_id}/variants`: one product's variants (404 for no such product)."""
        try:
            product_id = int(request.path_params["product_id"])
        except ValueError:
            product_id = None
        if product_id not in self.book.products:
            raise Invalid(404, "The requested product was not found.")
        return self._v3_page(request, [v for v in self.book.variants.values() if v["product_id"] == product_id],
                             cursor=True)
