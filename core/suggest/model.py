"""A suggestion: what a channel's word (a subject) probably maps to in the books (a target), how sure, and why."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["Suggestion", "Kind", "KINDS", "suggestion_id"]

Kind = Literal["roles", "items", "payments", "tax", "customers"]
KINDS: tuple[str, ...] = ("roles", "items", "payments", "tax", "customers")


def suggestion_id(kind: str, subject: str, target: str) -> str:
    """A short id that stays the same between runs, so `suggest --apply ID` names what the person saw."""
    return hashlib.sha1(f"{kind}\x1f{subject}\x1f{target}".encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Suggestion:
    """`subject`: the channel's word (an amount description, a SKU, a payment method, a tax name, a customer);
    `target`: what it probably is in the books (a role, an item, a payment method, a tax code, another customer);
    `confidence` 0–1; `reason`: in words, why; `context`: what `--apply` needs (e.g. the row's amount type)."""

    kind: str
    subject: str
    target: str
    confidence: float
    reason: str
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return suggestion_id(self.kind, self.subject, self.target)

    def auto(self, threshold: float) -> bool:
        """True when confident enough to be pre-selected (still applied only when a person confirms it)."""
        return self.confidence >= threshold

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, **asdict(self), "confidence": round(self.confidence, 3)}

    def short(self) -> str:
        """One line for a dead letter's hint."""
        return f"{self.target} ({self.confidence:.0%}: {self.reason})"
