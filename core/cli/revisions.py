"""`ledgerlink revisions ...`: posted documents held because their source or mapping changed since."""

from __future__ import annotations

from typing import Any

import click

from .. import jsonutil
from ..errors import LedgerlinkError
from ..plugins import host
from .common import fail, open_store, rich_console, served


@click.group()
def revisions() -> None:
    """Posted documents whose source or mapping changed since: held until you apply or discard them."""


def _pipeline_destination(pipeline_file: str) -> Any:
    from ..pipeline import load_pipeline

    pipeline = load_pipeline(pipeline_file)
    return pipeline, host().connector(pipeline.destination.connector, "destination")()


@revisions.command("list")
@click.argument("pipeline_or_state")
@click.option("--json", "as_json", is_flag=True)
def revisions_list(pipeline_or_state: str, as_json: bool) -> None:
    """What is held: each posted document whose new plan differs, with when it was first held."""
    from ..revisions import held_revisions

    try:
        if (client := served(pipeline_or_state)) is not None:
            held = client.held_revisions()
        else:
            store = open_store(pipeline_or_state)
            held = held_revisions(store)
            store.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps([h.to_dict(with_payloads=True) for h in held], indent=2))
        return
    from rich.table import Table

    table = Table("key", "stream", "posted as", "held since")
    for h in held:
        table.add_row(h.key, h.stream, h.destination_id or "-", h.held_at[:19])
    rich_console().print(table if held else "nothing held: every posted document matches its current plan")


@revisions.command("apply")
@click.argument("pipeline_file", type=click.Path())
@click.argument("keys", nargs=-1, required=True)
def revisions_apply(pipeline_file: str, keys: tuple[str, ...]) -> None:
    """Revise posted documents: queue a reversal and the new version (linked to the old); the next sync posts them."""
    from ..revisions import apply_revision

    try:
        if (client := served(pipeline_file)) is not None:
            for done in client.apply_revisions(list(keys)):
                click.echo(f"{done['key']}: queued {', '.join(done['queued'])} (posted by the next sync of serve)")
            return
        pipeline, destination = _pipeline_destination(pipeline_file)
        store = open_store(pipeline_file)
        try:
            for key in keys:
                queued = apply_revision(store, destination, key)
                click.echo(f"{key}: queued {', '.join(queued)} (posted by the next `ledgerlink sync`)")
        finally:
            store.close()
    except LedgerlinkError as exc:
        fail(exc)


@revisions.command("discard")
@click.argument("pipeline_or_state")
@click.argument("keys", nargs=-1, required=True)
def revisions_discard(pipeline_or_state: str, keys: tuple[str, ...]) -> None:
    """Keep what was posted and stop holding these new versions."""
    from ..revisions import discard_revision

    try:
        if (client := served(pipeline_or_state)) is not None:
            for done in client.discard_revisions(list(keys)):
                click.echo(f"{done['key']}: kept as posted")
            return
        store = open_store(pipeline_or_state)
        try:
            for key in keys:
                discard_revision(store, key)
                click.echo(f"{key}: kept as posted")
        finally:
            store.close()
    except LedgerlinkError as exc:
        fail(exc)
