"""Alerts test set-up: a workspace folder with an alerts.yaml the test writes, the channels' secrets in the
environment, a clock the tests move, and loopback servers (see alerts_helpers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts_helpers import SMTP_PASSWORD, WEBHOOK_SECRET, Clock, WebhookReceiver


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", WEBHOOK_SECRET)


@pytest.fixture
def receiver(clock: Clock) -> Any:
    with WebhookReceiver(clock) as r:
        yield r


@pytest.fixture
def write_rules(tmp_path: Path) -> Any:
    """Write `alerts.yaml` into the workspace folder (tmp_path/ws) from a dict; returns the folder."""
    folder = tmp_path / "ws"
    folder.mkdir(exist_ok=True)

    def write(rules: dict[str, Any]) -> Path:
        (folder / "alerts.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
        return folder

    return write
