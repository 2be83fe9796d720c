"""Registers the QuickBooks Online source, destination and sandbox with ledgerlink (entry point
`ledgerlink_qbo.plugin`)."""

from __future__ import annotations

from typing import Any, Callable

from ledgerlink import hookimpl


@hookimpl
def register_connectors(register: Callable[[type], None]) -> None:
    from .destination import QuickBooksOnlineDestination
    from .source import QuickBooksOnlineSource

    # both are named `qbo`: the host keys connectors by name and role
    register(QuickBooksOnlineSource)
    register(QuickBooksOnlineDestination)


@hookimpl
def register_sandboxes(register: Callable[[type], None]) -> None:
    from .sandbox import QuickBooksOnlineSandbox

    register(QuickBooksOnlineSandbox)


@hookimpl
def register_web_routes(register: Callable[..., Any]) -> None:
    """The webhook receiver, mounted by `ledgerlink serve PIPELINE.yaml` at /webhooks/qbo."""
    from .webhooks import webhook_app

    register("/webhooks/qbo", webhook_app)
