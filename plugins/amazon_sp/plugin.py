"""Registers the Amazon SP-API source, destination (shipment confirmations, FBM quantities) and sandbox with
ledgerlink (entry point `ledgerlink_amazon_sp.plugin`)."""

from __future__ import annotations

from typing import Callable

from ledgerlink import hookimpl

from .destination import AmazonSellingPartnerDestination
from .sandbox import AmazonSandbox
from .source import AmazonSellingPartnerSource


@hookimpl
def register_connectors(register: Callable[[type], None]) -> None:
    register(AmazonSellingPartnerSource)
    register(AmazonSellingPartnerDestination)


@hookimpl
def register_sandboxes(register: Callable[[type], None]) -> None:
    register(AmazonSandbox)
