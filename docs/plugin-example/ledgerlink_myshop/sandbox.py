"""A local emulator of the MyShop API, for the demo, the tests and users' dry runs."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import ledgerlink


class MyShopSandboxOptions(ledgerlink.SandboxOptions):
    orders: int = Field(120, description="seeded orders")
    api_key: str = Field("sandbox-key", description="the only API key the sandbox accepts")


class MyShopSandbox(ledgerlink.Sandbox):
    name = "myshop"
    default_port = 8790
    description = "MyShop orders and stock API with paging and API-key auth"
    options_model = MyShopSandboxOptions

    def app(self) -> Any:
        options = self.options
        orders = [{"id": i, "updated_at": f"2026-01-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
                   "total": f"{i}.50"} for i in range(1, options.orders + 1)]

        def authorised(request: Request) -> bool:
            return request.headers.get("X-Api-Key") == options.api_key

        async def ping(request: Request) -> JSONResponse:
            if not authorised(request):
                return JSONResponse({"error": "invalid API key"}, status_code=401)
            return JSONResponse({"ok": True})

        async def list_orders(request: Request) -> JSONResponse:
            if not authorised(request):  # reject what the real service rejects
                return JSONResponse({"error": "invalid API key"}, status_code=401)
            limit = int(request.query_params.get("limit", "50"))
            after = request.query_params.get("cursor") or request.query_params.get("updated_after", "")
            matching = [o for o in orders if o["updated_at"] > after]  # orders are seeded oldest first
            chunk = matching[:limit]
            more = len(matching) > limit
            return JSONResponse({"data": chunk, "next_cursor": chunk[-1]["updated_at"] if more else None})

        stock: dict[str, int] = {}

        async def set_stock(request: Request) -> JSONResponse:
            if not authorised(request):
                return JSONResponse({"error": "invalid API key"}, status_code=401)
            body = await request.json()
            quantity = body.get("quantity") if isinstance(body, dict) else None
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
                return JSONResponse({"error": "quantity must be a whole number of 0 or more"}, status_code=422)
            stock[request.path_params["sku"]] = quantity
            return JSONResponse({"sku": request.path_params["sku"], "quantity": quantity})

        async def get_stock(request: Request) -> JSONResponse:
            if not authorised(request):
                return JSONResponse({"error": "invalid API key"}, status_code=401)
            return JSONResponse(stock)

        return Starlette(routes=[Route("/ping", ping), Route("/orders", list_orders),
                                 Route("/stock/{sku}", set_stock, methods=["PUT"]), Route("/stock", get_stock)])
