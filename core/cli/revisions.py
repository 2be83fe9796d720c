"""`ledgerlink revisions ...`: posted documents held because their source or mapping changed since."""

from __future__ import annotations

from typing import Any

import click

from .. import jsonutil
from ..errors import LedgerlinkError
from ..plugins import host
from .common import fail, load_pipeline_file, open_store, rich_console, served


@click.group()
def revisions() -> None:
    """Posted documents whose source or mapping changed since: held until you apply or discard them."""


def _pipeline_destination(pipeline_file: str) -> Any:

    pipeline = load_pipeline_file(pipeline_file)
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


def _filters(f: Any) -> Any:
    """The selection of `--all`: document type(s) and the documents' date range."""
    f = click.option("--type", "doc_types", multiple=True, help="only this document type, e.g. SalesReceipt "
                     "(repeatable)")(f)
    f = click.option("--from", "since", type=click.DateTime(["%Y-%m-%d"]), help="only documents dated on or after")(f)
    f = click.option("--to", "until", type=click.DateTime(["%Y-%m-%d"]), help="only documents dated on or before")(f)
    return click.option("--all", "every", is_flag=True, help="every held revision (with the filters given)")(f)


def _chosen(held: list[Any], keys: tuple[str, ...], every: bool, doc_types: tuple[str, ...], since: Any,
            until: Any) -> list[str]:
    """The keys named, or with --all every held key the filters select; neither or both is a usage error."""
    from ..revisions import revision_matches

    if bool(keys) == bool(every):
        raise click.UsageError("name the KEYS to revise, or give --all (with --type/--from/--to to narrow it)")
    if (doc_types or since or until) and not every:
        raise click.UsageError("--type, --from and --to select with --all")
    if keys:
        return list(keys)
    return [h.key for h in held if revision_matches(h, streams=doc_types, since=since and since.date(),
                                                   until=until and until.date())]


@revisions.command("show")
@click.argument("pipeline_or_state")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True)
def revisions_show(pipeline_or_state: str, key: str, as_json: bool) -> None:
    """One held revision: each field that changed since the document was posted, posted value → new value."""
    from ..revisions import held_revisions, revision_diff

    try:
        if (client := served(pipeline_or_state)) is not None:
            found = [h for h in client.held_revisions() if h.key == key]
            changes = found[0].diff if found else []
        else:
            store = open_store(pipeline_or_state)
            try:
                found = held_revisions(store, key)
            finally:
                store.close()
            changes = revision_diff(found[-1]) if found else []
        if not found:
            raise LedgerlinkError(f"no held revision for {key!r}", hint="`ledgerlink revisions list` shows what is held")
    except LedgerlinkError as exc:
        fail(exc)
        return
    held = found[-1]
    if as_json:
        click.echo(jsonutil.dumps({**held.to_dict(), "changes": changes}, indent=2))
        return
    from rich.table import Table

    table = Table("field", "posted", "new", title=f"{held.key} ({held.stream}, posted as "
                                                 f"{held.destination_id or '-'}, held since {str(held.held_at)[:19]})")
    for c in changes:
        table.add_row(c["path"], "-" if c["old"] is None else str(c["old"]), "-" if c["new"] is None else str(c["new"]))
    rich_console().print(table if changes else f"{held.key}: only how it is written changed, not what it says")


@revisions.command("apply")
@click.argument("pipeline_file", type=click.Path())
@click.argument("keys", nargs=-1)
@_filters
def revisions_apply(pipeline_file: str, keys: tuple[str, ...], every: bool, doc_types: tuple[str, ...], since: Any,
                    until: Any) -> None:
    """Revise posted documents: queue a void or reversal and the new version (linked both ways); the next sync
    posts them. `--all` (narrowed by --type, --from, --to) revises every held document selected."""
    from ..revisions import apply_revision, held_revisions

    try:
        if (client := served(pipeline_file)) is not None:
            chosen = _chosen(client.held_revisions(), keys, every, doc_types, since, until)
            for done in client.apply_revisions(chosen) if chosen else []:
                click.echo(f"{done['key']}: queued {', '.join(done['queued'])} (posted by the next sync of serve)")
            if not chosen:
                click.echo("nothing held matches")
            return
        pipeline, destination = _pipeline_destination(pipeline_file)
        store = open_store(pipeline_file)
        try:
            chosen = _chosen(held_revisions(store), keys, every, doc_types, since, until)
            for key in chosen:
                queued = apply_revision(store, destination, key)
                click.echo(f"{key}: queued {', '.join(queued)} (posted by the next `ledgerlink sync`)")
            if not chosen:
                click.echo("nothing held matches")
        finally:
            store.close()
    except LedgerlinkError as exc:
        fail(exc)


@revisions.command("discard")
@click.argument("pipeline_or_state")
@click.argument("keys", nargs=-1)
@_filters
def revisions_discard(pipeline_or_state: str, keys: tuple[str, ...], every: bool, doc_types: tuple[str, ...],
                      since: Any, until: Any) -> None:
    """Keep what was posted and stop holding these new versions (`--all` with the same filters as apply)."""
    from ..revisions import discard_revision, held_revisions

    try:
        if (client := served(pipeline_or_state)) is not None:
            chosen = _chosen(client.held_revisions(), keys, every, doc_types, since, until)
            for done in client.discard_revisions(chosen) if chosen else []:
                click.echo(f"{done['key']}: kept as posted")
            if not chosen:
                click.echo("nothing held matches")
            return
        store = open_store(pipeline_or_state)
        try:
            chosen = _chosen(held_revisions(store), keys, every, doc_types, since, until)
            for key in chosen:
                discard_revision(store, key)
                click.echo(f"{key}: kept as posted")
            if not chosen:
                click.echo("nothing held matches")
        finally:
            store.close()
    except LedgerlinkError as exc:
        fail(exc)


@revisions.command("repost")
@click.argument("pipeline_file", type=click.Path())
@click.argument("key")
@click.option("--deleted", is_flag=True, help="the ledger cannot be read back: you checked it was deleted there")
def revisions_repost(pipeline_file: str, key: str, deleted: bool) -> None:
    """Post again a document deleted by hand in the ledger (`reconcile` lists them): the same payload under a new
    key whose note names the deleted one; the next sync posts it. Once: a second repost is refused."""
    from ..connectors import WriteContext
    from ..revisions import repost_deleted

    try:
        if served(pipeline_file) is not None:
            raise LedgerlinkError("`ledgerlink serve` holds this pipeline: stop it to repost, then start it again",
                                  hint="serve's next sync posts what was queued")
        pipeline, destination = _pipeline_destination(pipeline_file)
        store = open_store(pipeline_file)
        try:
            from ..store.shared_credentials import share_credentials

            share_credentials(store, pipeline.credentials_path)  # the company's latest token, as a sync reads it
            config = destination.parse_config(pipeline.destination.config, where="destination.config")
            context = WriteContext(references=store.references(destination.name),
                                   save_credential=store.credentials.save, load_credential=store.credentials.load)
            new_key = repost_deleted(store, destination, key, config=config, context=context, confirmed=deleted)
            click.echo(f"{key}: queued {new_key} (posted by the next `ledgerlink sync`)")
        finally:
            store.close()
    except LedgerlinkError as exc:
        fail(exc)
