"""One pipeline's suggestions: what its staged data holds that its mappings do not cover yet, each with the
likeliest targets from the ledger's own lists (or the account roles), best first."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .accepted import AcceptedMappings, accepted_path
from .concepts import ConceptSuggester
from .customers import duplicate_customers
from .items import ItemSuggester
from .model import KINDS, Suggestion
from .roles import RoleSuggester
from .staged import Staged, read_staged
from .text import compact

__all__ = ["SuggestReport", "suggest_for_pipeline", "suggest_from", "DEFAULT_THRESHOLD"]

#: confidence at or above which a suggestion is pre-selected (`--threshold`); measured precision on the shipped
#: labelled sets is ≥ 99 % at this level (benchmarks/suggest_accuracy.py)
DEFAULT_THRESHOLD = 0.85


@dataclass
class SuggestReport:
    pipeline: str
    threshold: float
    suggestions: list[Suggestion] = field(default_factory=list)
    #: what could not be suggested and why (a ledger with no items yet, nothing staged)
    notes: list[str] = field(default_factory=list)

    def by_id(self) -> dict[str, Suggestion]:
        return {s.id: s for s in self.suggestions}

    def to_dict(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline, "threshold": self.threshold, "notes": self.notes,
                "suggestions": [{**s.to_dict(), "auto": s.auto(self.threshold)} for s in self.suggestions]}


def suggest_from(staged: Staged, options: dict[str, Any], *, pipeline: str, accepted: AcceptedMappings,
                 kinds: Iterable[str] = KINDS, limit: int = 3, threshold: float = DEFAULT_THRESHOLD) -> SuggestReport:
    """Suggestions for what `staged` holds that `options` (the pipeline's destination.options) do not map."""
    report = SuggestReport(pipeline, threshold)
    kinds = set(kinds)
    if "roles" in kinds:
        _roles(staged, options, pipeline, accepted, limit, report)
    if "items" in kinds:
        _items(staged, options, pipeline, accepted, limit, report)
    for kind, words, option in (("payments", staged.payment_methods, "payment_methods"),
                                ("tax", staged.tax_names, None)):
        if kind in kinds:
            _concepts(kind, words, options.get(option, {}) if option else {}, staged, pipeline, accepted, limit,
                      report)
    if "payments" in kinds and staged.channels:
        _deposits(staged, options, pipeline, accepted, limit, report)
    if "customers" in kinds:
        report.suggestions += duplicate_customers(staged.customers, accepted, pipeline)
    return report


def _roles(staged: Staged, options: dict[str, Any], pipeline: str, accepted: AcceptedMappings, limit: int,
           report: SuggestReport) -> None:
    from ..settlements.options import parse_settlement_options

    table = parse_settlement_options(options).role_table()
    suggester = RoleSuggester(accepted=accepted, pipeline=pipeline)
    for (tt, at, desc), rows in sorted(staged.amount_rows.items()):
        if table.role_of(tt, at, desc) is not None:
            continue
        for s in suggester.suggest(tt or None, at or None, desc or None, limit):
            report.suggestions.append(Suggestion(s.kind, s.subject, s.target, s.confidence, s.reason,
                                                 {**s.context, "rows": rows}))


def _items(staged: Staged, options: dict[str, Any], pipeline: str, accepted: AcceptedMappings, limit: int,
           report: SuggestReport) -> None:
    if not staged.skus:
        return
    if not staged.ledger_items:
        report.notes.append("items: the ledger's item list is empty here (no items staged or looked up yet), so "
                            "SKUs cannot be matched; run a sync that posts orders, or a QuickBooks source with the "
                            "items stream, then ask again")
        return
    sku_map = (options.get("items") or {}).get("sku_map") or {}
    names = {compact(n) for n in staged.ledger_items}
    suggester = ItemSuggester(staged.ledger_items.values(), accepted, pipeline)
    for sku, title in sorted(staged.skus.items()):
        if sku in sku_map or compact(sku) in names:
            continue
        report.suggestions += suggester.suggest(sku, title, limit)


def _deposits(staged: Staged, options: dict[str, Any], pipeline: str, accepted: AcceptedMappings, limit: int,
              report: SuggestReport) -> None:
    """Each channel without a deposit account of its own: the ledger's accounts that read like its clearing
    account ("Amazon Clearing"), then QuickBooks' own holding account for receipts (Undeposited Funds)."""
    channels = options.get("channels") or {}
    todo = sorted(c for c in staged.channels if not (channels.get(c) or {}).get("deposit_account"))
    if not todo:
        return
    accounts = sorted(staged.ledger("Account"))
    if not accounts:
        report.notes.append("payments: the ledger has no accounts here (none staged or looked up yet), so no "
                            f"deposit account can be suggested for {', '.join(todo)}; run a sync, then ask again")
        return
    from rapidfuzz import fuzz, process

    from .scoring import Evidence
    from .text import plain

    plains = [plain(a) for a in accounts]
    for channel in todo:
        evidence = Evidence()
        for entry in accepted.of_kind("payments", pipeline):
            if entry.context.get("deposit_for") == channel:
                evidence.add(entry.target, 0.99, f"you accepted {entry.target!r} for {channel} deposits on {entry.day}")
        for _, score, i in process.extract(plain(f"{channel} clearing"), plains, scorer=fuzz.token_set_ratio,
                                           limit=3, score_cutoff=70):
            evidence.add(accounts[i], 0.9 * (score / 100) ** 2,
                         f"account {accounts[i]!r} reads like {channel}'s clearing account (fuzzy {score:.0f})")
        for i, name in enumerate(plains):
            if name == "undeposited funds":
                evidence.add(accounts[i], 0.6, "QuickBooks' holding account for receipts not yet banked")
        report.suggestions += evidence.ranked("payments", f"{channel} deposits", limit, {"deposit_for": channel})


def _concepts(kind: str, words: set[str], mapped: dict[str, str], staged: Staged, pipeline: str,
              accepted: AcceptedMappings, limit: int, report: SuggestReport) -> None:
    if not words:
        return
    ledger_kind = {"payments": "PaymentMethod", "tax": "TaxCode"}[kind]
    names = staged.ledger(ledger_kind)
    if not names:
        what = {"payments": "payment methods", "tax": "tax codes"}[kind]
        report.notes.append(f"{kind}: the ledger has no {what} here (none staged or looked up yet); "
                            f"{len(words)} channel name(s) wait for them")
        return
    suggester = ConceptSuggester(kind, names, accepted, pipeline)
    known = {compact(n) for n in names}
    for word in sorted(words):
        if word in mapped or compact(word) in known:
            continue
        report.suggestions += suggester.suggest(word, limit)


def suggest_for_pipeline(pipeline_file: str | Path, *, kinds: Iterable[str] = KINDS, limit: int = 3,
                         threshold: float = DEFAULT_THRESHOLD) -> SuggestReport:
    from ..pipeline import load_pipeline

    pipeline = load_pipeline(pipeline_file)
    options = dict(pipeline.destination.options)
    settlements = dict(options.get("settlements") or {})
    settlements.setdefault("base_dir", str(pipeline.base_dir))
    options["settlements"] = settlements
    accepted = AcceptedMappings.load(accepted_path(pipeline.base_dir))
    staged = read_staged(pipeline.state_path)
    return suggest_from(staged, options, pipeline=pipeline.name, accepted=accepted, kinds=kinds, limit=limit,
                        threshold=threshold)
