"""Vendor endpoints that hold a pipeline's state for a session, hosted by the fleet: the QuickBooks Web Connector
polls `/fleet/qbwc/<tenant>/<pipeline>` on a console pointed at the fleet database (SOAP POST, `?wsdl` GET).

For each registered pipeline the app `ledgerlink serve` would mount at `/<service>` (the plugin's
`register_web_routes` factory; `/qbwc` for QuickBooks Desktop) is built from the tenant's workspace and
interpolated pipeline file, with a `StateGate` (held_state.py) that opens the pipeline's state file for each
session under the pipeline's fleet lease, so a session and a sync never write it at once. Only an app that
says it uses the gate (`app.state.holds_state_per_session`) is hosted: one that expects the state open for its
life, as under `serve`, would find nothing here. The plugin's own
verification is the endpoint's: the Web Connector user and password of that pipeline, checked by the bridge
(password hash, login throttle), so no console sign-in is needed.

An unknown tenant or pipeline is a 404 that names neither the tenants nor their pipelines; a pipeline whose
destination is not the plugin's is the plugin's own 404; a fleet database out of reach is a 503.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse
from starlette.routing import Match, Mount

from ..errors import LedgerlinkError
from .database import FleetDatabase, FleetUnavailable
from .held_state import IDLE_S, StateGate
from .leases import DEFAULT_TTL_S
from .plugin_apps import pipeline_location, tenant_context
from .webhooks import WEBHOOK_PREFIX

__all__ = ["FleetSessions", "SESSIONS_PREFIX", "endpoint_file"]

log = logging.getLogger("ledgerlink.fleet.sessions")

#: `/fleet/<service>/<tenant>/<pipeline>`: where the console serves each pipeline's session endpoint
SESSIONS_PREFIX = "/fleet"


@dataclass
class _Endpoint:
    signature: Any
    mount: Mount
    gate: StateGate


def _signature(workspace: Path, file: Path) -> tuple[Any, ...]:
    """What the built app depends on: the pipeline file and the tenant's variables (a rotated password)."""
    def mtime(path: Path) -> float | None:
        try:
            return path.stat().st_mtime_ns
        except OSError:
            return None
    return (str(workspace), str(file), mtime(file), mtime(workspace / "tenant.env"))


class FleetSessions:
    """The ASGI app behind `/fleet/<service>/<tenant>/<pipeline>`: one per fleet database, kept for the
    console's life; each pipeline's app (and its sessions) is built once and rebuilt when its files change."""

    def __init__(self, db: FleetDatabase, plugin_host: Any, *, lease_ttl_s: float = DEFAULT_TTL_S,
                 idle_s: float = IDLE_S):
        self.db, self.plugin_host = db, plugin_host
        self.lease_ttl_s, self.idle_s = lease_ttl_s, idle_s
        self._lock = threading.Lock()
        self._endpoints: dict[tuple[str, str, str], _Endpoint] = {}

    def services(self) -> dict[str, Any]:
        """service name (`qbwc`) → the plugin's app factory, for every plugin route that is not a webhook."""
        return {path.strip("/"): factory for path, factory, _ in self.plugin_host.web_routes()
                if not path.startswith(WEBHOOK_PREFIX) and path.strip("/") and "/" not in path.strip("/")}

    def endpoint(self, service: str, tenant: str, pipeline: str) -> _Endpoint | None:
        """The pipeline's endpoint, built (or rebuilt) as needed; None when there is no such pipeline."""
        factory = self.services().get(service)
        if factory is None:
            return None
        found = pipeline_location(self.db, tenant, pipeline)
        if found is None:
            return None
        workspace, file, _ = found
        key, signature = (service, tenant, pipeline), _signature(workspace, file)
        with self._lock:
            current = self._endpoints.get(key)
            if current is not None and current.signature == signature:
                return current
            built = self._build(service, factory, tenant, pipeline, workspace, file, signature)
            if current is not None:  # the files changed: a session of the old app lets its lease go now
                current.gate.shutdown()
            self._endpoints[key] = built
            return built

    def _build(self, service: str, factory: Any, tenant: str, pipeline: str, workspace: Path, file: Path,
               signature: Any) -> _Endpoint:
        from .engine import enqueue_sync
        from .workspace import load_tenant_pipeline

        loaded = load_tenant_pipeline(workspace, file)

        def sync_soon(reason: str) -> None:
            enqueue_sync(self.db, tenant, pipeline, reason=f"{service}: {reason}"[:200])

        gate = StateGate(self.db, tenant, pipeline, loaded.state_path, loaded.destination.connector,
                         lease_ttl_s=self.lease_ttl_s, idle_s=self.idle_s,
                         after_settled=lambda: sync_soon("writes confirmed"))
        context = tenant_context(loaded, sync_soon, state_gate=gate,
                                 load_credential=_shared_credential(loaded.credentials_path))
        app = factory(context)
        if not getattr(getattr(app, "state", None), "holds_state_per_session", False):
            app = _absent(f"{tenant}/{pipeline} has no /{service} endpoint in the fleet (its destination uses none)")
        else:
            log.info("serving /%s for %s/%s", service, tenant, pipeline)
        return _Endpoint(signature, Mount(f"{SESSIONS_PREFIX}/{service}/{tenant}/{pipeline}", app=app), gate)

    def close(self) -> None:
        with self._lock:
            for endpoint in self._endpoints.values():
                endpoint.gate.shutdown()
            self._endpoints.clear()
        self.db.close()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        params = scope.get("path_params") or {}
        service, tenant, pipeline = (str(params.get(k) or "") for k in ("service", "tenant", "pipeline"))
        try:
            endpoint = await run_in_threadpool(self.endpoint, service, tenant, pipeline)
        except FleetUnavailable as exc:
            log.warning("fleet %s endpoint: %s", service, exc.message)
            await _answer(503, f"{exc.message}; the Web Connector tries again at its next run\n", scope, receive, send)
            return
        except LedgerlinkError as exc:  # the tenant's pipeline file does not load: said in the log, not to callers
            log.warning("fleet %s endpoint for %s/%s cannot be served: %s", service, tenant, pipeline, exc)
            await _answer(503, "this pipeline cannot be served now; its owner sees why in `ledgerlink fleet "
                               "status`\n", scope, receive, send)
            return
        if endpoint is None:
            await _answer(404, "no such endpoint in this fleet\n", scope, receive, send)
            return
        child = dict(scope)
        if not child["path"].endswith("/"):  # the Web Connector does not follow a redirect to the final slash
            child["path"] += "/"
            if child.get("raw_path"):
                child["raw_path"] += b"/"
        for k in ("path_params", "endpoint", "route"):
            child.pop(k, None)
        match, extra = endpoint.mount.matches(child)
        if match != Match.FULL:
            await _answer(404, "no such endpoint in this fleet\n", scope, receive, send)
            return
        await endpoint.mount.handle({**child, **extra}, receive, send)


