"""Vendor webhooks straight into the fleet: `POST /fleet/webhooks/<receiver>` on a console pointed at a fleet
database finds the tenants' pipelines the callback is about, lets each pipeline's own receiver verify it, and
queues a sync of each pipeline that accepted it, in Postgres (DBOS), for whichever worker is free.

The verification is the plugins' own, unchanged: for every registered pipeline the router builds the receiver
`ledgerlink serve` would mount for it (the plugin's `register_web_routes` factory under `/webhooks/…`, given the
tenant's interpolated configs), so a BigCommerce callback is checked against that tenant's webhook secret and
store, an Intuit notification against that tenant's verifier token and company. Routing needs two more things
from a receiver, set on its `app.state` (a receiver without them is not routed):

- `route_key`: what this pipeline answers for (a BigCommerce store hash, a QuickBooks realm id, an Amazon seller
  id), or None when the pipeline has no such account;
- `route_keys_of(body: bytes) -> list[str]`: which of those a callback names, read WITHOUT trusting it: the key
  only chooses which tenants' receivers see the callback, and each one verifies it before anything is queued.

A receiver that drops redeliveries may also set `forget(body)`: called when the sync it asked for could not be
queued (the vendor is answered 503 and sends the callback again, which must not be taken for a duplicate). Its
context's `seen_notifications` is the fleet's memory of the ids it accepted (`seen_notifications.py`, a Postgres
table shared by every console), so a redelivery reaching another console behind a load balancer is a duplicate
there too; on a database made before that table (`ledgerlink fleet init` adds it) receivers keep their own
in-process memory.

A callback naming no registered key is a 404; one no candidate accepts gets the candidate's own refusal (401 for
a bad signature, 403 for another store); a fleet database that cannot be reached is a 503, so the vendor sends it
again (nothing is accepted that was not queued). A burst of callbacks for one pipeline queues one sync while the
last one queued has not started yet (the incremental read picks up everything they announced).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..errors import LedgerlinkError
from ..web_limits import WEBHOOK_MAX_BYTES, WebInputError, read_body
from .database import FleetDatabase, FleetUnavailable
from .seen_notifications import SeenNotifications, table_ready

__all__ = ["FleetWebhooks", "WebhookTarget", "WEBHOOK_PREFIX"]

log = logging.getLogger("ledgerlink.fleet.webhooks")

#: plugin apps mounted under this prefix by `serve` are vendor callbacks the fleet can route
WEBHOOK_PREFIX = "/webhooks/"
#: the routing table is rebuilt at least this often (a rotated secret in a tenant.env is picked up)
INDEX_MAX_AGE_S = 60.0
#: a callback naming an unknown key rebuilds the table at most this often (a tenant just added answers at once)
MISS_REBUILD_S = 2.0

#: the syncs a receiver asked for while handling the current callback: (target, reason)
_asked: contextvars.ContextVar[list[tuple["WebhookTarget", str]] | None] = contextvars.ContextVar(
    "ledgerlink_fleet_webhook_asked", default=None)


#: set once this process warned that the fleet database lacks the notifications_seen table
_warned_no_table = threading.Event()


@dataclass(frozen=True)
class WebhookTarget:
    """One tenant's pipeline and the receiver built for it."""

    tenant: str
    pipeline: str
    app: Any = None


def _short(value: object, size: int = 80) -> str:
    text = str(value)
    return text if len(text) <= size else text[:size] + "…"


class _Index:
    """receiver name → key → the pipelines answering for it; and each receiver's key reader."""

    def __init__(self) -> None:
        self.targets: dict[str, dict[str, list[WebhookTarget]]] = defaultdict(lambda: defaultdict(list))
        self.readers: dict[str, Callable[[bytes], list[str]]] = {}
        self.signature: Any = None
        self.built_at = 0.0


