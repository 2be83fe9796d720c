"""What the console tests share (a module name unique in the suite): a workspace of fake pipelines from
tests/runtime/fakes, a clock the tests move, and ways to call the console app as each kind of caller."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))

import fakes  # noqa: E402

from ledgerlink.console import Workspace  # noqa: E402
from ledgerlink.console.app import build_console_app  # noqa: E402

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def write_pipeline(folder: Path, name: str, orders: int = 4, no_sku: list[int] | None = None) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\nstate: {folder / (name + '.duckdb')}\n"
                    f"source: {{connector: fake_source, config: {{orders: {orders}, no_sku: {no_sku or []}}}}}\n"
                    "destination: {connector: fake_dest, config: {}}\n")
    return path


def receipt_key(i: int) -> str:
    """The outbox key of the fake source's order i's receipt."""
    return f"Receipt:fake/order/O-{i:04d}"


class Console:
    """A served workspace and ways to call it as each kind of caller."""

    def __init__(self, workspace: Workspace, clock: Clock):
        self.workspace, self.clock = workspace, clock
        self.app = build_console_app(workspace)
        self.anonymous = TestClient(self.app)

    def signed_in(self, name: str, password: str = PASSWORD) -> tuple[TestClient, str]:
        client = TestClient(self.app)
        response = client.post("/api/v1/session", json={"name": name, "password": password})
        assert response.status_code == 200, response.text
        return client, response.json()["csrf_token"]

    def with_token(self, role: str) -> TestClient:
        _, secret = self.workspace.tokens.create(f"{role}-script", role)
        return TestClient(self.app, headers={"Authorization": f"Bearer {secret}"})

    @property
    def shop(self) -> Any:
        return self.workspace.services["shop"]
