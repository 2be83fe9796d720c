"""Registers the built-in `files` source (entry point `ledgerlink.files.plugin`), as a third party would."""

from __future__ import annotations

from typing import Callable

from ledgerlink import hookimpl


@hookimpl
def register_connectors(register: Callable[[type], None]) -> None:
    from .source import FilesSource

    register(FilesSource)