class FleetWebhooks:
    """The ASGI app behind `/fleet/webhooks`: one per fleet database, kept for the console's life."""

    def __init__(self, db: FleetDatabase, plugin_host: Any, *, max_body_bytes: int = WEBHOOK_MAX_BYTES):
        self.db, self.plugin_host, self.max_body_bytes = db, plugin_host, max_body_bytes
        self._index = _Index()
        self._lock = threading.Lock()
        self._client: Any = None
        #: (tenant, pipeline) → the workflow id last queued by a webhook (a burst joins it while it waits)
        self._queued: dict[tuple[str, str], str] = {}
        self.stats = {"queued": 0, "joined": 0, "refused": 0, "unknown": 0}

    # -- the routing table ------------------------------------------------------------------------------------
    def _signature(self) -> Any:
        return self.db.execute(
            "SELECT count(*), md5(coalesce(string_agg(p.tenant || '/' || p.pipeline || '/' || p.file || '/' || "
            "t.workspace || '/' || coalesce(p.problem, ''), ',' ORDER BY p.tenant, p.pipeline), '')) "
            "FROM pipelines p JOIN tenants t ON t.name = p.tenant")[0]

    def index(self, *, missed: bool = False) -> _Index:
        """The table, rebuilt when the register changed, when it is old, or when a key was missed."""
        with self._lock:
            age = time.monotonic() - self._index.built_at
            signature = self._signature()
            if signature != self._index.signature or age > INDEX_MAX_AGE_S or (missed and age > MISS_REBUILD_S):
                self._index = self._build(signature)
            return self._index

    def _build(self, signature: Any) -> _Index:
        from .plugin_apps import tenant_context
        from .workspace import load_tenant_pipeline

        index = _Index()
        index.signature, index.built_at = signature, time.monotonic()
        routes = [(path.rstrip("/"), factory, plugin) for path, factory, plugin in self.plugin_host.web_routes()
                  if path.startswith(WEBHOOK_PREFIX)]
        shared = table_ready(self.db)
        if not shared and not _warned_no_table.is_set():
            _warned_no_table.set()
            log.warning("the fleet database at %s has no notifications_seen table: a notification redelivered to "
                        "another console starts a second sync; run `ledgerlink fleet init` to add it", self.db.where)
        rows = self.db.execute("SELECT p.tenant, p.pipeline, p.file, t.workspace FROM pipelines p "
                               "JOIN tenants t ON t.name = p.tenant WHERE p.problem IS NULL "
                               "ORDER BY p.tenant, p.pipeline")
        for tenant, pipeline, file, workspace in rows:
            try:
                loaded = load_tenant_pipeline(Path(workspace), Path(file))
            except LedgerlinkError as exc:  # `fleet status` reports it when a worker tries; not routable now
                log.warning("webhooks for %s/%s cannot be routed: %s", tenant, pipeline, exc)
                continue
            seen = SeenNotifications(self.db, tenant, pipeline) if shared else None
            context = tenant_context(loaded, self._asker(WebhookTarget(tenant, pipeline)), seen_notifications=seen)
            for base, factory, plugin in routes:
                try:
                    app = factory(context)
                except Exception as exc:  # one plugin's receiver failing to build must not stop the others
                    log.warning("receiver %s of plugin %s for %s/%s: %s", base, plugin, tenant, pipeline, exc)
                    continue
                state = getattr(app, "state", None)
                key, reader = getattr(state, "route_key", None), getattr(state, "route_keys_of", None)
                if not key or not callable(reader):
                    continue
                name = base[len(WEBHOOK_PREFIX):]
                index.readers[name] = reader
                index.targets[name][str(key)].append(WebhookTarget(tenant, pipeline, app))
        return index

    @staticmethod
    def _asker(target: WebhookTarget) -> Callable[[str], None]:
        def trigger_sync(reason: str) -> None:
            asked = _asked.get()
            if asked is not None:
                asked.append((target, reason))
        return trigger_sync

    # -- queueing -----------------------------------------------------------------------------------------------
    def _enqueue(self, target: WebhookTarget, reason: str) -> tuple[str, bool]:
        """The workflow id of the sync queued for the target, and whether it joined one already waiting."""
        from .engine import enqueue_sync, fleet_client

        with self._lock:
            if self._client is None:
                self._client = fleet_client(self.db)
            client = self._client
        key = (target.tenant, target.pipeline)
        waiting = self._queued.get(key)
        if waiting is not None:
            try:
                found = client.list_workflows(workflow_ids=[waiting], load_input=False, load_output=False)
            except Exception as exc:  # cannot tell: queue another (a second sync is harmless, a missed one is not)
                log.warning("could not look up the sync queued for %s/%s: %s", *key, exc)
                found = []
            if found and found[0].status == "ENQUEUED":
                return waiting, True
        workflow = enqueue_sync(self.db, target.tenant, target.pipeline, reason=f"webhook: {reason}"[:200],
                                client=client)
        self._queued[key] = workflow
        return workflow, False

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.destroy()
            finally:
                self._client = None
        self.db.close()

    # -- the callback ---------------------------------------------------------------------------------------------
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        name = str((scope.get("path_params") or {}).get("receiver") or scope.get("path", "").rstrip("/").split("/")[-1])
        response = await self._handle(request, name)
        await response(scope, receive, send)

    def _refuse(self, status: int, why: str, *, where: str | None = None, hint: str | None = None) -> JSONResponse:
        self.stats["refused" if status != 404 else "unknown"] += 1
        log.warning("fleet webhook refused (%s): %s", status, why)
        body: dict[str, Any] = {"status": "refused", "error": why}
        if where:
            body["where"] = where
        if hint:
            body["hint"] = hint
        return JSONResponse(body, status_code=status)

    async def _handle(self, request: Request, name: str) -> JSONResponse:
        if request.method != "POST":
            return self._refuse(405, f"{request.method} is not allowed here: vendors POST their callbacks")
        try:
            body = await read_body(request, self.max_body_bytes, what="the callback body")
        except WebInputError as exc:
            return self._refuse(exc.status, exc.message)
        index = await self._table()
        if isinstance(index, JSONResponse):
            return index
        reader = index.readers.get(name)
        if reader is None:
            index = await self._table(missed=True)
            if isinstance(index, JSONResponse):
                return index
            reader = index.readers.get(name)
        if reader is None:
            known = ", ".join(sorted(index.readers)) or "none: no registered pipeline has a webhook receiver"
            return self._refuse(404, f"no fleet pipeline receives {_short(name)!r} callbacks",
                                where=request.url.path, hint=f"receivers: {known}")
        try:
            keys = [str(k) for k in reader(body)]
        except Exception as exc:  # the body is not this vendor's callback at all
            return self._refuse(400, f"not a {_short(name)} callback: {_short(exc, 200)}")
        if not keys:
            return self._refuse(400, f"the callback names no account a {_short(name)} pipeline could answer for")
        targets = [t for k in dict.fromkeys(keys) for t in index.targets[name].get(k, [])]
        if not targets:
            index = await self._table(missed=True)
            if isinstance(index, JSONResponse):
                return index
            targets = [t for k in dict.fromkeys(keys) for t in index.targets[name].get(k, [])]
        if not targets:
            return self._refuse(404, f"no registered tenant's pipeline answers for {_short(', '.join(keys))}",
                                where=f"{name} callback", hint="`ledgerlink fleet add-tenant` registers its workspace")
        return await self._dispatch(request, name, body, targets)

    async def _table(self, *, missed: bool = False) -> "_Index | JSONResponse":
        """The routing table, or the answer to give when it cannot be had (never a traceback to the vendor)."""
        try:
            return await run_in_threadpool(self.index, missed=missed)
        except FleetUnavailable as exc:
            return self._refuse(503, exc.message, hint="the vendor sends the callback again later")
        except Exception:
            log.exception("the fleet's webhook routing table could not be built")
            return self._refuse(503, "the fleet's routing table could not be built (see the console's log)",
                                hint="the vendor sends the callback again later")

    async def _dispatch(self, request: Request, name: str, body: bytes, targets: list[WebhookTarget]
                        ) -> JSONResponse:
        answers: list[tuple[WebhookTarget, int, bytes]] = []
        asked: list[tuple[WebhookTarget, str]] = []
        for target in targets:
            token = _asked.set([])
            try:
                status, content = await _call(target.app, request.scope, body)
                asked.extend(_asked.get() or [])
            finally:
                _asked.reset(token)
            answers.append((target, status, content))
        accepted = [(t, s, c) for t, s, c in answers if 200 <= s < 300]
        if not accepted:
            target, status, content = answers[0]
            self.stats["refused"] += 1
            log.warning("fleet webhook %s refused by every candidate (%d), first %s/%s: %d", name, len(answers),
                        target.tenant, target.pipeline, status)
            return JSONResponse(_json(content) or {"status": "refused"}, status_code=status)
        for target, status, _ in answers:
            if not 200 <= status < 300:  # another tenant claims the key but could not verify it: log, no leak
                log.warning("fleet webhook %s: %s/%s refused it (%d); queued for the tenant(s) that verified it",
                            name, target.tenant, target.pipeline, status)
        queued = []
        pending = list(dict.fromkeys(asked))
        for index, (target, reason) in enumerate(pending):
            try:
                workflow, joined = await run_in_threadpool(self._enqueue, target, reason)
            except LedgerlinkError as exc:  # FleetUnavailable, or the pipeline was removed meanwhile
                apps = {(t.tenant, t.pipeline): t for t in targets}  # the asker's targets carry no app
                await run_in_threadpool(_forget, [apps.get((t.tenant, t.pipeline), t) for t, _ in pending[index:]],
                                        body)
                status = 503 if isinstance(exc, FleetUnavailable) else 409
                return self._refuse(status, f"{target.tenant}/{target.pipeline}: the sync could not be queued: "
                                            f"{exc.message}", hint="the vendor sends the callback again later")
            self.stats["joined" if joined else "queued"] += 1
            queued.append({"tenant": target.tenant, "pipeline": target.pipeline, "workflow_id": workflow,
                           "joined": joined})
        statuses = sorted({str((_json(c) or {}).get("status") or "accepted") for _, _, c in accepted})
        # pipelines that verified the callback but were not synced for it, and why (e.g. an Amazon ORDER_CHANGE
        # for a settlements-only pipeline): the tenants are the callback's own, it verified against their keys
        ignored = [{"tenant": t.tenant, "pipeline": t.pipeline, "reason": _short(answer.get("reason"), 300)}
                   for t, _, c in accepted if (answer := _json(c) or {}).get("status") == "ignored"
                   and answer.get("reason")]
        body_out: dict[str, Any] = {"status": "accepted" if queued else "/".join(statuses), "queued": queued}
        if ignored:
            body_out["ignored"] = ignored
        return JSONResponse(body_out)


