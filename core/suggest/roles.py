"""Suggesting an account role for a settlement row no rule names: its transaction type, amount type and
description looked up in the glossary (exactly, then fuzzily) and among the roles people already accepted."""

from __future__ import annotations

from rapidfuzz import fuzz, process

from .accepted import AcceptedMappings
from .glossary import Glossary, shipped_glossary
from .model import Suggestion
from .scoring import Evidence
from .text import compact, plain

__all__ = ["RoleSuggester", "role_subject"]

#: roles of what the buyer paid, which a refund transaction turns into money given back
_REFUNDED = {"sales", "shipping_income", "gift_wrap"}
#: how much each field of the row counts: the description says most, the transaction type least
_WEIGHT = {"amount_description": 1.0, "amount_type": 0.93, "transaction_type": 0.88}
_FUZZY_CUTOFF = 72


def _word_roles(glossary: Glossary) -> dict[str, set[str]]:
    """Every word of the glossary's names and explanations → the roles it appears under (short words and the
    words every fee shares, "fee", "amazon", are left out: they say nothing)."""
    out: dict[str, set[str]] = {}
    for entry in glossary.entries:
        for text in (*entry.names, entry.words):
            for word in plain(text).split():
                if len(word) > 2:
                    out.setdefault(word, set()).add(entry.target)
    common = {w for w, roles in out.items() if len(roles) > 4}
    return {w: roles for w, roles in out.items() if w not in common}


def role_subject(transaction_type: str | None, amount_type: str | None, amount_description: str | None) -> str:
    """How a row is shown and keyed: `transaction type / amount type / description`."""
    return " / ".join(v or "*" for v in (transaction_type, amount_type, amount_description))


class RoleSuggester:
    def __init__(self, glossary: Glossary | None = None, accepted: AcceptedMappings | None = None,
                 pipeline: str | None = None):
        self.glossary = glossary or shipped_glossary("roles")
        self.accepted = accepted or AcceptedMappings(None)
        self.pipeline = pipeline
        self._exact = self.glossary.exact()
        self._names: list[str] = []
        self._entries = []
        for entry in self.glossary.entries:
            for name in entry.names:
                self._names.append(plain(name))
                self._entries.append((entry, name))
        self._memo: dict[tuple[str, str, str, int], list[Suggestion]] = {}
        self._word_roles = _word_roles(self.glossary)
        self._words = sorted(self._word_roles)

    def suggest(self, transaction_type: str | None, amount_type: str | None, amount_description: str | None,
                limit: int = 3) -> list[Suggestion]:
        """The `limit` likeliest roles for one row, best first (empty when nothing is even close)."""
        memo_key = (transaction_type or "", amount_type or "", amount_description or "", limit)
        if memo_key in self._memo:
            return self._memo[memo_key]
        subject = role_subject(transaction_type, amount_type, amount_description)
        evidence = Evidence()
        self._from_accepted(evidence, transaction_type, amount_type, amount_description)
        fields = {"amount_description": amount_description, "amount_type": amount_type,
                  "transaction_type": transaction_type}
        if amount_description and compact(amount_description):
            self._from_words(evidence, amount_description)
        decided = self.glossary.deciding_amount_types.get(compact(amount_type))
        if decided:
            evidence.add(decided, 0.97, f"glossary: amount type {amount_type!r} makes it {decided} whatever its "
                                        "description")
        # with no description, the transaction type is what the row is (V1's other-amount rows)
        alone = not compact(amount_description)
        for name, value in fields.items():
            if value and compact(value) and compact(value) not in self.glossary.neutral_words:
                self._from_glossary(evidence, name, value, amount_type, decided, 1.0 if alone else _WEIGHT[name])
        refund = compact(transaction_type) in self.glossary.refund_transaction_types
        found = evidence.ranked("roles", subject, limit + 2, {
            "transaction_type": transaction_type, "amount_type": amount_type,
            "amount_description": amount_description})
        if refund:
            found = [self._as_refund(s) for s in found]
            merged: dict[str, Suggestion] = {}
            for s in found:
                if s.target not in merged or s.confidence > merged[s.target].confidence:
                    merged[s.target] = s
            found = sorted(merged.values(), key=lambda s: -s.confidence)
        self._memo[memo_key] = found[:limit]
        return found[:limit]

    def _from_words(self, evidence: Evidence, value: str) -> None:
        """Word by word: each word of the description that reads like a glossary word votes for the roles that
        word belongs to, a word found under one role only counting most ("storage", "reserve", "sponsored")."""
        votes: dict[str, float] = {}
        why: dict[str, list[str]] = {}
        query = [w for w in plain(value).split() if len(w) > 2]
        for word in query:
            for match, score, _ in process.extract(word, self._words, scorer=fuzz.ratio, limit=3, score_cutoff=85):
                roles = self._word_roles[match]
                for role in roles:
                    votes[role] = votes.get(role, 0.0) + (score / 100) / len(roles)
                    why.setdefault(role, []).append(match)
        for role, vote in votes.items():
            share = vote / max(1, len(query))
            evidence.add(role, min(0.8, 0.8 * share + 0.1 * vote), f"glossary words: {', '.join(sorted(set(why[role])))} "
                         f"are words of {role}")

    @staticmethod
    def _as_refund(s: Suggestion) -> Suggestion:
        if s.target not in _REFUNDED:
            return s
        return Suggestion(s.kind, s.subject, "refunds", s.confidence,
                          s.reason + f"; a {s.context.get('transaction_type')} gives it back, so refunds", s.context)

    def _from_accepted(self, evidence: Evidence, tt: str | None, at: str | None, desc: str | None) -> None:
        word = desc or at or tt or ""
        exact = compact(role_subject(tt, at, desc))
        for entry in self.accepted.of_kind("roles", self.pipeline):
            if compact(entry.subject) == exact:
                evidence.add(entry.target, 0.99, f"you accepted {entry.target} for {word!r} on {entry.day}")
        for entry, score in self.accepted.neighbours("roles", role_subject(tt, at, desc), pipeline=self.pipeline):
            if compact(entry.subject) != exact:
                evidence.add(entry.target, 0.9 * score / 100,
                             f"like {entry.subject!r}, which you mapped to {entry.target} on {entry.day} "
                             f"(fuzzy {score:.0f})")

    def _from_glossary(self, evidence: Evidence, field_name: str, value: str, amount_type: str | None,
                       decided: str | None, weight: float) -> None:
        entry = self._exact.get(compact(value))
        if entry is not None:
            damp = 0.85 if decided and entry.target != decided else 1.0
            evidence.add(entry.target, 0.96 * weight * damp, f"glossary: {value!r} is {entry.words}")
            return
        matches = process.extract(plain(value), self._names, scorer=fuzz.WRatio, limit=6,
                                  score_cutoff=_FUZZY_CUTOFF)
        for _, score, i in matches:
            entry, name = self._entries[i]
            # an amount type that agrees with the entry's is a second opinion; one that contradicts it, a doubt
            damp = 0.85 if decided and entry.target != decided else 1.0
            agree = damp if not (amount_type and entry.amount_type) else (
                damp if compact(amount_type) == compact(entry.amount_type) else 0.95 * damp)
            evidence.add(entry.target, 0.93 * weight * agree * (score / 100) ** 2,
                         f"glossary: {value!r} reads like {name!r} (fuzzy {score:.0f}), {entry.words}")
