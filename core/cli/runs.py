"""`ledgerlink runs`: a pipeline's run history."""

from __future__ import annotations

import click

from .. import jsonutil
from ..errors import LedgerlinkError
from ..runtime import status_lines
from .common import fail, open_store, rich_console, served


@click.command()
@click.argument("pipeline_or_state")
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def runs(pipeline_or_state: str, limit: int, as_json: bool) -> None:
    """Run history: when, how long, what was read and written, how it ended."""
    try:
        if (client := served(pipeline_or_state)) is not None:
            history, status = client.runs(limit), client.status_lines()
        else:
            store = open_store(pipeline_or_state)
            history = store.runs.list(limit)
            status = status_lines(pipeline_or_state, store)
            store.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps(history, indent=2))
        return
    from rich.table import Table

    table = Table("run", "started", "status", "read", "planned", "created", "dead letters", "seconds")
    for r in history:
        c = r["counts"]
        secs = r.get("seconds")
        table.add_row(str(r["id"]), r["started_at"][:19], r["status"] + (" (dry)" if r["dry_run"] else ""),
                      str(c.get("read_total", 0)), str(c.get("planned_new", 0)),
                      str(sum((c.get("created") or {}).values())), str(c.get("dead_letters_open", 0)),
                      "" if secs is None else f"{secs:.1f}")
    rich_console().print(table)
    for line in status:
        click.echo(line)
