"""`ledgerlink plugins`: what is installed (named so as not to shadow `ledgerlink.plugins`, the plugin host)."""

from __future__ import annotations

import json

import click

from ..plugins import host
from .common import rich_console


@click.command()
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
def plugins(as_json: bool) -> None:
    """List installed plugins with their versions, connectors and sandboxes."""
    infos = host().plugins()
    if as_json:
        click.echo(json.dumps([i.__dict__ for i in infos], indent=2))
        return
    from rich.table import Table

    table = Table("plugin", "distribution", "version", "connectors", "sandboxes", "mapping filters")
    for i in infos:
        if i.error:
            table.add_row(f"[red]{i.name}[/red]", i.distribution or "-", i.version or "-",
                          "[red]failed to load[/red]", "-", "-")
            continue
        table.add_row(i.name, i.distribution or "-", i.version or "-", ", ".join(i.connectors) or "-",
                      ", ".join(i.sandboxes) or "-", ", ".join(i.filters) or "-")
    rich_console().print(table)
    for i in infos:
        if i.error:
            rich_console().print(f"[red]{i.error}[/red]")
