"""What an alert is about: one event (a failed run, a dead-letter backlog, a reconcile finding…) of one pipeline,
with a fingerprint that names it so that the same event is never sent twice, and the console page to open."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["AlertEvent", "Condition", "CONSOLE_PAGES"]

#: the console page each kind of event links to
CONSOLE_PAGES = {
    "run_failed": "/runs", "dead_letters": "/dead-letters", "reconcile_finding": "/reconcile",
    "anomaly": "/anomalies", "web_connector_silent": "/", "token_expiring": "/", "review_waiting": "/review",
    "test": "/alerts",
}


@dataclass(frozen=True)
class AlertEvent:
    """One thing a person should hear about. `key` identifies it within its pipeline and kind (a run id, a
    finding, a condition's episode): the same key is the same event, sent once per channel."""

    kind: str
    pipeline: str
    key: str
    title: str
    detail: str = ""
    #: a path on the console (`/dead-letters?pipeline=shop`); the message carries console_url + path
    path: str = "/"
    at: float = 0.0

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.kind}\x1f{self.pipeline}\x1f{self.key}".encode()).hexdigest()[:32]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "fingerprint": self.fingerprint}


@dataclass(frozen=True)
class Condition:
    """A state that is either on or off (more than N dead letters open, the Web Connector silent): it alerts once
    when it turns on, and again only after it has turned off and on again (each time is a new episode)."""

    kind: str
    pipeline: str
    #: names the condition (with its threshold: `above 5`), stable while it stays on
    key: str
    active: bool
    title: str = ""
    detail: str = ""
    path: str = "/"

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.kind}\x1f{self.pipeline}\x1f{self.key}".encode()).hexdigest()[:32]

    def event(self, episode: int, at: float) -> AlertEvent:
        return AlertEvent(self.kind, self.pipeline, f"{self.key}#{episode}", self.title, self.detail, self.path, at)
