"""`ledgerlink sync`: run a pipeline once, with progress bars on a terminal and a summary table (or JSON)."""

from __future__ import annotations

import logging
import shlex
import sys
from typing import Any

import click

from .. import jsonutil
from ..errors import LedgerlinkError
from ..logs import json_logs_on_stdout, log_context
from .common import EXIT_DEAD_LETTERS, EXIT_FAILED, fail, load_pipeline_file, rich_console, served

log = logging.getLogger("ledgerlink.sync")


def _progress_callback(enabled: bool):
    import contextlib

    if not enabled:
        return contextlib.nullcontext(None)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    @contextlib.contextmanager
    def bars():
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:>8} rows"),
                      TimeElapsedColumn(), console=rich_console(stderr=True), transient=True) as prog:
            tasks: dict[str, Any] = {}

            def update(stage: str, advance: int = 1, total: int | None = None) -> None:
                if stage not in tasks:
                    tasks[stage] = prog.add_task(stage, total=total)
                prog.update(tasks[stage], advance=advance)
            yield update
    return bars()


def _print_sync(report: Any, pipeline_file: str) -> None:
    from rich.table import Table

    c = report.counts
    table = Table(title=f"{report.pipeline}: run {report.run_id}{' (dry run)' if report.dry_run else ''} "
                        f"— {report.status}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for stream, n in sorted((c.get("read") or {}).items()):
        table.add_row(f"records read: {stream}", str(n))
    for kind, n in sorted((c.get("objects") or {}).items()):
        table.add_row(f"canonical {kind}s", str(n))
    table.add_row("not in a posting status", str(c.get("not_posted", 0)))
    table.add_row("planned (new / unchanged)", f"{c.get('planned_new', 0)} / {c.get('planned_unchanged', 0)}")
    if c.get("changed_after_posting"):
        table.add_row("changed after posting (held)", str(c["changed_after_posting"]))
    if report.dry_run:
        for stream, info in sorted(report.would_write.items()):
            table.add_row(f"would write: {stream}", str(info["count"]))
    else:
        for stream, n in sorted((c.get("created") or {}).items()):
            table.add_row(f"created: {stream}", str(n))
        for stream, n in sorted((c.get("already_there") or {}).items()):
            table.add_row(f"already there: {stream}", str(n))
        table.add_row("references resolved", str(c.get("references", 0)))
        if c.get("retry_later"):
            table.add_row("retry on next sync", str(c["retry_later"]))
        if c.get("blocked"):
            table.add_row("waiting on a failed reference", str(c["blocked"]))
    if c.get("awaiting_approval"):
        table.add_row("awaiting approval (not written)" if report.dry_run else "awaiting approval",
                      str(c["awaiting_approval"]))
    table.add_row("dead letters open", str(c.get("dead_letters_open", 0)))
    table.add_row("state file", report.state_path)
    console = rich_console()
    console.print(table)
    for err in report.errors:
        console.print(f"[red]error:[/red] {err}")
    for wait in report.waiting:
        console.print(f"[yellow]waiting:[/yellow] {wait['stream']} waits for {wait['for']} until {wait['until']}; "
                      "the next sync picks it up (no new request)", highlight=False)
    if c.get("dead_letters_open"):
        console.print(f"see them with [bold]ledgerlink dlq list {shlex.quote(pipeline_file)}[/bold]", highlight=False)
    if c.get("awaiting_approval"):
        quoted = shlex.quote(pipeline_file)
        console.print(f"{c['awaiting_approval']} document(s) await approval before they post: "
                      f"[bold]ledgerlink review list {quoted}[/bold], then [bold]ledgerlink review approve {quoted}[/bold]",
                      highlight=False)


@click.command()
@click.argument("pipeline_file", type=click.Path())
@click.option("--dry-run", is_flag=True, help="Read, normalise and plan; show what would be written; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.option("--replan", is_flag=True, help="Plan every staged record again (done by itself when the posting "
                                              "rules change); posted documents whose plan changed are held.")
@click.option("--wait-in-run-seconds", "wait_in_run_s", type=click.FloatRange(0), metavar="SECONDS",
              help="Wait at most this long in this run for a report a remote prepares (Amazon's reports); a longer "
                   "wait is saved and the run ends 'waiting' (exit 6), the next sync picks it up. Default: wait.")
def sync(pipeline_file: str, dry_run: bool, as_json: bool, replan: bool, wait_in_run_s: float | None) -> None:
    """Run a pipeline: read → stage → normalise → post → reconcile counts.

    SIGTERM or Ctrl-C finishes the batch in hand and exits 143 (130 for Ctrl-C); a second one exits sooner."""
    from ..runtime import stop
    from ..runtime import sync as run_sync

    if (client := served(pipeline_file)) is not None:
        _run_now(client, pipeline_file, dry_run, replan, as_json)
        return
    restore = stop.install_signal_handlers()
    try:
        pipeline = load_pipeline_file(pipeline_file)
        with _progress_callback(sys.stderr.isatty() and not as_json and not json_logs_on_stdout()) as progress:
            report = run_sync(pipeline, dry_run=dry_run, replan=replan, wait_in_run_s=wait_in_run_s,
                              **({"progress": progress} if progress else {}))
    except LedgerlinkError as exc:
        fail(exc)
        return
    except stop.StopNow:
        log.warning("sync stopped at once on a second signal: every batch sent was recorded, what was committed "
                    "stands, and the next sync resumes from there")
        sys.exit(stop.stop_exit_code())
    finally:
        restore()
    if json_logs_on_stdout():
        # stdout holds JSON lines only: the summary is one of them
        with log_context(pipeline=report.pipeline, run_id=report.run_id):
            log.log(logging.WARNING if report.status != "succeeded" else logging.INFO, "run %s: %s",
                    report.run_id, report.status, extra={"fields": {"report": report.to_dict()}})
        if as_json:
            click.echo(jsonutil.dumps(report.to_dict()))
        sys.exit(report.exit_code)
    if as_json:
        click.echo(jsonutil.dumps(report.to_dict(), indent=2))
    else:
        _print_sync(report, pipeline_file)
        if dry_run:
            for stream, info in sorted(report.would_write.items()):
                rich_console().print(f"[bold]{stream}[/bold] example:")
                rich_console().print_json(jsonutil.dumps(info["examples"][0]))
    sys.exit(report.exit_code)


def _run_now(client: Any, pipeline_file: str, dry_run: bool, replan: bool, as_json: bool) -> None:
    """`sync` of a pipeline `serve` holds: ask serve to run it now, wait for that run, print it."""
    from ..errors import ConfigError

    if dry_run or replan:
        fail(ConfigError(f"{'--dry-run' if dry_run else '--replan'} cannot run while `ledgerlink serve` holds "
                         f"{pipeline_file}", hint="stop serve first, or leave the option out to run it now"))
        return
    try:
        run = client.run_now()
    except LedgerlinkError as exc:
        fail(exc)
        return
    c = run.get("counts") or {}
    if as_json:
        click.echo(jsonutil.dumps(run, indent=2))
    else:
        click.echo(f"{client.pipeline}: run {run.get('id')} by serve — {run.get('status')}: read "
                   f"{c.get('read_total', 0)}, planned {c.get('planned_new', 0)}, posted "
                   f"{sum((c.get('created') or {}).values())}, dead letters open {c.get('dead_letters_open', 0)}"
                   + (f", awaiting approval {c['awaiting_approval']}" if c.get("awaiting_approval") else ""))
        if run.get("error"):
            rich_console().print(f"[red]error:[/red] {run['error']}")
    sys.exit(EXIT_FAILED if run.get("status") == "failed" else EXIT_DEAD_LETTERS if c.get("dead_letters_open")
             else 0)
