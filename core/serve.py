"""`ledgerlink serve`: one long-running process per pipeline that owns its state file, runs the sync on a
schedule or when a webhook asks, and hosts the web apps plugins mount (webhook receivers, the QuickBooks
Web Connector endpoint). Its threads share the one DuckDB connection (see DESIGN §5)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from . import jsonutil
from .pipeline import Pipeline
from .plugins import PluginHost
from .runtime import sync
from .runtime.stop import stop_requested
from .store import Store
from .web_limits import BodyLimit, WebInputError, query_int

__all__ = ["ServeContext", "PipelineService", "build_app"]

log = logging.getLogger("ledgerlink.serve")

#: the last line of defence for every route, plugins' included: each callback enforces its own, smaller limit
#: (1 MB for webhooks, the destination's `max_request_bytes` for the Web Connector)
SERVE_MAX_BODY = 64 * 1024 * 1024
#: most runs `GET /runs` returns at once
MAX_RUNS_LISTED = 1000


@dataclass
class ServeContext:
    """What a plugin's web app gets: the pipeline's settings and a way to ask for a sync now."""

    pipeline_name: str
    source_connector: str
    source_config: dict[str, Any]
    destination_connector: str
    destination_config: dict[str, Any]
    #: the pipeline's posting options for the destination (`destination.options`)
    destination_options: dict[str, Any]
    trigger_sync: Callable[[str], None]
    #: writes the destination queued for a remote that confirms later (see WriteResult.awaiting)
    awaiting: Any = None
    #: the destination's reference cache (name → id), shared with the sync
    references: Any = None
    state: dict[str, Any] = field(default_factory=dict)
    #: a stored secret by name, newest first (an account connected from the console, a rotated token)
    load_credential: Callable[[str], str | None] = lambda name: None
    #: in the fleet only (None under `serve`): opens the pipeline's state for one vendor session under the
    #: pipeline's lease, with `awaiting` and `references` that reach it while held (see ledgerlink.fleet.held_state)
    state_gate: Any = None
    #: the pipeline's `source.streams` selection (None: the source's default), so a receiver can tell which
    #: vendor events concern what this pipeline reads
    source_streams: list[str] | None = None
    #: in the fleet only (None under `serve`): the notification ids this pipeline's receiver accepted, shared
    #: by every console (`first_time(id, ttl_s) -> bool`, `forget(id)`; see ledgerlink.fleet.seen_notifications)
    seen_notifications: Any = None


class PipelineService:
    """Runs a pipeline's sync on one background thread: every `every` seconds, and soon after a trigger.

    Triggers arriving while a sync runs, or within `debounce` seconds of each other, collapse into one run
    (a burst of webhooks is one sync, and nothing a webhook announced is missed: the sync is incremental)."""

    def __init__(self, pipeline: Pipeline, plugin_host: PluginHost, *, every: float | None = None,
                 debounce: float = 1.0):
        self.pipeline, self.plugin_host = pipeline, plugin_host
        self.every, self.debounce = every, debounce
        self.store = Store(pipeline.state_path)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._reasons: list[str] = []
        self._lock = threading.Lock()
        self.running = False
        self.last_report: dict[str, Any] | None = None
        self.last_error: str | None = None
        self.syncs = 0
        self._thread = threading.Thread(target=self._loop, name="ledgerlink-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)
        self.store.close()

    @property
    def idle(self) -> bool:
        """No sync running and none asked for: what tests and shutdown wait for."""
        return not self.running and not self._wake.is_set()

    def trigger(self, reason: str) -> None:
        with self._lock:
            self._reasons.append(reason)
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            woke = self._wake.wait(timeout=self.every)
            if self._stop.is_set():
                return
            if woke:
                time.sleep(self.debounce)  # let a burst of triggers arrive
            self._wake.clear()
            with self._lock:
                reasons, self._reasons = self._reasons, []
            self._run(", ".join(sorted(set(reasons))) or "schedule")

    def _run(self, reason: str) -> None:
        self.running = True
        log.info("sync %s: %s", self.pipeline.name, reason)
        try:
            report = sync(self.pipeline, plugin_host=self.plugin_host, store=self.store,
                          should_stop=self._should_stop)
            self.last_report, self.last_error = report.to_dict(), None
        except Exception as exc:  # the service stays up; the error is shown on /health and in `runs`
            self.last_error = str(exc)
            log.error("sync %s failed: %s", self.pipeline.name, exc)
        finally:
            self.syncs += 1
            self.running = False

    def _should_stop(self) -> bool:
        """A running sync ends after its batch when the service stops or the process got SIGTERM (as `sync`)."""
        return self._stop.is_set() or stop_requested()

    def context(self) -> ServeContext:
        p = self.pipeline
        return ServeContext(pipeline_name=p.name, source_connector=p.source.connector, source_config=p.source.config,
                            source_streams=p.source.streams,
                            destination_connector=p.destination.connector, destination_config=p.destination.config,
                            destination_options=p.destination.options, trigger_sync=self.trigger,
                            # a confirmation can unblock documents that depend on it: sync again soon
                            awaiting=self.store.awaiting(p.destination.connector,
                                                         on_settled=lambda: self.trigger("confirmed")),
                            references=self.store.references(p.destination.connector),
                            load_credential=self._stored_credential)

    def _stored_credential(self, name: str) -> str | None:
        """The pipeline's credential store as a sync sees it (the workspace's or its own shared file first)."""
        from .store.shared_credentials import share_credentials

        share_credentials(self.store, self.pipeline.credentials_path)
        return self.store.credentials.load(name)


class _SlashOptional:
    """`/webhooks/x` reaches the app mounted at `/webhooks/x` as `/webhooks/x/` does: Starlette would answer
    the bare path with a 307, and webhook senders (and the Web Connector) do not follow redirects."""

    def __init__(self, app: Any, prefixes: set[str]):
        self.app, self.prefixes = app, prefixes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") in ("http", "websocket") and scope.get("path") in self.prefixes:
            scope = dict(scope)
            scope["path"] += "/"
            if scope.get("raw_path"):
                scope["raw_path"] += b"/"
        await self.app(scope, receive, send)


def build_app(service: PipelineService) -> Any:
    """/health, /runs, POST /sync, and every plugin's mounted app (reachable with or without a final slash),
    behind a server-wide body cap; a query parameter of the wrong type is a 400 naming it."""

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"pipeline": service.pipeline.name, "syncing": service.running, "syncs": service.syncs,
                             "last_status": (service.last_report or {}).get("status"), "last_error": service.last_error,
                             "every_s": service.every})

    async def runs(request: Request) -> Response:
        limit = query_int(request, "limit", 20, minimum=1, maximum=MAX_RUNS_LISTED)
        return Response(jsonutil.dumps(service.store.runs.list(limit)), media_type="application/json")

    async def trigger(request: Request) -> JSONResponse:
        service.trigger("requested")
        return JSONResponse({"queued": True}, status_code=202)

    routes: list[Any] = [Route("/health", health), Route("/runs", runs), Route("/sync", trigger, methods=["POST"])]
    prefixes: set[str] = set()
    for path, factory, plugin in service.plugin_host.web_routes():
        log.info("mounting %s from plugin %s", path, plugin)
        routes.append(Mount(path.rstrip("/"), app=factory(service.context())))
        prefixes.add(path.rstrip("/"))
    app = Starlette(routes=routes, exception_handlers={WebInputError: _refused})
    return BodyLimit(_SlashOptional(app, prefixes), SERVE_MAX_BODY)


async def _refused(request: Request, exc: Exception) -> JSONResponse:
    """A WebInputError raised by a route (a query parameter of the wrong type): its 4xx, naming what was wrong."""
    assert isinstance(exc, WebInputError)
    log.warning("%s %s refused: %s", request.method, request.url.path, exc.message)
    return JSONResponse({"error": exc.message}, status_code=exc.status)
