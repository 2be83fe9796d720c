"""The designer's test set-up: a served workspace of one fake pipeline (synced once, so records are staged and
posted), the docs' example third-party plugin installed beside the fakes, a user of each role, and a TestClient
over the console app (console_helpers)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs" / "plugin-example"))

import designer_plugin  # noqa: E402
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

    from ledgerlink.console import passwords

    monkeypatch.setattr(passwords, "_N", 2 ** 10)  # sign-ins here test the designer, not the password KDF

    host = fakes.fresh_host(tmp_path)
    host.register(myshop, name="myshop")
    host.register(designer_plugin, name="tiny")
    ws_dir = tmp_path / "ws"
    ws_dir.mkdir()
    monkeypatch.chdir(ws_dir)  # new pipelines' state files are relative to the working directory, as under serve
    (ws_dir / "shop.yaml").write_text(SHOP.format(state=ws_dir / "shop.duckdb"))
    workspace = Workspace.open(ws_dir, host, every=None, debounce=0, announce=lambda line: None, clock=Clock())
    workspace.services["shop"]._run("test set-up")
    _stage_words(workspace.services["shop"].store)
    workspace.start()
    for role in ("viewer", "bookkeeper"):
        workspace.accounts.add(role, role, PASSWORD)
    console = DesignerConsole(workspace, Clock())
    yield console
    workspace.stop()


def _stage_words(store: Any) -> None:
    """What the grids show: settlement rows (one no rule names), a channel SKU whose ledger item is named
    otherwise, and the ledger's names the destination has looked up."""
    settlement = {"format": "V2", "rows": [
        {"line": 2, "values": {"transaction-type": "Order", "amount-type": "ItemPrice",
                               "amount-description": "Principal"}},
        {"line": 3, "values": {"transaction-type": "other-transaction", "amount-type": "other-transaction",
                               "amount-description": "Lagergebühren"}}]}
    listing = {"SellerSKU": "wid_blu_2", "Title": "Widget, Blue (Pack of 2)"}
    store.raw.stage("settlements", ["s1"], [None], [json.dumps(settlement)], [None], None)
    store.raw.stage("listings", ["wid_blu_2"], [None], [json.dumps(listing)], [None], None)
    refs = store.references("fake_dest")
    refs.put("Item", "Widget Blue 2-Pack", "1")
    refs.put("Account", "Amazon Storage", "5")
    refs.put("Account", "Checking", "6")


class DesignerConsole(Console):
    def shop_file(self) -> Path:
        return self.workspace.root / "shop.yaml"

    def receipt_template(self) -> str:
        return fakes.RECEIPT
