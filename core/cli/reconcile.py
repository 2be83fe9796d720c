"""`ledgerlink reconcile`: prove the books; exit 5 when anything is off."""

from __future__ import annotations

import sys

import click

from .. import jsonutil
from ..errors import ConfigError, LedgerlinkError
from .common import EXIT_DIFFERENCES, fail, rich_console, served


@click.command()
@click.argument("pipeline_file", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="The findings as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="The findings as CSV (one row each).")
@click.option("--offline", is_flag=True, help="Check only the local state; do not read the ledger back.")
@click.option("--check", "only", multiple=True, help="Run only this check (repeatable).")
def reconcile(pipeline_file: str, as_json: bool, as_csv: bool, offline: bool, only: tuple[str, ...]) -> None:
    """Prove the books: what was not posted, what differs, what is on hold. Exit 5 when anything is off."""
    from ..pipeline import load_pipeline
    from ..reconcile import CHECKS, open_context
    from ..reconcile import reconcile as run_checks

    unknown = [c for c in only if c not in CHECKS]
    if unknown:
        fail(ConfigError(f"no reconcile check named {', '.join(unknown)}", hint=f"checks: {', '.join(CHECKS)}"))
        return
    try:
        if (client := served(pipeline_file)) is not None:
            report = client.reconcile(offline, list(only))
        else:
            ctx = open_context(load_pipeline(pipeline_file), remote=not offline)
            try:
                report = run_checks(ctx, only or None)
            finally:
                ctx.store.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps(report.to_dict(), indent=2))
    elif as_csv:
        click.echo(report.to_csv(), nl=False)
    else:
        from rich.table import Table

        if report.ok:
            rich_console().print(f"[green]{report.pipeline}: everything ties[/green] ({', '.join(report.checks)})")
        else:
            table = Table("check", "what", "finding", "expected", "actual", "what to do")
            for f in report.findings:
                table.add_row(f.check, f.subject, f.message, f.expected or "", f.actual or "", f.hint or "")
            rich_console().print(table)
        if report.in_review:
            table = Table("in review", "what", "", "what to do", title="held in review (not differences)")
            for f in report.in_review:
                table.add_row(f.check, f.subject, f.message, f.hint or "")
            rich_console().print(table)
        for name, why in report.skipped.items():
            rich_console().print(f"[dim]{name}: skipped ({why})[/dim]")
    sys.exit(0 if report.ok else EXIT_DIFFERENCES)
