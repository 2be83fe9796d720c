"""Shared by the bad-input corpus tests (test_inputs_*.py): a clean pipeline (3PL files → BigCommerce), ways to
write a broken copy of it, and `ledgerlink sync` through click's runner with what a user would see."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml
from click.testing import CliRunner

from ledgerlink.cli import cli
from ledgerlink.plugins import host
from ledgerlink.sandbox import running

__all__ = ["CLOSED_URL", "good_pipeline", "write_pipeline", "run_sync", "Outcome", "bigcommerce_store",
           "assert_clear_error", "HEADER"]

#: nothing listens on the discard port: a case that wrongly got past validation fails fast, never hangs
CLOSED_URL = "http://127.0.0.1:9"
HEADER = "Order #,Tracking,Carrier,Ship Date,SKU,Qty\n"


def good_pipeline(state: Path, files: str, url: str = CLOSED_URL) -> dict[str, Any]:
    """The clean pipeline as a YAML tree: mutate a copy, dump it, and it is a bad one."""
    return {
        "version": 1, "name": "hardening", "state": str(state),
        "source": {"connector": "files", "config": {"streams": [{
            "name": "shipments", "path": files, "normalise": "shipments",
            "columns": {"order_id": "Order #", "tracking_number": "Tracking", "carrier": "Carrier",
                        "shipped_at": "Ship Date", "sku": "SKU", "quantity": "Qty"}}]}},
        "destination": {"connector": "bigcommerce", "config": {
            "base_url": url, "store_hash": "abc123", "access_token": "sandbox-bigcommerce-token",
            "requests_per_second": 1000}},
    }


def write_pipeline(path: Path, content: dict[str, Any] | str | bytes) -> Path:
    if isinstance(content, dict):
        content = yaml.safe_dump(content, sort_keys=False, allow_unicode=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


@dataclass
class Outcome:
    code: int
    output: str
    exception: BaseException | None


def run_sync(path: Path, env: dict[str, str] | None = None, *args: str) -> Outcome:
    result = CliRunner().invoke(cli, ["sync", str(path), *args], env=env)
    text = result.output + (result.stderr if result.stderr_bytes is not None and result.stderr not in result.output
                            else "")
    return Outcome(result.exit_code, text, result.exception)


def assert_clear_error(outcome: Outcome, *names: str) -> None:
    """Exit 2, no traceback, an `error:` line that names every one of `names`, and a clean process."""
    assert outcome.exception is None or isinstance(outcome.exception, SystemExit), \
        f"crashed: {outcome.exception!r}\n{outcome.output}"
    assert outcome.code == 2, outcome.output
    assert "Traceback" not in outcome.output, outcome.output
    lines = [ln for ln in outcome.output.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, outcome.output
    for name in names:
        assert name in lines[0], f"{name!r} not named in: {lines[0]}"


@contextlib.contextmanager
def bigcommerce_store(orders: int = 12) -> Iterator[str]:
    sandbox = host().sandboxes()["bigcommerce"](orders=orders, time_scale=1000)
    with running(sandbox) as url:
        yield url


def report(outcome: Outcome) -> dict[str, Any]:
    return json.loads(outcome.output[outcome.output.index("{"):])
