"""What an anomaly check says: a finding (which check, how serious, in words, the rows behind it, the threshold it
crossed) with a stable fingerprint, or that it does not apply here and why."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["AnomalyFinding", "NotApplicable", "AnomalyReport", "Severity", "SEVERITIES", "fingerprint"]

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")


def fingerprint(check: str, subject: str) -> str:
    """The same thing found again (same check, same subject) has the same fingerprint, whatever its figures now
    are: an acknowledged finding stays acknowledged."""
    return hashlib.sha256(f"{check}\x1f{subject}".encode()).hexdigest()[:20]


@dataclass
class AnomalyFinding:
    """One anomaly. `subject` names what it is about in stable words (a SKU and fee, a settlement id); `rows`
    link it to the staged rows and documents behind it; `measured` and `threshold` say how far off it is."""

    check: str
    severity: Severity
    subject: str
    explanation: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    threshold: str = ""
    measured: str = ""
    what_to_do: str = ""
    fingerprint: str = ""
    #: open | acknowledged | snoozed | resolved (as persisted; a fresh finding is open)
    status: str = "open"
    snoozed_until: str | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    decided_by: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if not self.fingerprint:
            self.fingerprint = fingerprint(self.check, self.subject)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class NotApplicable(Exception):
    """Raised by a check whose data this pipeline does not have; the message says why (never a silent pass)."""


@dataclass
class AnomalyReport:
    pipeline: str
    checks: list[str]
    findings: list[AnomalyFinding]
    #: check → why it does not apply here
    not_applicable: dict[str, str] = field(default_factory=dict)
    #: check → why it could not run (a bug or broken data; never counted as passing)
    failed: dict[str, str] = field(default_factory=dict)
    at: str = ""

    @property
    def open(self) -> list[AnomalyFinding]:
        return [f for f in self.findings if f.status == "open"]

    @property
    def passed(self) -> list[str]:
        """The checks that ran and found nothing (not applicable or failed ones never pass)."""
        found = {f.check for f in self.findings}
        return [c for c in self.checks if c not in found and c not in self.not_applicable and c not in self.failed]

    def to_dict(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline, "at": self.at, "checks": self.checks, "open": len(self.open),
                "passed": self.passed, "not_applicable": self.not_applicable, "failed": self.failed,
                "findings": [f.to_dict() for f in self.findings]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AnomalyReport":
        return cls(data["pipeline"], list(data["checks"]), [AnomalyFinding(**f) for f in data["findings"]],
                   dict(data.get("not_applicable") or {}), dict(data.get("failed") or {}), data.get("at") or "")
