"""Registers the BigCommerce plugin (entry point `ledgerlink_bigcommerce.plugin`): source, destination,
sandbox, the `ledgerlink bigcommerce webhooks` commands and the webhook receiver."""

from __future__ import annotations

from typing import Any, Callable

from ledgerlink import hookimpl

from .commands import bigcommerce_group
from .destination import BigCommerceDestination
from .sandbox import BigCommerceSandbox
from .source import BigCommerceSource
from .webhooks import webhook_app


@hookimpl
def register_connectors(register: Callable[[type], None]) -> None:
    # one name, two roles: the host keys connectors by (name, role)
    register(BigCommerceSource)
    register(BigCommerceDestination)


@hookimpl
def register_sandboxes(register: Callable[[type], None]) -> None:
    register(BigCommerceSandbox)


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_command(bigcommerce_group)


@hookimpl
def register_web_routes(register: Callable[..., None]) -> None:
    """The webhook receiver, mounted by `ledgerlink serve PIPELINE.yaml` at /webhooks/bigcommerce."""
    register("/webhooks/bigcommerce", webhook_app)
