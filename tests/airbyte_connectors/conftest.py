"""Fixtures for the Airbyte connector-process tests (helpers in airbyte_conn_helpers)."""

from __future__ import annotations

import pytest

from airbyte_conn_helpers import ProtocolSchema


@pytest.fixture(scope="session")
def protocol_schema() -> ProtocolSchema:
    """Airbyte's protocol schema, every message of every entry point is checked against."""
    return ProtocolSchema()
