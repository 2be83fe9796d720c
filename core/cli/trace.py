"""`ledgerlink trace`: from a staged source row to the documents (and lines) it was posted in."""

from __future__ import annotations

import click

from .. import jsonutil
from ..errors import LedgerlinkError
from .common import fail, open_store, rich_console, served


@click.command()
@click.argument("pipeline_or_state")
@click.argument("stream")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True)
def trace(pipeline_or_state: str, stream: str, key: str, as_json: bool) -> None:
    """Follow a staged source row to the documents (and lines) it was posted in."""
    try:
        if (client := served(pipeline_or_state)) is not None:
            found = client.trace(stream, key)
        else:
            store = open_store(pipeline_or_state)
            found = store.trace(stream, key)
            store.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps(found, indent=2))
        return
    from rich.table import Table

    table = Table("document key", "line", "type", "status", "destination id", "version")
    for t in found:
        table.add_row(t["key"], "-" if t["line"] is None else str(t["line"]), t["stream"], t["status"],
                      t["destination_id"] or "-", t["version"] or "-")
    rich_console().print(table if found else f"no posting traces back to {stream}/{key}")
