"""Bad input in every option group of every built-in destination: an unknown key, a wrong type, an out-of-range
number and a misspelt choice are each refused with the key path and, for a misspelling, a did-you-mean."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from options_cases import BUILTIN_DESTINATIONS, all_cases, builtin_options_models, cases_for, groups  # noqa: E402

from ledgerlink import OptionsError, check_options  # noqa: E402

CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_option_is_refused_naming_its_key(case):
    model = builtin_options_models()[case.connector]
    with pytest.raises(OptionsError) as err:
        check_options(model, case.raw, where="destination.options")
    problems = err.value.problems
    assert [p.path for p in problems] == [case.path], [str(p) for p in problems]
    text = str(problems[0])
    assert any(word in text for word in case.expect), text
    if case.kind in ("unknown_key", "bad_choice"):
        assert all(word in text for word in case.expect), text  # the did-you-mean too


def test_every_group_of_every_builtin_destination_has_its_cases():
    """Each group gets an unknown key and a wrong type; the shared sections are reached in both QuickBooks
    destinations, the stock section in the channels' too."""
    for name, model in builtin_options_models().items():
        kinds: dict[str, set[str]] = {}
        for case in cases_for(name, model):
            kinds.setdefault(case.group, set()).add(case.kind)
        assert len(kinds) == len(groups(model)), name
        assert all({"unknown_key", "wrong_type"} <= found for found in kinds.values()), (name, kinds)
        assert "inventory" in kinds
    for ledger in ("qbo", "qb_desktop"):
        found = {c.group for c in CASES if c.connector == ledger}
        assert {"settlements", "returns", "inventory", "reconcile", "tax", "items", "documents[0].when"} <= found
    assert {c.connector for c in CASES} == set(BUILTIN_DESTINATIONS)


@pytest.mark.parametrize("connector", BUILTIN_DESTINATIONS)
def test_every_wrong_key_of_a_pipeline_is_listed_at_once(connector):
    """One unknown key in each group: the error names all of them, not only the first."""
    model = builtin_options_models()[connector]
    merged: dict = {}
    unknown = [c for c in cases_for(connector, model) if c.kind == "unknown_key"]
    for case in unknown:
        _merge(merged, case.raw)
    with pytest.raises(OptionsError) as err:
        check_options(model, merged, where="destination.options")
    assert sorted(p.path for p in err.value.problems) == sorted(c.path for c in unknown)
    first_line = str(err.value).splitlines()[0]
    assert all(c.path in first_line for c in unknown), first_line  # the first line names every key


def _merge(into: dict, raw: dict) -> None:
    for key, value in raw.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif isinstance(value, list) and isinstance(into.get(key), list):
            for i, item in enumerate(value):
                if i < len(into[key]) and isinstance(item, dict):
                    _merge(into[key][i], item)
        else:
            into[key] = value
