"""Suggesting the ledger item for a channel SKU: the same name or SKU once case, spacing, punctuation and
pack-size wording are set aside, else the closest names by rapidfuzz among a few candidates that share a
word (the blocking step that keeps 10,000 SKUs × 10,000 items to seconds), with a differing pack size or
variant word counted against a match. Accepted mappings come first."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import chain
from typing import Iterable

from rapidfuzz import fuzz, process

from .accepted import AcceptedMappings
from .model import Suggestion
from .scoring import Evidence
from .text import compact, pack_size, plain, tokens

__all__ = ["LedgerItem", "ItemSuggester"]

#: at most this many candidates per SKU are scored (the rarest shared words pick them)
_BLOCK = 200
_CUTOFF = 60
#: a word in more items than this is too common to block on
_COMMON = 800


@dataclass(frozen=True)
class LedgerItem:
    name: str
    sku: str | None = None


def _key(text: str | None) -> str:
    """Name or SKU with case, spacing, punctuation and pack wording set aside, pack size kept as a number."""
    size = pack_size(text)
    return "".join(tokens(text)) + (f"#{size}" if size and size > 1 else "")


class ItemSuggester:
    def __init__(self, items: Iterable[LedgerItem], accepted: AcceptedMappings | None = None,
                 pipeline: str | None = None):
        self.items = [i for i in items if i.name]
        self.accepted = accepted or AcceptedMappings(None)
        self.pipeline = pipeline
        self._exact: dict[str, int] = {}
        self._index: dict[str, list[int]] = defaultdict(list)
        self._plain: list[str] = []
        self._sizes: list[int | None] = []
        for n, item in enumerate(self.items):
            for text in (item.sku, item.name):
                if text:
                    self._exact.setdefault(_key(text), n)
            words = set(tokens(item.name)) | set(tokens(item.sku))
            for w in words:
                self._index[w].append(n)
            # words sorted once here, so plain `ratio` below is rapidfuzz's token_sort_ratio without re-sorting
            self._plain.append(" ".join(sorted(tokens(item.name))))
            self._sizes.append(pack_size(item.name) or pack_size(item.sku))

    def suggest(self, sku: str, title: str | None = None, limit: int = 3) -> list[Suggestion]:
        """The `limit` likeliest ledger items for a channel SKU (and its listing title, when known)."""
        evidence = Evidence()
        for entry in self.accepted.of_kind("items", self.pipeline):
            if compact(entry.subject) == compact(sku):
                evidence.add(entry.target, 0.99, f"you accepted {entry.target!r} for {entry.subject!r} on {entry.day}")
        for text, what in ((sku, "SKU"), (title, "title")):
            if not text:
                continue
            hit = self._exact.get(_key(text))
            if hit is not None:
                item = self.items[hit]
                evidence.add(item.name, 0.97 if what == "SKU" else 0.93,
                             f"same {what} as item {item.name!r} once case, spacing and punctuation are set aside")
        query_size = pack_size(title) or pack_size(sku)
        for text in (title, sku):
            if text:
                self._fuzzy(evidence, text, query_size)
        return evidence.ranked("items", sku, limit, {"sku": sku, "title": title})

    def _candidates(self, words: list[str]) -> list[int]:
        """The blocking step: the items sharing the most words with the query (at most `_BLOCK` of them)."""
        lists = sorted((self._index[w] for w in set(words) if w in self._index), key=len)
        if not lists:
            return []
        # a word most items share ("series", a size) picks nothing out: counted only when nothing rarer is there
        rare = [ids for ids in lists if len(ids) <= _COMMON] or lists[:1]
        lists, total = [], 0
        for ids in rare:  # the rarest words first, until enough items are in play
            if total >= _COMMON and len(lists) >= 2:
                break
            lists.append(ids)
            total += len(ids)
        if len(lists) == 1:
            return lists[0][:_BLOCK]
        return [i for i, _ in Counter(chain.from_iterable(lists)).most_common(_BLOCK)]

    def _fuzzy(self, evidence: Evidence, text: str, query_size: int | None) -> None:
        words = tokens(text)
        candidates = self._candidates(words)
        if not candidates:
            return
        query = " ".join(sorted(words))
        choices = [self._plain[i] for i in candidates]
        for _, score, n in process.extract(query, choices, scorer=fuzz.ratio, processor=None, limit=5,
                                           score_cutoff=_CUTOFF):
            i = candidates[n]
            item = self.items[i]
            why = f"fuzzy {score:.0f} vs item {item.name!r}"
            confidence = (score / 100) ** 2
            size = self._sizes[i]
            if (query_size or 1) != (size or 1):
                confidence *= 0.5
                why += f" (but a pack of {query_size or 1} is not a pack of {size or 1})"
            evidence.add(item.name, 0.95 * confidence, why)
