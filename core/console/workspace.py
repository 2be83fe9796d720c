"""A workspace: a folder of pipeline files served by one process. Each pipeline keeps its own PipelineService
(its sync thread owns its state file); the workspace adds the console database (accounts, tokens, sessions,
throttle, audit), the one-line report of every finished run, and the endpoint notes the CLI reads."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path
from typing import Any, Callable

import yaml

from ..connect.expiry import ConnectExpiryFeed
from ..alerts import WorkspaceAlerts
from ..alerts.anomaly_feed import AnomalyFeed
from ..errors import ConfigError
from ..pipeline import Pipeline, load_pipeline
from ..plugins import PluginHost
from ..serve import PipelineService
from .accounts import Accounts
from .audit import AuditLog
from .db import ConsoleDB, console_db_path
from .notes import remove_note, write_note
from .sessions import DEFAULT_SESSION_SECONDS, Sessions
from .throttle import LoginThrottle
from .tokens import Tokens

__all__ = ["Workspace", "ServedPipeline", "pipeline_files", "run_line"]


def pipeline_files(folder: Path) -> list[Path]:
    """The pipeline files of a folder: its YAML files whose top level names a source and a destination."""
    if not folder.is_dir():
        raise ConfigError(f"workspace {folder} is not a folder", hint="name the folder holding your pipeline files")
    found = []
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            raw = yaml.safe_load(path.read_text())
        except yaml.YAMLError:
            raw = {"source": None, "destination": None}  # a broken pipeline file: load_pipeline says where
        if isinstance(raw, dict) and "source" in raw and "destination" in raw:
            found.append(path)
    return found


def run_line(name: str, report: dict[str, Any] | None, error: str | None, seconds: float) -> str:
    """One line per finished run: pipeline, status, counts, seconds."""
    if report is None:
        return f"run finished: {name} failed in {seconds:.1f}s: {error}"
    c = report.get("counts") or {}
    created = sum((c.get("created") or {}).values())
    return (f"run finished: {name} {report.get('status')} (run {report.get('run_id')}): read {c.get('read_total', 0)}, "
            f"planned {c.get('planned_new', 0)}, posted {created}, dead letters open {c.get('dead_letters_open', 0)}"
            f" in {seconds:.1f}s")


class ServedPipeline(PipelineService):
    """A PipelineService that tells the workspace when each run ends (for the run line and the health view)."""

    def __init__(self, pipeline: Pipeline, plugin_host: PluginHost, *, source_file: Path | None,
                 announce: Callable[[str], None], **kwargs: Any):
        super().__init__(pipeline, plugin_host, **kwargs)
        self.source_file = source_file
        self.announce = announce
        self.last_started_at: float | None = None
        self.last_finished_at: float | None = None
        self.started_at = time.time()
        #: the last reconcile report run through the API (its verdict shows in the pipeline's health)
        self.last_reconcile: dict[str, Any] | None = None
        #: told when each run ends (the workspace's alerts)
        self.on_finished: Callable[["ServedPipeline"], None] | None = None

    def _run(self, reason: str) -> None:
        self.last_started_at = time.time()
        began = time.monotonic()
        super()._run(reason)
        self.last_finished_at = time.time()
        self.announce(run_line(self.pipeline.name, self.last_report if self.last_error is None else None,
                               self.last_error, time.monotonic() - began))
        if self.on_finished is not None:
            self.on_finished(self)

    def next_run_at(self) -> float | None:
        if not self.every:
            return None
        return (self.last_finished_at or self.started_at) + self.every


class Workspace:
    """Every pipeline of a folder (or one file: a workspace of one), served together."""

    def __init__(self, root: Path, files: list[Path], plugin_host: PluginHost, *, every: float | None = None,
                 debounce: float = 1.0, announce: Callable[[str], None] = print, clock: Callable[[], float] = time.time,
                 session_seconds: float = DEFAULT_SESSION_SECONDS):
        self.root = Path(root)
        self.plugin_host = plugin_host
        self.announce = announce
        self.services: dict[str, ServedPipeline] = {}
        # a malformed alerts.yaml stops here, naming the key; anomaly findings feed the `anomaly` rules
        self.alerts = WorkspaceAlerts(self.root, clock=clock, anomaly_source=AnomalyFeed(clock=clock),
                                      token_source=ConnectExpiryFeed(self))  # connected secrets' expiry (issue 16)
        for path in files:
            pipeline = load_pipeline(path)
            if pipeline.name in self.services:
                raise ConfigError(f"two pipeline files are named {pipeline.name!r}: "
                                  f"{self.services[pipeline.name].source_file} and {path}",
                                  hint="give each pipeline of a workspace its own name")
            self.services[pipeline.name] = ServedPipeline(pipeline, plugin_host, source_file=path, announce=announce,
                                                          every=every, debounce=debounce)
            self.services[pipeline.name].on_finished = self.alerts.after_run
        self.db = ConsoleDB(console_db_path(self.root), clock=clock)
        self.accounts = Accounts(self.db)
        self.tokens = Tokens(self.db)
        self.sessions = Sessions(self.db, session_seconds)
        self.throttle = LoginThrottle(self.db)
        self.audit = AuditLog(self.db)
        # the token this machine's CLI uses (through the endpoint notes): bookkeeper, never stored, gone at stop
        self.local_token = "llt_local_" + secrets.token_urlsafe(32)
        self._local_hash = hashlib.sha256(self.local_token.encode()).hexdigest()
        self._notes: list[Path] = []

    @classmethod
    def open(cls, target: str | Path, plugin_host: PluginHost, **kwargs: Any) -> "Workspace":
        """A workspace from a folder of pipeline files, or from one pipeline file (its folder is the workspace)."""
        path = Path(target)
        if path.is_dir():
            files = pipeline_files(path)
            if not files:
                raise ConfigError(f"workspace {path} has no pipeline files",
                                  hint="put pipeline YAML files (with source and destination) in the folder")
            return cls(path, files, plugin_host, **kwargs)
        if not path.exists():
            raise ConfigError(f"pipeline file {path} does not exist", hint="see specs/pipelines/ for examples")
        return cls(path.resolve().parent, [path], plugin_host, **kwargs)

    def is_local_token(self, secret: str) -> bool:
        return hmac.compare_digest(hashlib.sha256(secret.encode()).hexdigest(), self._local_hash)

    def service(self, name: str) -> ServedPipeline:
        try:
            return self.services[name]
        except KeyError:
            raise ConfigError(f"no pipeline named {name!r} in this workspace", where="pipeline",
                              hint=f"pipelines: {', '.join(sorted(self.services))}") from None

    def start(self) -> None:
        for service in self.services.values():
            service.start()
        self.alerts.start(lambda: list(self.services.values()))

    def write_notes(self, url: str) -> None:
        """Tell this machine's CLI where each served pipeline is answered."""
        for service in self.services.values():
            self._notes.append(write_note(service.pipeline.state_path, url=url, token=self.local_token,
                                          pipeline=service.pipeline.name))

    def stop(self) -> None:
        self.alerts.stop()
        for service in self.services.values():
            remove_note(service.pipeline.state_path)
            if service._thread.is_alive():
                service.stop()
            else:
                service.store.close()
        self.db.close()
