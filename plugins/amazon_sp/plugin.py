"""Registers the Amazon SP-API source and sandbox with ledgerlink (entry point `ledgerlink_amazon_sp.plugin`)."""

from __future__ import annotations

from typing import Callable

from ledgerlink import hookimpl

from .sandbox import AmazonSandbox
from .source import AmazonSellingPartnerSource


@hookimpl
def register_connectors(register: Callable[[type], None]) -> None:
    register(AmazonSellingPartnerSource)


@hookimpl
def register_sandboxes(register: Callable[[type], None]) -> None:
    register(AmazonSandbox)
