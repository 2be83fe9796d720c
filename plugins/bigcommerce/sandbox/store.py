"""One served store: its data, quota, faults and webhook subscriptions, and the gate every vendor request passes
(store hash, `X-Auth-Token`, injected faults, quota, then errors shaped as the API version shapes them), with
BigCommerce's paging. The endpoint modules (orders, payments, catalog, inventory, hooks, controls) build on it."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .deliveries import WebhookDeliverer
from .quota import Quota
from .replies import Invalid, dumps, v3_error
from .seed import StoreBook

if TYPE_CHECKING:
    from .server import BigCommerceSandboxOptions

__all__ = ["StoreState"]


class StoreState:
    """One served store's state, and what every request to it goes through before its handler."""

    def __init__(self, options: BigCommerceSandboxOptions):
        self.options = options
        self.book = StoreBook(orders_count=options.orders, seed=options.seed, anchor=options.anchor,
                              store_hash=options.store_hash)
        self.quota = Quota(options.quota, options.window_ms / 1000.0 / options.time_scale)
        self.faults: list[dict[str, Any]] = []
        self.calls: dict[str, int] = {}
        self.hooks: dict[int, dict[str, Any]] = {}
        self.deliverer = WebhookDeliverer(options.webhook_retries, options.time_scale)
        self.lock = threading.RLock()

    # ------------------------------------------------------------------ plumbing

    def _reply(self, body: Any, status: int = 200, headers: dict[str, str] | None = None,
               media: str = "application/json") -> Response:
        text = "" if body is None else dumps(body)
        return Response(text, status_code=status, media_type=None if body is None else media, headers=headers)

    def endpoint(self, handler: Any, version: str) -> Any:
        """Auth, store, injected faults and quota, in BigCommerce's order; then the handler; errors shaped."""

        async def run(request: Request) -> Response:
            key = f"{request.method} {request.url.path}"
            ok, rate = self.quota.take()
            token = request.headers.get("x-auth-token")
            if request.path_params.get("store_hash") != self.options.store_hash:
                return self._count(key, self._error(version, 404, "Store not found", rate))
            if not token or (self.options.access_token is not None and token != self.options.access_token):
                return self._count(key, self._error(
                    version, 401, "You have not been authenticated. Please provide a valid X-Auth-Token.", rate))
            fault = self._fault(request)
            if fault is not None:
                return self._count(key, self._error(version, fault, "Injected fault" if fault != 429 else
                                                    "Too many requests", rate))
            if not ok:
                return self._count(key, self._error(version, 429, "Too many requests", rate))
            try:
                with self.lock:
                    result = await handler(request)
            except Invalid as exc:
                return self._count(key, self._error(version, exc.status, exc.title, rate, exc.errors))
            if isinstance(result, Response):
                result.headers.update(rate)
                return self._count(key, result)
            status, body = result
            if body is None or (version == "v2" and body == []):
                return self._count(key, Response(status_code=204, headers=rate))
            return self._count(key, self._reply(body, status, rate))

        return run

    def _error(self, version: str, status: int, title: str, headers: dict[str, str],
               errors: dict[str, str] | None = None) -> Response:
        if version == "v2":
            return self._reply([{"status": status, "message": title + (
                " (" + "; ".join(f"{k}: {v}" for k, v in errors.items()) + ")" if errors else "")}], status, headers)
        return self._reply(v3_error(status, title, errors), status, headers, media="application/problem+json"
                           if status == 422 else "application/json")

    def _fault(self, request: Request) -> int | None:
        with self.lock:
            for fault in self.faults:
                if fault["path_contains"] in request.url.path and fault.get("method", request.method) == request.method:
                    if fault.get("after", 0) > 0:
                        fault["after"] -= 1
                        return None
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                    return int(fault["status"])
        return None

    def _count(self, key: str, response: Response) -> Response:
        name = f"{key} {response.status_code}"
        self.calls[name] = self.calls.get(name, 0) + 1
        return response

    @staticmethod
    def _paging(request: Request, default: int, maximum: int) -> tuple[int, int]:
        q = request.query_params
        try:
            page, limit = int(q.get("page", "1")), int(q.get("limit", str(default)))
        except ValueError:
            raise Invalid(400, "The request parameters are invalid: page and limit must be integers") from None
        if page < 1 or not 1 <= limit <= maximum:
            raise Invalid(400, f"The request parameters are invalid: page >= 1, 1 <= limit <= {maximum}")
        return page, limit

    def _v3_page(self, request: Request, items: list[Any], default: int = 50,
                 cursor: bool = False) -> tuple[int, dict[str, Any]]:
        """A page by `page` and `limit`; where the API also pages by cursor (`cursor`: customers, products,
        variants), `after`/`before` win over `page` and `meta.cursor_pagination` comes with every page."""
        if cursor and ("after" in request.query_params or "before" in request.query_params):
            return self._v3_cursor_page(request, items, default)
        page, limit = self._paging(request, default, 250)
        total = len(items)
        chunk = items[(page - 1) * limit: page * limit]
        pages = max(1, -(-total // limit))
        links: dict[str, str] = {"current": f"?page={page}&limit={limit}"}
        if page > 1:
            links["previous"] = f"?page={page - 1}&limit={limit}"
        if page < pages:
            links["next"] = f"?page={page + 1}&limit={limit}"
        meta: dict[str, Any] = {"pagination": {
            "total": total, "count": len(chunk), "per_page": limit, "current_page": page, "total_pages": pages,
            "links": links}}
        if cursor:
            start = (page - 1) * limit
            meta["cursor_pagination"] = _cursor_meta(items, start, start + len(chunk), limit)
        return 200, {"data": chunk, "meta": meta}

    def _v3_cursor_page(self, request: Request, items: list[Any], default: int) -> tuple[int, dict[str, Any]]:
        """BigCommerce's cursor paging: `after=` the end_cursor of the page before (or `before=` a start_cursor);
        both at once, or a cursor that names no entry, is refused."""
        q = request.query_params
        if "after" in q and "before" in q:
            raise Invalid(422, "The request parameters are invalid: after and before cannot be used together")
        _, limit = self._paging(request, default, 250)
        ids = [row.get("id") for row in items]
        mark = _cursor_id(q.get("after") or q.get("before") or "")
        if mark not in ids:
            raise Invalid(422, "The request parameters are invalid: the cursor does not name an entry")
        at = ids.index(mark)
        start, end = (at + 1, at + 1 + limit) if "after" in q else (max(0, at - limit), at)
        chunk = items[start:end]
        return 200, {"data": chunk, "meta": {"cursor_pagination": _cursor_meta(items, start, start + len(chunk),
                                                                                 limit)}}

    def _order(self, request: Request) -> int:
        try:
            oid = int(request.path_params["order_id"])
        except ValueError:
            raise Invalid(404, "The requested resource was not found.") from None
        if oid not in self.book.orders:
            raise Invalid(404, "The requested resource was not found.")
        return oid

    def _event(self, scope: str, data: dict[str, Any]) -> None:
        """Deliver `scope` to every active hook whose scope matches (exactly, or `store/order/*`)."""
        payload = {"scope": scope, "store_id": "1025646", "data": data,
                   "hash": hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest(),
                   "created_at": int(time.time()), "producer": f"stores/{self.options.store_hash}"}
        for hook in list(self.hooks.values()):
            pattern = hook["scope"]
            if hook["is_active"] and (pattern == scope or (pattern.endswith("/*") and scope.startswith(pattern[:-1]))):
                self.deliverer.send(hook, payload)


def _cursor(row: Any) -> str:
    """A cursor as BigCommerce writes one: the entry's id as URL-safe base64 JSON (`eyJpZCI6MjA0fQ`)."""
    return base64.urlsafe_b64encode(json.dumps({"id": row.get("id")}, separators=(",", ":")).encode()).decode().rstrip("=")


def _cursor_id(text: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))["id"]
    except (ValueError, KeyError, TypeError):
        return None


def _cursor_meta(items: list[Any], start: int, end: int, limit: int) -> dict[str, Any]:
    """`meta.cursor_pagination` for the entries [start, end) of `items`."""
    links: dict[str, str] = {}
    first = _cursor(items[start]) if start < end else None
    last = _cursor(items[end - 1]) if start < end else None
    if start > 0 and first:
        links["previous"] = f"?before={first}&limit={limit}"
    if end < len(items) and last:
        links["next"] = f"?after={last}&limit={limit}"
    return {"count": end - start, "per_page": limit, "start_cursor": first, "end_cursor": last, "links": links}
