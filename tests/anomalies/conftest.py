"""The anomaly tests' shared set-ups: a served workspace (the console tests' fake pipelines, synced once) with a
user of each role, and the shipped Amazon settlements pipeline synced for real against the sandboxes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))

from console_helpers import PASSWORD, Clock, Console, fakes, write_pipeline  # noqa: E402


@pytest.fixture
def served_shop(tmp_path: Path) -> Any:
    """A workspace holding pipeline `shop` (3 fake orders, order 1 refused for its missing SKU), synced once."""
    from ledgerlink.console import Workspace

    host = fakes.fresh_host(tmp_path)
    ws_dir = tmp_path / "ws"
    ws_dir.mkdir()
    write_pipeline(ws_dir, "shop", orders=3, no_sku=[1])
    workspace = Workspace.open(ws_dir, host, every=None, debounce=0, announce=lambda line: None, clock=Clock())
    workspace.services["shop"]._run("test set-up")
    workspace.start()
    for role in ("viewer", "bookkeeper", "admin"):
        workspace.accounts.add(role, role, PASSWORD)
    yield Console(workspace, Clock())
    workspace.stop()


@pytest.fixture
def settlements_synced(tmp_path: Path, monkeypatch: Any) -> Any:
    """The shipped amazon-settlements-to-qbo pipeline synced once against both sandboxes (its ${VARS} also in the
    process environment, so the CLI loads the same pipeline); yields the pipeline file."""
    from ledgerlink.pipeline import load_pipeline
    from ledgerlink.runtime import sync
    from sandbox_helpers import amazon_env, qbo_env, sandbox_running, write_shipped

    with sandbox_running("amazon_sp", orders=40) as (amazon, _), sandbox_running("qbo") as (qbo, _):
        pipeline_file = write_shipped(tmp_path, "amazon-settlements-to-qbo.yaml")
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon),
               **qbo_env(qbo, batch_per_minute="40000")}
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        report = sync(load_pipeline(pipeline_file, env=env))
        assert report.status == "succeeded", report.errors
        yield pipeline_file
