"""Helpers the fulfilment tests import (test folders are not packages: this module's name is unique in the suite).

The tests run the shipped pipelines themselves (copied out of the installed package), pointed at sandboxes on
loopback through the `${VAR}`s the files name, through `ledgerlink sync` as a user runs it.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Iterator

from click.testing import CliRunner

from ledgerlink.cli import cli
from ledgerlink.sandbox import running_app
from sandbox_helpers import amazon_env as _amazon_env, bigcommerce_env as _bigcommerce_env, new_sandbox, \
    sandbox_running, write_shipped

__all__ = ["shipped_pipeline", "sync", "dead_letters", "amazon_sandbox", "bigcommerce_sandbox", "amazon_env",
           "bigcommerce_env", "rows_of"]

_CONFIRM_PATH = "/orders/v0/orders/{orderId}/shipmentConfirmation"


def shipped_pipeline(name: str, folder: Path) -> Path:
    """A pipeline file exactly as `ledgerlink specs` ships it."""
    return write_shipped(folder, name)


def sync(pipeline: Path, env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """`ledgerlink sync PIPELINE --json`: the exit code and the report."""
    result = CliRunner().invoke(cli, ["sync", str(pipeline), "--json"], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def dead_letters(state: Path) -> list[dict[str, Any]]:
    """`ledgerlink dlq list STATE --json` (open letters)."""
    result = CliRunner().invoke(cli, ["dlq", "list", str(state), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@contextlib.contextmanager
def amazon_sandbox(orders: int = 300) -> Iterator[tuple[str, Any, Any]]:
    """(url, sandbox, writes): `writes.packages[order_id][packageReferenceId]` is each packageDetail Amazon
    accepted, as the sandbox recorded it (Amazon itself has no API that reads confirmations back)."""
    sandbox = new_sandbox("amazon_sp", orders=orders)
    app = sandbox.app()
    writes = next(r.endpoint.__self__ for r in app.routes if getattr(r, "path", "") == _CONFIRM_PATH)
    with running_app(app) as url:
        yield url, sandbox, writes


@contextlib.contextmanager
def bigcommerce_sandbox(orders: int = 150) -> Iterator[tuple[str, Any]]:
    """(url, sandbox): `sandbox.store.book` holds the orders, their products and shipments."""
    with sandbox_running("bigcommerce", orders=orders) as (url, sandbox):
        yield url, sandbox


def amazon_env(url: str, files: Path | str, state: Path) -> dict[str, str]:
    return {**_amazon_env(url), "SHIPMENT_FILES": str(files), "LEDGERLINK_STATE": str(state)}


def bigcommerce_env(url: str, files: Path | str, state: Path) -> dict[str, str]:
    return {**_bigcommerce_env(url), "BIGCOMMERCE_REQUESTS_PER_SECOND": "1000", "SHIPMENT_FILES": str(files),
            "LEDGERLINK_STATE": str(state)}


def rows_of(orders: list[Any]) -> int:
    """How many CSV rows `samples.write_shipments` writes for these orders (one per order line)."""
    return sum(len(o.lines) for o in orders)
