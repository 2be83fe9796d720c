"""Fixtures of the `airbyte` source's tests: a store, one extract run, the reference Airbyte protocol schema, and
the real `airbyte-source-faker` (never skipped in CI)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from airbyte_fakes import REFERENCE_SCHEMA, faker_executable, manifest_executable


@pytest.fixture
def store(tmp_path):
    from ledgerlink.store import Store

    s = Store(tmp_path / "state.duckdb")
    yield s
    s.close()


@pytest.fixture
def read_into(store):
    """`read_into(config)`: one extract of the `orders` stream into the test's store; returns its counts."""
    from ledgerlink.plugins import host
    from ledgerlink.runtime.extract import extract

    def run(config: dict[str, Any], streams: list[str] | None = None) -> dict[str, Any]:
        source = host().connector("airbyte", "source")()
        source.parse_config(config)
        run_id = store.runs.start("airbyte-test", False)
        return extract(source, config, streams or ["orders"], store, run_id)

    return run


@pytest.fixture(scope="session")
def protocol_validator():
    """validate(message): the message against the reference Airbyte protocol schema (AirbyteMessage)."""
    yaml = pytest.importorskip("yaml")
    import jsonschema

    if not REFERENCE_SCHEMA.exists():
        pytest.skip(f"reference schema missing: {REFERENCE_SCHEMA}")
    schema = yaml.safe_load(REFERENCE_SCHEMA.read_text())
    root = {k: v for k, v in schema.items() if k not in ("properties", "type", "title")}
    root["$ref"] = "#/definitions/AirbyteMessage"
    validator = jsonschema.validators.validator_for(schema)(root)

    def validate(message: dict[str, Any]) -> None:
        errors = sorted(validator.iter_errors(message), key=str)
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)

    return validate


def _installed(found: Path | None, what: str) -> Path:
    if found is None:
        message = (f"{what} is not installed: python3 -m venv .venv-airbyte && .venv-airbyte/bin/pip install "
                   "airbyte-source-faker==7.2.1 (or set LEDGERLINK_AIRBYTE_FAKER)")
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)  # in CI `.ci/run` installs it: missing is a broken set-up, never a skip
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def source_faker() -> Path:
    """airbyte-source-faker's executable."""
    return _installed(faker_executable(), "airbyte-source-faker")


@pytest.fixture(scope="session")
def source_declarative_manifest() -> Path:
    """airbyte-cdk's `source-declarative-manifest` (installed with airbyte-source-faker)."""
    return _installed(manifest_executable(), "source-declarative-manifest (airbyte-cdk)")
