"""Bad input to suggestions: a malformed glossary or labelled set names its file and line; a damaged accepted
file says what to do; 10,000 SKUs against 10,000 items finish (no timing asserted: the benchmark reports it)."""

from __future__ import annotations

import pytest

from ledgerlink.errors import ConfigError
from ledgerlink.suggest.accepted import AcceptedMappings
from ledgerlink.suggest.glossary import load_glossary, load_glossary_file, shipped_glossary
from ledgerlink.suggest.items import ItemSuggester, LedgerItem
from ledgerlink.suggest.labelled import load_labelled
from ledgerlink.settlements.roles import Role

ROLES = [r.value for r in Role]


def test_shipped_glossaries_load():
    for kind in ("roles", "payments", "tax"):
        assert shipped_glossary(kind).entries


@pytest.mark.parametrize("text, line, words", [
    ("kind: roles\nentries:\n  - {code: A, words: a thing, role: sales}\n  - {code: B, words: b, role: nonsense}\n",
     4, "unknown role 'nonsense'"),
    ("kind: roles\nentries:\n  - {code: A, role: sales}\n", 3, "needs `code`, `words`"),
    ("kind: roles\nentries:\n  - {code: A, words: x, role: sales, colour: red}\n", 3, "unknown field 'colour'"),
    ("kind: roles\nentries:\n  - {code: A, words: x, role: sales}}\n", 3, "not valid YAML"),
])
def test_malformed_glossary_names_file_and_line(tmp_path, text, line, words):
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_glossary_file(path, targets=ROLES)
    assert f"{path}:{line}" in str(err.value)
    assert words in str(err.value)


def test_glossary_without_entries_is_named(tmp_path):
    with pytest.raises(ConfigError, match="mine.yaml:1.*`entries:`"):
        load_glossary("kind: roles\n", "mine.yaml")


def test_missing_glossary_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the glossary"):
        load_glossary_file(tmp_path / "absent.yaml")


@pytest.mark.parametrize("text, where, words", [
    ("rows:\n  - {sku: A, title: B, item: C}\n  - {sku: A, item: C}\n", ":3", "row has no 'title'"),
    ("rows:\n  - {sku: A, title: B, item: ''}\n", ":2", "row's 'item' is empty"),
    ("rows: []\n", ":1", "non-empty list `rows:`"),
    ("rows:\n  - [a, b]\n", "rows[0]", "is not a mapping"),
    ("rows:\n  - {sku: A, title: B, item: C}\n\t- b\n", ":3", "not valid YAML"),
])
def test_malformed_labelled_set_names_file_and_line(tmp_path, text, where, words):
    path = tmp_path / "set.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_labelled(path, fields=("sku", "title"), answer="item")
    assert str(path) in str(err.value) and where in str(err.value)
    assert words in str(err.value)


def test_damaged_accepted_file_says_what_to_do(tmp_path):
    path = tmp_path / "accepted.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="damaged") as err:
        AcceptedMappings.load(path)
    assert "move it aside" in (err.value.hint or "")


def test_no_ledger_items_means_no_suggestions_not_a_crash():
    assert ItemSuggester([]).suggest("SKU-1", "Widget") == []


@pytest.mark.slow
def test_ten_thousand_skus_against_ten_thousand_items():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from make_suggest_catalogue import catalogue

    ledger, listings = catalogue(7, 10_000)
    suggester = ItemSuggester([LedgerItem(i["name"], i["sku"]) for i in ledger])
    found = [suggester.suggest(row["sku"], row["title"], limit=1) for row in listings]
    assert len(found) == 10_000
    right = sum(1 for row, f in zip(listings, found) if f and f[0].target == row["item"])
    assert right / len(found) >= 0.75
