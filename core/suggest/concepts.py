"""Suggesting a ledger name for a channel's payment method or tax name: both sides read through a glossary of
concepts (a card payment, a cash payment; a taxable line, an exempt one) and compared fuzzily, so "Stripe"
finds "Credit Card" and "VAT 20%" finds "20.0% S" but never "5.0% R"."""

from __future__ import annotations

from typing import Iterable

from rapidfuzz import fuzz, process

from .accepted import AcceptedMappings
from .glossary import Glossary, shipped_glossary
from .model import Suggestion
from .scoring import Evidence
from .text import compact, percent, plain

__all__ = ["ConceptSuggester"]


class ConceptSuggester:
    """`kind`: payments or tax; `names`: the ledger's payment methods or tax codes."""

    def __init__(self, kind: str, names: Iterable[str], accepted: AcceptedMappings | None = None,
                 pipeline: str | None = None, glossary: Glossary | None = None):
        self.kind = kind
        self.names = sorted({n for n in names if n})
        self.glossary = glossary or shipped_glossary(kind)
        self.accepted = accepted or AcceptedMappings(None)
        self.pipeline = pipeline
        self._exact = self.glossary.exact()
        self._concept_names = [(plain(n), e) for e in self.glossary.entries for n in e.names]

    def _concept(self, text: str):
        entry = self._exact.get(compact(text))
        if entry is not None:
            return entry, 100.0
        found = process.extractOne(plain(text), [p for p, _ in self._concept_names], scorer=fuzz.WRatio,
                                   score_cutoff=85)
        return (self._concept_names[found[2]][1], float(found[1])) if found else (None, 0.0)

    def suggest(self, subject: str, limit: int = 3) -> list[Suggestion]:
        evidence = Evidence()
        for entry in self.accepted.of_kind(self.kind, self.pipeline):
            if compact(entry.subject) == compact(subject):
                evidence.add(entry.target, 0.99, f"you accepted {entry.target!r} for {entry.subject!r} on {entry.day}")
        rate = percent(subject)
        for name, score, _ in process.extract(plain(subject), [plain(n) for n in self.names], scorer=fuzz.WRatio,
                                              limit=3, score_cutoff=70):
            target = self.names[[plain(n) for n in self.names].index(name)]
            if rate is not None and percent(target) not in (None, rate):
                continue
            evidence.add(target, 0.95 * (score / 100) ** 2, f"fuzzy {score:.0f} vs {target!r}")
        if rate is not None:
            for target in self.names:
                if percent(target) == rate:
                    evidence.add(target, 0.9, f"both name the rate {rate}%: {subject!r} and {target!r}")
        concept, strength = self._concept(subject)
        if concept is not None:
            for target in self.names:
                theirs, their_strength = self._concept(target)
                if theirs is None or theirs.target != concept.target:
                    continue
                if rate is not None and percent(target) not in (None, rate):
                    continue
                evidence.add(target, 0.8 * (strength / 100) * (their_strength / 100),
                             f"glossary: {subject!r} and {target!r} are both {concept.words}")
        return evidence.ranked(self.kind, subject, limit)