def _shared_credential(path: Path | None) -> Any:
    """The pipeline's shared credentials file (where the console's Connections page keeps a Web Connector
    password's hash), read per login; the state file's own store is not open before a session holds it."""
    def load(name: str) -> str | None:
        if path is None or not path.exists():
            return None
        from ..store.shared_credentials import SharedCredentials

        return SharedCredentials(path).load(name)
    return load


def _absent(text: str) -> Any:
    """The app of a pipeline that has no such endpoint: a 404 saying so (the caller named the pipeline)."""
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await _answer(404, text + "\n", scope, receive, send)
    return app


async def _answer(status: int, text: str, scope: Any, receive: Any, send: Any) -> None:
    await PlainTextResponse(text, status_code=status)(scope, receive, send)


def endpoint_file(db: FleetDatabase, tenant: str, pipeline: str, name: str, base_url: str,
                  plugin_host: Any = None) -> Any:
    """A file the pipeline's destination offers for its vendor (QuickBooks Desktop's `.qwc`, `name` "qwc"),
    pointing at this fleet's endpoint for the pipeline: `<base_url>/fleet/<service>/<tenant>/<pipeline>/`.
    The plugin's own builder writes it (the same OwnerID/FileID as under `serve`)."""
    from ..connect.flows import connect_flow_of
    from ..errors import ConfigError
    from ..plugins import host
    from .workspace import load_tenant_pipeline

    found = pipeline_location(db, tenant, pipeline)
    if found is None:
        raise LedgerlinkError(f"tenant {tenant!r} has no pipeline {pipeline!r}",
                              hint="`ledgerlink fleet status` lists them; `fleet add-tenant` again after adding a file")
    loaded = load_tenant_pipeline(found[0], found[1])
    plugins = plugin_host or host()
    connector = loaded.destination.connector
    flow = connect_flow_of(plugins.connector(connector, "destination"))
    if flow is None or name not in getattr(flow, "files", ()):
        raise ConfigError(f"{tenant}/{pipeline} writes to {connector}, which offers no {name!r} file",
                          where="destination.connector",
                          hint="the .qwc file is for pipelines whose destination is qb_desktop")
    base = base_url.rstrip("/")
    return flow.download(loaded.destination.config, name,
                         plugin_url=lambda mount: f"{base}{SESSIONS_PREFIX}/{mount.strip('/')}/{tenant}/{pipeline}/")