def _forget(targets: list[WebhookTarget], body: bytes) -> None:
    """Receivers that drop redeliveries (`app.state.forget(body)`) forget a callback whose sync could not be
    queued, so the vendor's retry of it is accepted again instead of being taken for a duplicate."""
    for target in dict.fromkeys(targets):
        forget = getattr(getattr(target.app, "state", None), "forget", None)
        if callable(forget):
            try:
                forget(body)
            except Exception:  # best effort: the pipeline's schedule still reads what the callback announced
                log.exception("a webhook receiver could not forget a callback")


def _json(content: bytes) -> dict[str, Any] | None:
    import json

    try:
        value = json.loads(content or b"null")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


async def _call(app: Any, scope: Any, body: bytes) -> tuple[int, bytes]:
    """Run one receiver on the buffered callback (as a POST to its root); its status and body."""
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    status, chunks = 500, []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    child = {k: v for k, v in scope.items() if k not in ("router", "endpoint", "path_params", "route")}
    child.update(path="/", raw_path=b"/", root_path="", method="POST")
    try:
        await app(child, receive, send)
    except Exception:  # a receiver's bug is a 500 for that candidate, never a traceback to the vendor
        log.exception("a webhook receiver failed")
        return 500, b'{"status": "refused", "error": "the receiver failed"}'
    return status, b"".join(chunks)
