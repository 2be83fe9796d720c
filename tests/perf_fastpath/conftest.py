"""Shared set-up of the fast-path tests."""

from __future__ import annotations

import pytest

from ledgerlink.runtime import normalise


@pytest.fixture(autouse=True)
def fixed_split(monkeypatch) -> None:
    """The split of each batch between this process and the plan helper stays where a run starts (a run moves
    it by how long each process waited for the other: it plans alike, but the counts of what the helper
    planned would depend on timing). `test_perf_fastpath_overlap.py` moves it on purpose."""
    monkeypatch.setattr(normalise, "FIXED_SHARE", True)
