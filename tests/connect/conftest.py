"""The connect tests' set-up: their own user key folder (XDG_CONFIG_HOME), so the key that encrypts the
workspace's credential store is made and read there, not in the developer's home."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True)
def _own_key_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    for var in ("LEDGERLINK_SECRET_KEY", "LEDGERLINK_SECRET_KEY_FILE", "LEDGERLINK_CONNECT_REDIRECT_URI"):
        monkeypatch.delenv(var, raising=False)
