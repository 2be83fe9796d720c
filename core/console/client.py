"""The CLI's client of a served pipeline: when `ledgerlink serve` holds a pipeline's state file, `dlq`, `runs`,
`revisions`, `trace`, `reconcile` and `sync` ask serve's API (found through the endpoint note beside the state
file) instead of answering "pipeline is busy". API errors come back as the CLI's own errors, same wording."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from ..errors import ConfigError, LedgerlinkError, PipelineBusyError
from .notes import read_note

__all__ = ["ServedClient", "served_client", "RemoteRecord"]


class RemoteRecord(SimpleNamespace):
    """A record the API returned, read like the store's own objects (attributes, `to_dict()`)."""

    def to_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return dict(self.__dict__)


def _state_path(target: str) -> Path:
    from ..pipeline import load_pipeline

    path = Path(target)
    return path if path.suffix == ".duckdb" else load_pipeline(target).state_path


def served_client(target: str) -> "ServedClient | None":
    """A client for the `serve` holding `target` (a pipeline file or state file), or None when none holds it."""
    try:
        state = _state_path(target)
    except LedgerlinkError:
        return None  # the local path reports the bad file with its own wording
    note = read_note(state)
    return None if note is None else ServedClient(note["url"], note["token"], note["pipeline"])


class ServedClient:
    def __init__(self, url: str, token: str, pipeline: str, *, timeout: float = 600.0):
        self.url, self.pipeline = url.rstrip("/"), pipeline
        self._http = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, f"/api/v1/pipelines/{self.pipeline}{path}", **kwargs)
        except httpx.HTTPError as exc:
            raise PipelineBusyError(f"pipeline is busy: `ledgerlink serve` holds it at {self.url} but does not "
                                    f"answer ({type(exc).__name__})",
                                    hint="wait for serve to start, or stop it; one process owns a state file") from None
        if response.status_code >= 400:
            try:
                err = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                err = {"message": f"serve answered {response.status_code}", "where": None, "hint": None}
            if response.status_code == 409:
                raise PipelineBusyError(err["message"], hint=err.get("hint"))
            error = ConfigError(err["message"], hint=err.get("hint"))  # printed as the local command prints it
            error.where = err.get("where")
            raise error
        return response.json()

    # the public surface plugins use (`ledgerlink.served_client`) -------------------------------------------------
    def get(self, path: str = "", params: dict[str, Any] | None = None) -> Any:
        """GET `/api/v1/pipelines/{pipeline}{path}` as JSON; an API error raises the CLI's own error."""
        return self._call("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST a JSON body to `/api/v1/pipelines/{pipeline}{path}`; an API error raises the CLI's own error."""
        return self._call("POST", path, json=body or {})

    # reads ---------------------------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        return self._call("GET", "")

    def runs(self, limit: int) -> list[dict[str, Any]]:
        return self._call("GET", "/runs", params={"limit": limit})

    def status_lines(self) -> list[str]:
        return self._call("GET", "/status")["lines"]

    def dead_letters(self, show_all: bool) -> list[RemoteRecord]:
        found = self._call("GET", "/dead-letters", params={"status": "all" if show_all else "open"})
        return [RemoteRecord(**d) for d in found]

    def dead_letter(self, letter_id: int) -> RemoteRecord | None:
        try:
            return RemoteRecord(**self._call("GET", f"/dead-letters/{letter_id}"))
        except ConfigError as exc:
            if exc.message.endswith(f"no dead letter {letter_id}"):
                return None
            raise

    def held_revisions(self) -> list[RemoteRecord]:
        return [RemoteRecord(**h) for h in self._call("GET", "/revisions")]

    def settlement(self, settlement_id: str) -> dict[str, Any] | None:
        """The settlement's trail; None when this pipeline never planned it (as the local command finds)."""
        try:
            return self._call("GET", f"/settlements/{settlement_id}")
        except ConfigError as exc:
            if exc.message.endswith("has not been planned by this pipeline"):
                return None
            raise

    def trace(self, stream: str, key: str) -> list[dict[str, Any]]:
        return self._call("GET", "/trace", params={"stream": stream, "key": key})

    # actions -------------------------------------------------------------------------------------------------
    def retry(self, ids: list[int], every_open: bool) -> list[dict[str, Any]]:
        return self._call("POST", "/dead-letters/retry", json={"all": True} if every_open else {"ids": ids})

    def discard(self, ids: list[int]) -> list[dict[str, Any]]:
        return self._call("POST", "/dead-letters/discard", json={"ids": ids})

    def apply_revisions(self, keys: list[str]) -> list[dict[str, Any]]:
        return self._call("POST", "/revisions/apply", json={"keys": keys})

    def discard_revisions(self, keys: list[str]) -> list[dict[str, Any]]:
        return self._call("POST", "/revisions/discard", json={"keys": keys})

    def reconcile(self, offline: bool, checks: list[str]) -> Any:
        from ..reconcile import Finding, ReconcileReport

        report = self._call("POST", "/reconcile", json={"offline": offline, "checks": checks})
        return ReconcileReport(report["pipeline"], report["checks"], [Finding(**f) for f in report["findings"]],
                               report.get("skipped") or {})

    def run_now(self, wait_s: float = 3600.0) -> dict[str, Any]:
        """Ask serve for a sync now and wait (bounded) until it has run; the run's history entry."""
        queued = self._call("POST", "/runs")
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            now = self.summary()
            if now["syncs_since_start"] > queued["syncs_before"] and not now["syncing"]:
                last = self.runs(1)
                return last[0] if last else {"status": "failed", "error": now.get("last_error"), "counts": {}}
            time.sleep(0.2)
        raise PipelineBusyError(f"the sync asked of `ledgerlink serve` at {self.url} has not finished in "
                                f"{wait_s:.0f}s", hint=f"`ledgerlink runs {self.pipeline}` shows it when it does")
