"""`ledgerlink dlq ...`: the dead-letter queue of a pipeline's state file."""

from __future__ import annotations

import sys

import click

from .. import jsonutil
from ..errors import LedgerlinkError
from .common import EXIT_USAGE, fail, open_store, rich_console, served


@click.group()
def dlq() -> None:
    """The dead-letter queue: list, show, retry and discard records that could not go through."""


@dlq.command("list")
@click.argument("pipeline_or_state")
@click.option("--all", "show_all", is_flag=True, help="Include retried, discarded and resolved letters.")
@click.option("--json", "as_json", is_flag=True)
def dlq_list(pipeline_or_state: str, show_all: bool, as_json: bool) -> None:
    """List dead letters (open ones by default)."""
    try:
        if (client := served(pipeline_or_state)) is not None:
            letters = client.dead_letters(show_all)
        else:
            store = open_store(pipeline_or_state)
            letters = store.dead_letters.list(status=None if show_all else "open")
            store.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps([d.to_dict() for d in letters], indent=2))
        return
    from rich.table import Table

    table = Table("id", "stage", "stream", "record", "kind", "message", "status")
    for d in letters:
        table.add_row(str(d.id), d.stage, d.stream or "-", d.record_key or "-", d.error_kind, d.message, d.status)
    rich_console().print(table if letters else "no dead letters")


@dlq.command("show")
@click.argument("pipeline_or_state")
@click.argument("letter_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def dlq_show(pipeline_or_state: str, letter_id: int, as_json: bool) -> None:
    """Show one dead letter: what failed, why, what to do, and the record."""
    try:
        if (client := served(pipeline_or_state)) is not None:
            letter = client.dead_letter(letter_id)
        else:
            store = open_store(pipeline_or_state)
            letter = store.dead_letters.get(letter_id)
            store.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    if letter is None:
        click.echo(f"error: no dead letter {letter_id}", err=True)
        sys.exit(EXIT_USAGE)
    if as_json:
        click.echo(jsonutil.dumps(letter.to_dict(), indent=2))
        return
    console = rich_console()
    console.print(f"[bold]dead letter {letter.id}[/bold] ({letter.status}) — {letter.stage} stage, run {letter.run_id}")
    console.print(f"record: {letter.stream or '-'} / {letter.record_key or '-'}")
    console.print(f"error:  {letter.error_type} ({letter.error_kind}): {letter.message}")
    if letter.hint:
        console.print(f"[green]what to do:[/green] {letter.hint}")
    if letter.record is not None:
        console.print_json(jsonutil.dumps(letter.record))


@dlq.command("retry")
@click.argument("pipeline_or_state")
@click.argument("letter_ids", type=int, nargs=-1)
@click.option("--all", "retry_all", is_flag=True, help="Retry every open dead letter.")
def dlq_retry(pipeline_or_state: str, letter_ids: tuple[int, ...], retry_all: bool) -> None:
    """Queue dead letters to go through again on the next sync (after you fixed the cause)."""
    try:
        if (client := served(pipeline_or_state)) is not None:
            for done in client.retry(list(letter_ids), retry_all):
                click.echo(f"{done['id']}: {done['result']}")
            return
        store = open_store(pipeline_or_state)
        letters = store.dead_letters.list("open") if retry_all else [store.dead_letters.get(i) for i in letter_ids]
        for i, letter in zip(letter_ids or [d.id for d in letters], letters):
            if letter is None:
                click.echo(f"no dead letter {i}", err=True)
                continue
            what = store.requeue(letter)
            click.echo(f"{letter.id}: {what}")
        store.close()
    except LedgerlinkError as exc:
        fail(exc)


@dlq.command("discard")
@click.argument("pipeline_or_state")
@click.argument("letter_ids", type=int, nargs=-1, required=True)
def dlq_discard(pipeline_or_state: str, letter_ids: tuple[int, ...]) -> None:
    """Give up on dead letters on purpose (they stay in the history as discarded)."""
    try:
        if (client := served(pipeline_or_state)) is not None:
            for done in client.discard(list(letter_ids)):
                click.echo(f"{done['id']}: {done['result']}")
            return
        store = open_store(pipeline_or_state)
        for i in letter_ids:
            if store.dead_letters.get(i) is None:
                click.echo(f"no dead letter {i}", err=True)
                continue
            store.dead_letters.set_status(i, "discarded")
            click.echo(f"{i}: discarded")
        store.close()
    except LedgerlinkError as exc:
        fail(exc)
