"""Registers the QuickBooks Online destination and sandbox with ledgerlink (entry point `ledgerlink_qbo.plugin`)."""

from __future__ import annotations

from typing import Callable

from ledgerlink import hookimpl


@hookimpl
def register_connectors(register: Callable[[type], None]) -> None:
    from .destination import QuickBooksOnlineDestination

    register(QuickBooksOnlineDestination)


@hookimpl
def register_sandboxes(register: Callable[[type], None]) -> None:
    from .sandbox import QuickBooksOnlineSandbox

    register(QuickBooksOnlineSandbox)
