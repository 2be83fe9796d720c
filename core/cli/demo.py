"""`ledgerlink demo`: the built-in sandboxes and a step per flow, then reconcile."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import jsonutil
from ..errors import LedgerlinkError
from .common import EXIT_FAILED, fail, rich_console


@click.command()
@click.option("--orders", type=click.IntRange(1, 100_000), default=300, show_default=True, help="Orders the Amazon sandbox is seeded with.")
@click.option("--dir", "workdir", default=".ledgerlink/demo", show_default=True, type=click.Path(),
              help="Where the demo's state file goes (emptied first).")
@click.option("--steps", default=None, help="Run only these steps, comma-separated (e.g. order_to_cash,returns); "
                                             "default: every flow, then reconcile.")
@click.option("--json", "as_json", is_flag=True)
def demo(orders: int, workdir: str, steps: str | None, as_json: bool) -> None:
    """Start the built-in sandboxes and run a step per flow (orders, order to cash, returns, inventory,
    settlements, fulfilment, stores), then reconcile the books; each step prints what it did."""
    from ..demo import print_demo, run_demo

    try:
        wanted = [n.strip() for n in steps.split(",") if n.strip()] if steps else None
        result = run_demo(orders=orders, workdir=Path(workdir), steps=wanted)
    except LedgerlinkError as exc:
        fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps(result, indent=2))
    else:
        print_demo(result, rich_console())
    sys.exit(EXIT_FAILED if result["status"] != "succeeded" else 0)
