from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import fakes  # noqa: E402

from ledgerlink.pipeline import Pipeline  # noqa: E402
from ledgerlink.plugins import PluginHost  # noqa: E402


@pytest.fixture
def fake_host(tmp_path) -> PluginHost:
    return fakes.fresh_host(tmp_path)


@pytest.fixture
def make_pipeline(tmp_path):
    def make(**source_config) -> Pipeline:
        return Pipeline.model_validate({
            "name": "fake", "state": str(tmp_path / "state.duckdb"),
            "source": {"connector": "fake_source", "config": source_config},
            "destination": {"connector": "fake_dest", "config": {}},
            "base_dir": str(tmp_path)})
    return make
