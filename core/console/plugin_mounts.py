"""Every pipeline's plugin apps (vendor callbacks: webhooks, the Web Connector endpoint), found again on each
request, so a pipeline the designer creates answers at once, without restarting `serve`.

The table is rebuilt only when the set of served pipelines changed; each pipeline's apps are made once (an app
keeps state, e.g. the Web Connector's sessions) and kept while that pipeline is served. When a second pipeline
moves a plugin's path under `/<pipeline>/` (as a restart would), the address the first one had stops answering
at once, as it would after a restart: one address, one pipeline, whatever the uptime (a warning names the new
address to give the vendor). A removed pipeline's addresses stop answering too."""

from __future__ import annotations

import logging
import threading
from typing import Any

from starlette.routing import Match, Mount

__all__ = ["PluginApps"]

log = logging.getLogger("ledgerlink.console")


class PluginApps:
    """An ASGI app: a request under a plugin app's path goes to it (as a `Mount` would), anything else to `app`."""

    def __init__(self, app: Any, workspace: Any, guard: Any):
        self.app, self.workspace, self.guard = app, workspace, guard
        self._lock = threading.Lock()
        self._signature: tuple[tuple[str, int], ...] | None = None
        #: (pipeline, id of its service, plugin path) → its app, made once
        self._apps: dict[tuple[str, int, str], Any] = {}
        #: mounted path → (Mount, plugin, the app's key), longest paths first
        self._mounts: dict[str, tuple[Mount, str, tuple[str, int, str]]] = {}

    def _current(self) -> dict[str, tuple[Mount, str, tuple[str, int, str]]]:
        services = dict(self.workspace.services)
        signature = tuple(sorted((name, id(s)) for name, s in services.items()))
        if signature == self._signature:
            return self._mounts
        with self._lock:
            if signature == self._signature:
                return self._mounts
            routes = self.workspace.plugin_host.web_routes()
            several = len(services) > 1
            mounts: dict[str, tuple[Mount, str, tuple[str, int, str]]] = {}
            apps: dict[tuple[str, int, str], Any] = {}
            for name, service in sorted(services.items()):
                for path, factory, plugin in routes:
                    base = path.rstrip("/")
                    key = (name, id(service), base)
                    app = self._apps.get(key)
                    if app is None:
                        app = factory(service.context())
                        log.info("mounting %s for %s from plugin %s", base, name, plugin)
                    apps[key] = app
                    mounted = f"/{name}{base}" if several else base
                    mounts[mounted] = (Mount(mounted, app=self.guard(app, self.workspace)), plugin, key)
            for path, (_, plugin, key) in self._mounts.items():
                if path not in mounts and key in apps:  # its pipeline is served, at another address now
                    moved = next(p for p, (_, _, k) in mounts.items() if k == key)
                    log.warning("%s (plugin %s) of pipeline %s no longer answers: it is %s now, as another "
                                "pipeline mounts the same path; give the vendor the new address", path, plugin,
                                key[0], moved)
            self._apps = apps
            self._mounts = dict(sorted(mounts.items(), key=lambda kv: -len(kv[0])))
            self._signature = signature
            return self._mounts

    def paths(self) -> set[str]:
        return set(self._current())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") in ("http", "websocket"):
            mounts = self._current()
            path = scope.get("path", "")
            if path in mounts:  # `/webhooks/x` as `/webhooks/x/`: vendors do not follow redirects
                scope = dict(scope)
                scope["path"] = path + "/"
                if scope.get("raw_path"):
                    scope["raw_path"] += b"/"
            for mount, _, _ in mounts.values():
                match, child = mount.matches(scope)
                if match == Match.FULL:
                    await mount.handle({**scope, **child}, receive, send)
                    return
        await self.app(scope, receive, send)
