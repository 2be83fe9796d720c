"""Registers the Amazon SP-API source, destination (shipment confirmations, FBM quantities), sandbox, the
`ledgerlink amazon notifications` commands and the notification receiver with ledgerlink (entry point
`ledgerlink_amazon_sp.plugin`)."""

from __future__ import annotations

from typing import Any, Callable

from ledgerlink import hookimpl

from .commands import amazon_group
from .destination import AmazonSellingPartnerDestination
from .sandbox import AmazonSandbox
from .source import AmazonSellingPartnerSource
from .webhooks import webhook_app


@hookimpl
def register_connectors(register: Callable[[type], None]) -> None:
    register(AmazonSellingPartnerSource)
    register(AmazonSellingPartnerDestination)


@hookimpl
def register_sandboxes(register: Callable[[type], None]) -> None:
    register(AmazonSandbox)


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_command(amazon_group)


@hookimpl
def register_web_routes(register: Callable[..., None]) -> None:
    """The notification receiver, mounted by `ledgerlink serve PIPELINE.yaml` at /webhooks/amazon (EventBridge
    API destinations POST there; the fleet's console routes `/fleet/webhooks/amazon` to it)."""
    register("/webhooks/amazon", webhook_app)
