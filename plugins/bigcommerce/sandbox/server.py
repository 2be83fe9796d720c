"""`bigcommerce` sandbox: a local BigCommerce store API that answers and refuses as BigCommerce does.

BigCommerce's paths (`/stores/{store_hash}/v2|v3/...`), `X-Auth-Token`, page/limit paging (204 on an empty
v2 page), its error bodies (v2: `[{"status", "message"}]`; v3: `{"status", "title", "type", "errors"}`), and
the store's quota window on every reply (`X-Rate-Limit-*`; 429 once the window's quota is spent, window length
divided by `time_scale`). Webhooks registered through `/v3/hooks` are delivered for real, on a background
thread, with the subscription's custom headers. Tests steer it through `/_sandbox/*` (not BigCommerce's):
create or update orders, inject faults, read call counts and webhook deliveries.

The sandbox is split by what each part does: `store` (one store's state and the gate every request passes),
`orders`, `payments`, `catalog`, `inventory`, `hooks` (the endpoints, by resource), `controls` (the test
controls), `routes` (the path map), `replies` (wire format and errors), `quota`, `deliveries` (webhooks sent)
and `seed` (the seeded store). This module is the sandbox itself: its options, and one or several stores on
one port.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, ClassVar

from pydantic import AwareDatetime, Field
from starlette.applications import Starlette

from ledgerlink import Sandbox, SandboxOptions

from .routes import Store

__all__ = ["BigCommerceSandbox", "BigCommerceSandboxOptions", "store_seed"]


class BigCommerceSandboxOptions(SandboxOptions):
    orders: int = Field(150, ge=0, description="orders over the last ~60 days")
    store_hash: str = Field("abc123", description="the store's hash (paths are /stores/{store_hash}/...)")
    #: pin the token the sandbox accepts (None: any non-empty token)
    access_token: str | None = None
    quota: int = Field(150, ge=1, description="requests per quota window (Standard plan: 150 per 30 s)")
    window_ms: int = Field(30000, ge=1, description="the quota window, before time_scale")
    anchor: AwareDatetime | None = Field(None, description="seed data ends 10 minutes before this (default: now)")
    webhook_retries: int = Field(3, ge=0, description="redeliveries of a webhook answered with a non-2xx")
    stores: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9]+$")]] = Field(default_factory=list, description=(
        "more store hashes to serve beside store_hash, each a store of its own (seeded from seed and its hash, "
        "so its order ids overlap the first store's; its own quota, hooks and controls under "
        "/_sandbox/stores/{hash}/...)"))


class BigCommerceSandbox(Sandbox):
    """A local BigCommerce store (orders v2/v3, catalog, customers, inventory, store, webhooks), seeded."""

    name: ClassVar[str] = "bigcommerce"
    default_port: ClassVar[int] = 8713
    description: ClassVar[str] = ("BigCommerce orders v2/v3, catalog, customers, inventory by location, store "
                                  "information and webhooks, with a seeded store")
    options_model: ClassVar[type[SandboxOptions]] = BigCommerceSandboxOptions

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.store = Store(self.options)  # type: ignore[arg-type]
        #: every store served, by hash (the first is `store`)
        self.stores: dict[str, Store] = {self.options.store_hash: self.store}  # type: ignore[attr-defined]
        for h in self.options.stores:  # type: ignore[attr-defined]
            if h not in self.stores:
                self.stores[h] = Store(self.options.model_copy(update={  # type: ignore[arg-type]
                    "store_hash": h, "stores": [], "seed": store_seed(self.options.seed, h)}))

    def app(self) -> Any:
        if len(self.stores) == 1:
            return Starlette(routes=self.store.routes())
        return _StoreRouter({h: Starlette(routes=s.routes()) for h, s in self.stores.items()},
                            self.options.store_hash)  # type: ignore[attr-defined]


def store_seed(seed: int, store_hash: str) -> int:
    """Another store's seed: fixed by the sandbox's seed and the store's hash, whatever other stores are served."""
    return int.from_bytes(hashlib.sha256(f"{seed}/{store_hash}".encode()).digest()[:4], "big")


class _StoreRouter:
    """Several stores on one port, as BigCommerce serves them: `/stores/{hash}/...` goes to that store,
    `/_sandbox/stores/{hash}/...` to its test controls; everything else to the first store (which answers an
    unknown hash with BigCommerce's 404)."""

    def __init__(self, apps: dict[str, Any], default: str):
        self.apps, self.default = apps, apps[default]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        app = self.default
        if scope["type"] == "http":
            parts = scope["path"].split("/")
            if len(parts) > 2 and parts[1] == "stores" and parts[2] in self.apps:
                app = self.apps[parts[2]]
            elif len(parts) > 4 and parts[1:3] == ["_sandbox", "stores"] and parts[3] in self.apps:
                app = self.apps[parts[3]]
                path = "/_sandbox/" + "/".join(parts[4:])
                scope = {**scope, "path": path, "raw_path": path.encode()}
        await app(scope, receive, send)
