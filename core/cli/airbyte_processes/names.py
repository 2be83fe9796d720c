"""Which Airbyte connector process runs which ledgerlink connector, in which role, under which name.

The names follow Airbyte's (`source-<system>`, `destination-<system>`) with `ledgerlink` in them, so they never
clash with Airbyte's own connectors for the same systems. The table is the one place that knows them: the
console scripts, `connectors/<name>/metadata.yaml` and the Dockerfiles are checked against it by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ConnectorProcess", "ENTRY_POINTS", "by_command"]


@dataclass(frozen=True)
class ConnectorProcess:
    """One console script: `command` runs ledgerlink's `connector` as an Airbyte `role`."""

    command: str
    connector: str
    role: Literal["source", "destination"]
    #: what Airbyte's registry calls the connector
    title: str


ENTRY_POINTS: tuple[ConnectorProcess, ...] = (
    ConnectorProcess("source-ledgerlink-amazon-sp", "amazon_sp", "source", "Amazon Selling Partner (ledgerlink)"),
    ConnectorProcess("destination-ledgerlink-amazon-sp", "amazon_sp", "destination",
                     "Amazon Selling Partner (ledgerlink)"),
    ConnectorProcess("source-ledgerlink-bigcommerce", "bigcommerce", "source", "BigCommerce (ledgerlink)"),
    ConnectorProcess("destination-ledgerlink-bigcommerce", "bigcommerce", "destination", "BigCommerce (ledgerlink)"),
    ConnectorProcess("source-ledgerlink-qbo", "qbo", "source", "QuickBooks Online (ledgerlink)"),
    ConnectorProcess("destination-ledgerlink-qbo", "qbo", "destination", "QuickBooks Online (ledgerlink)"),
    ConnectorProcess("source-ledgerlink-qbd", "qb_desktop", "source", "QuickBooks Desktop (ledgerlink)"),
    ConnectorProcess("destination-ledgerlink-qbd", "qb_desktop", "destination", "QuickBooks Desktop (ledgerlink)"),
    ConnectorProcess("source-ledgerlink-files", "files", "source", "Files: CSV, TSV, JSON lines (ledgerlink)"),
)


def by_command(command: str) -> ConnectorProcess:
    """The entry point named `command` (KeyError naming the known ones otherwise)."""
    for entry in ENTRY_POINTS:
        if entry.command == command:
            return entry
    raise KeyError(f"no connector process named {command!r}; known: {', '.join(e.command for e in ENTRY_POINTS)}")
