"""`ledgerlink suggest PIPELINE`: mapping suggestions for what the pipeline's staged data holds and its mappings
do not cover (settlement amounts → roles, SKUs → items, payment methods, tax names, duplicate customers), each
with its confidence and reason; `--apply ID...` writes only the ones a person confirmed."""

from __future__ import annotations

import click

from .. import jsonutil
from ..errors import ConfigError, LedgerlinkError
from .common import fail, rich_console

__all__ = ["suggest"]


@click.command()
@click.argument("pipeline")
@click.argument("apply_ids", nargs=-1, metavar="[ID]...")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(["roles", "items", "payments", "tax", "customers"]),
              help="Only these kinds (repeatable; default: all).")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.option("--limit", default=3, show_default=True, type=click.IntRange(1, 10), help="Suggestions per subject.")
@click.option("--threshold", default=None, type=click.FloatRange(0, 1), envvar="LEDGERLINK_SUGGEST_THRESHOLD",
              help="Auto-confidence: suggestions at or above it are marked `auto` (default 0.85).")
@click.option("--apply", "apply", is_flag=True,
              help="Apply the suggestions named by ID (from the table), which a person has confirmed.")
def suggest(pipeline: str, kinds: tuple[str, ...], as_json: bool, limit: int, threshold: float | None,
            apply: bool, apply_ids: tuple[str, ...]) -> None:
    """Suggest mappings for PIPELINE from its staged data, offline, each with a confidence and a reason;
    `--apply ID ...` applies the ones a person confirmed."""
    from ..suggest.apply import apply_suggestions
    from ..suggest.engine import DEFAULT_THRESHOLD, suggest_for_pipeline

    if bool(apply) != bool(apply_ids):
        click.echo("error: give --apply with the ids of the suggestions to apply (ledgerlink suggest PIPELINE "
                   "--apply ID ...)", err=True)
        raise SystemExit(2)
    try:
        report = suggest_for_pipeline(pipeline, kinds=kinds or ("roles", "items", "payments", "tax", "customers"),
                                      limit=limit, threshold=DEFAULT_THRESHOLD if threshold is None else threshold)
        if apply_ids:
            by_id = report.by_id()
            unknown = [i for i in apply_ids if i not in by_id]
            if unknown:
                raise ConfigError(f"no suggestion with id {', '.join(unknown)} for {pipeline}",
                                  hint="ids come from `ledgerlink suggest PIPELINE`; it may already be applied")
            subjects = [(by_id[i].kind, by_id[i].subject) for i in apply_ids]
            if len(set(subjects)) != len(subjects):
                raise ConfigError("two of the ids are suggestions for the same subject; choose one")
            done = apply_suggestions(pipeline, [by_id[i] for i in apply_ids])
            if as_json:
                click.echo(jsonutil.dumps({"applied": list(apply_ids), "done": done}, indent=2))
            else:
                for line in done:
                    click.echo(f"applied: {line}")
            return
    except LedgerlinkError as exc:
        fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps(report.to_dict(), indent=2))
        return
    _print(report, pipeline)


def _print(report, pipeline: str) -> None:  # type: ignore[no-untyped-def]
    from rich.table import Table

    console = rich_console()
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    if not report.suggestions:
        console.print("nothing to suggest: every amount, SKU, payment method and tax name staged is mapped")
        return
    table = Table("id", "kind", "channel says", "suggested", "confidence", "reason")
    for s in report.suggestions:
        mark = " [green]auto[/green]" if s.auto(report.threshold) else ""
        table.add_row(s.id, s.kind, s.subject, s.target, f"{s.confidence:.0%}{mark}", s.reason)
    console.print(table)
    console.print(f"apply the ones you confirm: ledgerlink suggest {pipeline} --apply ID ...", highlight=False)
