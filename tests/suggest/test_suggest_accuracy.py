"""The shipped labelled sets stay above the issue's goals: top-1 ≥ 90 % on amount descriptions and ≥ 95 %
precision above the auto-confidence threshold, for roles and for the noisy catalogue."""

from __future__ import annotations

from pathlib import Path

import yaml

from ledgerlink.suggest.engine import DEFAULT_THRESHOLD
from ledgerlink.suggest.items import ItemSuggester, LedgerItem
from ledgerlink.suggest.labelled import load_labelled, score
from ledgerlink.suggest.roles import RoleSuggester
from ledgerlink.suggest.text import compact

DATA = Path(__file__).parent / "data"
ROW_FIELDS = ("transaction_type", "amount_type", "amount_description")


def test_amount_descriptions_top1_and_precision_above_threshold():
    rows = load_labelled(DATA / "amount_descriptions.yaml", fields=ROW_FIELDS, answer="role")
    assert len(rows) >= 100
    assert len({r.fields.get("amount_description") for r in rows}) >= 80
    suggester = RoleSuggester()
    result = score(rows, lambda r: suggester.suggest(**r.fields), DEFAULT_THRESHOLD)
    assert result.top1 >= 0.90, result.misses
    assert result.top3 >= result.top1
    assert result.above >= 0.7 * result.rows  # the threshold leaves most rows pre-selected
    assert result.precision_above >= 0.95, result.misses


def test_languages_and_marketplaces_are_covered_and_scored():
    text = (DATA / "amount_descriptions.yaml").read_text()
    for language in ("en", "de", "fr", "es", "it", "ja", "api"):
        assert f"language: {language}," in text
    rows = [r for r in load_labelled(DATA / "amount_descriptions.yaml", fields=(*ROW_FIELDS, "language"),
                                     answer="role") if r.fields["language"] not in ("en", "api")]
    suggester = RoleSuggester()
    fields = lambda r: {k: r.fields[k] for k in ROW_FIELDS}  # noqa: E731
    assert score(rows, lambda r: suggester.suggest(**fields(r)), DEFAULT_THRESHOLD).top1 >= 0.9


def test_noisy_catalogue_top1_and_precision_above_threshold():
    data = yaml.safe_load((DATA / "catalogue.yaml").read_text())
    suggester = ItemSuggester([LedgerItem(i["name"], i["sku"]) for i in data["items"]])
    rows = load_labelled(DATA / "catalogue.yaml", fields=("sku", "title"), answer="item")
    # the set is noisy: most listings are not the item's name or SKU verbatim
    verbatim = sum(compact(r.fields["title"]) == compact(r.answer) for r in rows)
    assert verbatim < len(rows) / 2
    result = score(rows, lambda r: suggester.suggest(r.fields["sku"], r.fields["title"]), DEFAULT_THRESHOLD)
    assert result.top1 >= 0.90, result.misses[:10]
    assert result.precision_above >= 0.95, result.misses[:10]


def test_unseen_wording_is_rarely_preselected_wrongly():
    """Wording the glossary does not hold: top-1 is lower (a person picks among the three), but what crosses
    the threshold must still be right."""
    rows = load_labelled(DATA / "amount_descriptions_unseen.yaml", fields=ROW_FIELDS, answer="role")
    suggester = RoleSuggester()
    result = score(rows, lambda r: suggester.suggest(**r.fields), DEFAULT_THRESHOLD)
    assert result.top3 >= 0.8, result.misses
    assert result.precision_above >= 0.95, result.misses
