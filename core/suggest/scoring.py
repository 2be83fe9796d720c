"""Collecting evidence for candidate targets: each signal (accepted mapping, glossary, fuzzy match) proposes a
target with a confidence and a reason; the best reason per target is kept, agreement nudges it up, and a close
runner-up pulls the winner down (two readings that close mean a person must look)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .model import Suggestion

__all__ = ["Evidence", "AMBIGUOUS_GAP"]

#: a runner-up this close to the winner makes the winner less certain
AMBIGUOUS_GAP = 0.05


@dataclass
class _Candidate:
    confidence: float
    reason: str
    signals: int = 1
    context: dict[str, Any] = field(default_factory=dict)


class Evidence:
    def __init__(self) -> None:
        self._by_target: dict[str, _Candidate] = {}

    def add(self, target: str, confidence: float, reason: str, context: dict[str, Any] | None = None) -> None:
        confidence = max(0.0, min(confidence, 0.995))
        seen = self._by_target.get(target)
        if seen is None:
            self._by_target[target] = _Candidate(confidence, reason, 1, dict(context or {}))
            return
        seen.signals += 1
        if confidence > seen.confidence:
            seen.confidence, seen.reason = confidence, reason
            seen.context = dict(context or seen.context)

    def ranked(self, kind: str, subject: str, limit: int, context: dict[str, Any] | None = None) -> list[Suggestion]:
        scored = []
        for target, c in self._by_target.items():
            boost = min(0.04, 0.02 * (c.signals - 1))
            scored.append((min(0.995, c.confidence + boost * (1 - c.confidence) * 5), target, c))
        scored.sort(key=lambda t: (-t[0], t[1]))
        out = []
        close = len(scored) > 1 and scored[0][0] - scored[1][0] < AMBIGUOUS_GAP
        for n, (conf, target, c) in enumerate(scored[:limit]):
            reason = c.reason
            if close and scored[0][0] - conf < AMBIGUOUS_GAP:  # every reading this close is in doubt
                conf *= 0.9
                other = scored[1][1] if n == 0 else scored[0][1]
                reason += f"; as likely: {other}"
            out.append(Suggestion(kind, subject, target, round(conf, 4), reason, {**(context or {}), **c.context}))
        return out
