"""Oracle: Amazon's own settlement reports (../shared/reference, read here, never shipped). For every kind of
amount in them that the shipped role table knows, the glossary-based suggestion — made *without* the role
table — names the same role, so the two independently written sources agree on real data."""

from __future__ import annotations

import csv

from ledgerlink.settlements import default_role_table
from ledgerlink.suggest.roles import RoleSuggester
from ledgerlink.suggest.staged import V1_DESCRIBED_BY


def _triples(path):
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    out = set()
    for values in rows[1:]:  # the first row is the settlement's summary
        tt = values.get("transaction-type") or ""
        for column, described_by in V1_DESCRIBED_BY.items():
            if values.get(column):
                out.add((tt, column, (values.get(described_by) or "") if described_by else ""))
    return out


def test_glossary_agrees_with_the_role_table_on_real_reports(reference_dir):
    files = sorted((reference_dir / "amazon-sp-api" / "settlement-reports").glob("*.txt"))
    assert files
    triples = set().union(*(_triples(f) for f in files))
    table, suggester = default_role_table(), RoleSuggester()
    known = [(t, table.role_of(*t)) for t in triples if table.role_of(*t) is not None]
    assert len(known) >= 5
    disagree = []
    for (tt, at, desc), role in known:
        found = suggester.suggest(tt or None, at or None, desc or None)
        if not found or found[0].target != role.value:
            disagree.append(((tt, at, desc), role.value, [s.target for s in found]))
    assert len(disagree) <= len(known) * 0.1, disagree
