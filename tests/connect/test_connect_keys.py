"""Where the key that encrypts stored tokens lives (the environment, a named file, a legacy file beside the state,
else the user's own key file outside every workspace), and that state files and credential stores are readable by
their owner only."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from ledgerlink.errors import ConfigError
from ledgerlink.secrets import SECRET_KEY_ENV, SECRET_KEY_FILE_ENV, secret_key, user_key_file
from ledgerlink.store import Store
from ledgerlink.store.shared_credentials import SharedCredentials


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_without_a_key_in_the_environment_the_key_lives_outside_the_workspace(tmp_path: Path) -> None:
    beside = tmp_path / "ws" / ".ledgerlink" / "shop.key"
    key = secret_key(beside)
    assert not beside.exists()  # nothing beside the state: a copy of the workspace reveals nothing
    assert user_key_file().read_bytes() == key and mode(user_key_file()) == 0o600
    assert mode(user_key_file().parent) == 0o700
    assert secret_key(tmp_path / "other" / "x.key") == key  # one key for this user's workspaces


def test_the_environment_wins_then_a_named_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_key = Fernet.generate_key()
    monkeypatch.setenv(SECRET_KEY_ENV, env_key.decode())
    assert secret_key(tmp_path / "s.key") == env_key
    monkeypatch.delenv(SECRET_KEY_ENV)
    named = tmp_path / "mounted" / "ledgerlink.key"
    monkeypatch.setenv(SECRET_KEY_FILE_ENV, str(named))
    made = secret_key(tmp_path / "s.key")
    assert named.read_bytes() == made and mode(named) == 0o600 and not user_key_file().exists()
    named.write_text("too short")
    with pytest.raises(ConfigError, match="is 9 characters long") as info:
        secret_key(tmp_path / "s.key")
    assert "too short" not in str(info.value)


def test_a_key_file_beside_the_state_still_decrypts_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    legacy = tmp_path / "old.key"
    legacy.write_bytes(Fernet.generate_key())
    with caplog.at_level(logging.WARNING, logger="ledgerlink.secrets"):
        assert secret_key(legacy) == legacy.read_bytes()
    assert "whoever can read that folder can decrypt" in caplog.text and str(legacy) in caplog.text


def test_an_unwritable_home_falls_back_beside_the_state_with_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the config folder should be")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocked))
    beside = tmp_path / "state.key"
    with caplog.at_level(logging.WARNING, logger="ledgerlink.secrets"):
        key = secret_key(beside)
    assert beside.read_bytes() == key and mode(beside) == 0o600
    assert "cannot write the user key file" in caplog.text


def test_state_files_and_credential_stores_are_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "fresh" / ".ledgerlink"
    store = Store(folder / "shop.duckdb")
    store.credentials.save("qbo:1:refresh_token", "RT1-a-secret-token")
    store.close()
    assert mode(folder) == 0o700 and mode(folder / "shop.duckdb") == 0o600
    assert all(mode(p) & 0o077 == 0 for p in folder.iterdir())  # the WAL too, while it exists

    old = tmp_path / "old.duckdb"
    Store(old).close()
    os.chmod(old, 0o644)  # made by an earlier version, under a lax umask
    Store(old).close()
    assert mode(old) == 0o600

    shared = SharedCredentials(tmp_path / "shared" / "team.credentials")
    shared.save("qbo:1:refresh_token", "RT1-another-secret")
    assert mode(shared.path) == 0o600 and b"RT1-another-secret" not in shared.path.read_bytes()
    assert shared.load("qbo:1:refresh_token") == "RT1-another-secret"
