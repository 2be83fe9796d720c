"""Registers the built-in `airbyte` source (entry point `ledgerlink_airbyte_source.plugin`), as a third party would."""

from __future__ import annotations

from typing import Callable

from ledgerlink import hookimpl


@hookimpl
def register_connectors(register: Callable[[type], None]) -> None:
    from .source import AirbyteSource

    register(AirbyteSource)
