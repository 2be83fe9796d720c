"""The designer's test set-up: a served workspace of one fake pipeline (synced once, so records are staged and
posted), the docs' example third-party plugin installed beside the fakes, a user of each role, and a TestClient
over the console app (console_helpers)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs" / "plugin-example"))

from console_helpers import PASSWORD, Clock, Console, fakes  # noqa: E402
from ledgerlink.console import Workspace  # noqa: E402

SHOP = """# the shop's pipeline: a comment the designer must keep
name: shop
state: {state}
source:
  connector: fake_source
  config: {{orders: 3}}   # three orders
destination:
  connector: fake_dest
  config: {{}}
  options:
    # how the shop posts
    income_account: Sales
"""


@pytest.fixture
def designer_console(tmp_path: Path, monkeypatch: Any) -> Any:
    import ledgerlink_myshop.plugin as myshop

    host = fakes.fresh_host(tmp_path)
    host.register(myshop, name="myshop")
    ws_dir = tmp_path / "ws"
    ws_dir.mkdir()
    monkeypatch.chdir(ws_dir)  # new pipelines' state files are relative to the working directory, as under serve
    (ws_dir / "shop.yaml").write_text(SHOP.format(state=ws_dir / "shop.duckdb"))
    workspace = Workspace.open(ws_dir, host, every=None, debounce=0, announce=lambda line: None, clock=Clock())
    workspace.services["shop"]._run("test set-up")
    workspace.start()
    for role in ("viewer", "bookkeeper", "admin"):
        workspace.accounts.add(role, role, PASSWORD)
    console = Console(workspace, Clock())
    yield console
    workspace.stop()
