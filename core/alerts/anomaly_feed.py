"""The anomaly checks as an alert source: a served pipeline's open findings, keyed by their fingerprint.

The checks re-run at most once per `refresh_seconds` per pipeline (they copy the staged records into DuckDB, which
is not free on a large store); between refreshes the findings kept by the last run are read, so an acknowledge or a
snooze made in the console is honoured at once."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

__all__ = ["AnomalyFeed"]

log = logging.getLogger("ledgerlink.alerts")


class AnomalyFeed:
    """Callable as an `AnomalySource`: `feed(service)` → the open findings as `{id, check, explanation}`."""

    def __init__(self, refresh_seconds: float = 3600.0, clock: Callable[[], float] = time.time, *,
                 refresh_first: bool = True):
        self.refresh_seconds, self.clock, self.refresh_first = refresh_seconds, clock, refresh_first
        self._refreshed: dict[str, float] = {}
        self._lock = threading.Lock()

    def _due(self, name: str) -> bool:
        with self._lock:
            now = self.clock()
            if name not in self._refreshed and not self.refresh_first:
                self._refreshed[name] = now
            if now - self._refreshed.get(name, float("-inf")) < self.refresh_seconds:
                return False
            self._refreshed[name] = now
            return True

    def __call__(self, service: Any) -> list[dict[str, Any]]:
        from ..anomalies import open_findings

        name = service.pipeline.name
        store = getattr(service, "store", None)
        if store is None:  # not opened yet (serve still starting): nothing to say
            return []
        found = open_findings(service.pipeline, store=store, refresh=self._due(name),
                              plugin_host=getattr(service, "plugin_host", None))
        return [{"id": f.fingerprint or f"{f.check}:{f.subject}", "check": f.check, "explanation": f.explanation}
                for f in found]
