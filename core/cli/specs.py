"""`ledgerlink specs` (hidden): regenerate the checked-in specs/ folder."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(hidden=True)
@click.option("--out", default="specs", show_default=True, type=click.Path())
def specs(out: str) -> None:
    """Regenerate the checked-in specs/ (protocol and connector schemas, default mappings, pipelines)."""
    from ..specgen import write_specs

    for path in write_specs(Path(out)):
        click.echo(path)
