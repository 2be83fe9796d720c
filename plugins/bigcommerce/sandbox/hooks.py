"""Webhook subscriptions (`/v3/hooks`): list, create, read, update and delete; `StoreState._event` delivers."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request

from .replies import Invalid, json_body
from .store import StoreState

__all__ = ["HookEndpoints"]


class HookEndpoints(StoreState):
    """Webhook subscriptions (`/v3/hooks`): list, create, read, update and delete; `StoreState._event` delivers."""

    async def list_hooks(self, request: Request) -> Any:
        rows = list(self.hooks.values())
        if request.query_params.get("scope"):
            rows = [h for h in rows if h["scope"] == request.query_params["scope"]]
        if request.query_params.get("destination"):
            rows = [h for h in rows if h["destination"] == request.query_params["destination"]]
        return self._v3_page(request, rows)

    async def create_hook(self, request: Request) -> Any:
        body = await json_body(request)
        errors = {k: "error.path.missing." for k in ("scope", "destination") if not body.get(k)}
        if errors:
            raise Invalid(422, "JSON data is missing or invalid", errors)
        if not str(body["destination"]).startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise Invalid(422, "JSON data is missing or invalid", {"destination": "must be an https URL"})
        if body.get("headers") is not None and not (isinstance(body["headers"], dict) and all(
                isinstance(v, str) for v in body["headers"].values())):
            raise Invalid(422, "JSON data is missing or invalid", {"headers": "must be an object of strings"})
        now = int(time.time())
        hook_id = max(self.hooks, default=18048286) + 1
        hook = {"id": hook_id, "client_id": "ledgerlinksandboxclient", "store_hash": self.options.store_hash,
                "scope": body["scope"], "destination": body["destination"], "headers": body.get("headers"),
                "is_active": bool(body.get("is_active", True)), "created_at": now, "updated_at": now}
        self.hooks[hook_id] = hook
        return 200, {"data": hook, "meta": {}}

    def _hook(self, request: Request) -> dict[str, Any]:
        try:
            return self.hooks[int(request.path_params["webhook_id"])]
        except (ValueError, KeyError):
            raise Invalid(404, f"Webhook with id [{request.path_params['webhook_id']}] not found") from None

    async def get_hook(self, request: Request) -> Any:
        return 200, {"data": self._hook(request), "meta": {}}

    async def update_hook(self, request: Request) -> Any:
        hook = self._hook(request)
        body = await json_body(request)
        for k in ("scope", "destination", "is_active", "headers"):
            if k in body:
                hook[k] = body[k]
        hook["updated_at"] = int(time.time())
        return 200, {"data": hook, "meta": {}}

    async def delete_hook(self, request: Request) -> Any:
        hook = self._hook(request)
        del self.hooks[hook["id"]]
        return 200, {"data": hook, "meta": {}}
