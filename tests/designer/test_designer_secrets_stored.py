"""A secret typed into the designer's new-pipeline form goes to the workspace's encrypted credential store; the
pipeline file on disk names it (`${secret:…}`) and never holds it, yet the pipeline loads, checks and runs with it."""

from __future__ import annotations

import pytest

from ledgerlink import ConfigError, load_pipeline
from ledgerlink.connect.accounts import workspace_credentials_path
from ledgerlink.store.shared_credentials import SharedCredentials

FIELDS = {"name": "tiny", "source": "fake_source", "destination": "tiny_ledger", "destination.token": "good-token",
          "source.api_key": "shop-key-1234", "source.orders": 2, "destination.mode": "live"}


def _raw_bytes(folder):
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file() and p.suffix in (".yaml", ".sqlite"))


def test_the_typed_secrets_are_stored_encrypted_and_the_file_holds_references(designer_console):
    root = designer_console.workspace.root
    client = designer_console.with_token("bookkeeper")
    response = client.post("/api/v1/designer/pipelines", json={"fields": FIELDS, "save": True})
    assert response.status_code == 200 and response.json()["saved"], response.text
    text = (root / "tiny.yaml").read_text()
    assert "good-token" not in text and "shop-key-1234" not in text
    assert "token: ${secret:pipeline:tiny:destination.token}" in text
    assert "api_key: ${secret:pipeline:tiny:source.api_key}" in text
    assert b"good-token" not in _raw_bytes(root) and b"shop-key-1234" not in _raw_bytes(root)  # encrypted at rest
    store = SharedCredentials(workspace_credentials_path(root))
    assert store.load("pipeline:tiny:destination.token") == "good-token"
    assert store.connection("pipeline", "tiny")["names"] == ["pipeline:tiny:destination.token",
                                                          "pipeline:tiny:source.api_key"]
    pipeline = load_pipeline(root / "tiny.yaml")  # the loader puts the stored value back
    assert pipeline.destination.config["token"] == "good-token" and pipeline.source.config["api_key"] == "shop-key-1234"
    served = designer_console.workspace.services["tiny"]  # served at once, with the stored secret
    assert served.pipeline.destination.config["token"] == "good-token"


def test_a_reference_to_nothing_is_a_clear_error_naming_the_key(tmp_path):
    (tmp_path / "p.yaml").write_text("name: p\nsource: {connector: fake_source, config: {}}\n"
                                     "destination: {connector: fake_dest, config: {token: '${secret:pipeline:p:x}'}}\n")
    with pytest.raises(ConfigError) as caught:
        load_pipeline(tmp_path / "p.yaml")
    assert caught.value.where == "destination.config.token"
    assert "${secret:pipeline:p:x} is not in the workspace's credential store" in caught.value.message


def test_a_failing_save_stores_no_secret(designer_console, monkeypatch):
    from ledgerlink.designer import actions

    def broken(path, text, templates=None, env=None):
        raise ConfigError("disk full", where="file")

    monkeypatch.setattr(actions, "save_pipeline", broken)
    client = designer_console.with_token("bookkeeper")
    response = client.post("/api/v1/designer/pipelines", json={"fields": FIELDS, "save": True})
    assert response.status_code == 400 and not (designer_console.workspace.root / "tiny.yaml").exists()
    path = workspace_credentials_path(designer_console.workspace.root)
    if path.exists():
        store = SharedCredentials(path)
        assert store.load("pipeline:tiny:destination.token") is None and store.connection("pipeline", "tiny") is None


def test_a_variable_typed_as_the_secret_stays_a_variable(designer_console, monkeypatch):
    monkeypatch.setenv("TINY_TOKEN", "good-token")
    client = designer_console.with_token("bookkeeper")
    response = client.post("/api/v1/designer/pipelines",
                           json={"fields": {**FIELDS, "destination.token": "${TINY_TOKEN}"}, "save": False})
    assert response.status_code == 200
    assert "token: ${TINY_TOKEN}" in response.json()["diff"]
