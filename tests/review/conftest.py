from __future__ import annotations

import sys
from pathlib import Path

import pytest

# the in-memory source and destination of the runtime tests (tests/runtime/fakes.py)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))

import fakes  # noqa: E402

from ledgerlink.pipeline import Pipeline  # noqa: E402


@pytest.fixture
def fake_host(tmp_path):
    return fakes.fresh_host(tmp_path)


@pytest.fixture
def make_pipeline(tmp_path):
    """A fake pipeline with a review mode, its source config as keywords."""
    def make(review: str = "always", **source_config) -> Pipeline:
        return Pipeline.model_validate({
            "name": "fake", "state": str(tmp_path / "state.duckdb"), "review": review,
            "source": {"connector": "fake_source", "config": source_config},
            "destination": {"connector": "fake_dest", "config": {}},
            "base_dir": str(tmp_path)})
    return make
