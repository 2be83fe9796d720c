"""Each built-in connector as an Airbyte connector process.

`source-ledgerlink-amazon-sp read --config c.json --catalog k.json` is what Airbyte (the platform, PyAirbyte,
or a person at a shell) runs; it answers exactly as `ledgerlink read amazon_sp ...` does, because it is that
command with the connector and its role fixed. One console script per connector and role (`names.py`),
Airbyte's own command line (`process.py`), logs as LOG messages (`logs.py`).
"""

from __future__ import annotations

from .names import ENTRY_POINTS, ConnectorProcess, by_command
from .process import run_connector

__all__ = ["ENTRY_POINTS", "ConnectorProcess", "by_command", "run_connector"]
