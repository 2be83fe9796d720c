"""`ledgerlink alerts ...`: try a channel, see the alert outbox, and send what is due — from any shell, while
`serve` runs or not (the outbox is SQLite: a claim makes sure one sender sends each message)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from .. import jsonutil
from ..errors import ConfigError, LedgerlinkError
from .common import EXIT_FAILED, fail, rich_console

_WORKSPACE = click.option("--workspace", default=".", show_default=True, type=click.Path(),
                          help="The workspace folder (its alerts.yaml holds the rules, .ledgerlink/alerts.db the outbox).")


def _open(workspace: str, *, need_rules: bool) -> Any:
    from ..alerts import WorkspaceAlerts, alerts_path

    if not Path(workspace).is_dir():
        raise ConfigError(f"workspace {workspace} is not a folder", where="--workspace",
                          hint="name the folder holding your pipeline files and alerts.yaml")
    if need_rules and not alerts_path(workspace).exists():
        raise ConfigError(f"there are no alert rules: {alerts_path(workspace)} does not exist",
                          hint="write one (see the alerts guide) or create it on the console's Alerts page")
    return WorkspaceAlerts(workspace)


def _when(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


@click.group()
def alerts() -> None:
    """Alerts: send a test on a channel, list the outbox, send what is pending."""


@alerts.command("test")
@click.argument("channels", nargs=-1)
@_WORKSPACE
def alerts_test(channels: tuple[str, ...], workspace: str) -> None:
    """Check the rules and send a test message on each named channel (all of them when none is named)."""
    from ..alerts import DeliveryError

    try:
        engine = _open(workspace, need_rules=True)
    except LedgerlinkError as exc:
        fail(exc)
        return
    failed = 0
    try:
        names = list(channels) or list(engine.config.channels)
        for name in names:
            try:
                engine.send_test(name)
                click.echo(f"{name}: test message sent ({engine.config.channels[name].target()})")
            except DeliveryError as exc:
                failed += 1
                click.echo(f"{name}: not sent: {exc.message}", err=True)
    except LedgerlinkError as exc:
        engine.stop()
        fail(exc)
        return
    engine.stop()
    sys.exit(EXIT_FAILED if failed else 0)


@alerts.command("list")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "failed", "all"]), default="all",
              show_default=True)
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The messages (with their events) as JSON.")
@_WORKSPACE
def alerts_list(status: str, limit: int, as_json: bool, workspace: str) -> None:
    """The alert messages, newest first, and how many events wait for their digest."""
    from ..alerts import alerts_db_path, alerts_path

    if Path(workspace).is_dir() and not alerts_path(workspace).exists() and not alerts_db_path(workspace).exists():
        click.echo(f"no alerts in {workspace}: there is no {alerts_path(workspace).name} (see the alerts guide)")
        return
    try:
        engine = _open(workspace, need_rules=False)
    except LedgerlinkError as exc:
        fail(exc)
        return
    try:
        messages = engine.outbox.messages(None if status == "all" else status, limit)
        counts = engine.outbox.counts()
        waiting = engine.outbox.waiting()
    finally:
        engine.stop()
    if as_json:
        click.echo(jsonutil.dumps({"counts": counts, "waiting": [{"channel": q.channel, "queued_at": q.queued_at,
                                                                  **q.event.to_dict()} for q in waiting],
                                   "messages": [m.to_dict() for m in messages]}, indent=2))
        return
    from rich.table import Table

    console = rich_console()
    if engine.error:
        console.print(f"[red]alerts.yaml is not in effect: {engine.error}[/red]", highlight=False)
    table = Table("id", "channel", "status", "events", "attempts", "created (UTC)", "sent / next try (UTC)", "last error")
    for m in messages:
        table.add_row(str(m.id), m.channel, m.status, "; ".join(e.title for e in m.events[:3])
                      + (f" (+{len(m.events) - 3})" if len(m.events) > 3 else ""), str(m.attempts),
                      _when(m.created_at), _when(m.sent_at if m.status == "sent" else m.next_attempt_at),
                      m.last_error or "")
    console.print(table)
    console.print(f"{counts['waiting']} event(s) waiting for a digest; {counts['pending']} message(s) pending, "
                  f"{counts['sent']} sent, {counts['failed']} failed", highlight=False)


@alerts.command("send-pending")
@click.option("--retry-failed", is_flag=True, help="Give messages that failed for good a fresh set of attempts.")
@click.option("--json", "as_json", is_flag=True)
@_WORKSPACE
def alerts_send_pending(retry_failed: bool, as_json: bool, workspace: str) -> None:
    """Compose due digests and send every due message now (exit 1 when a send failed)."""
    try:
        engine = _open(workspace, need_rules=True)
    except LedgerlinkError as exc:
        fail(exc)
        return
    try:
        revived = engine.outbox.retry_failed(engine.clock()) if retry_failed else 0
        report = engine.send_pending()
    finally:
        engine.stop()
    if as_json:
        click.echo(jsonutil.dumps({**report.to_dict(), "revived": revived}, indent=2))
    else:
        click.echo(f"sent {report.sent}, retrying later {report.retrying}, failed {report.failed}, "
                   f"held for quiet hours {report.held}" + (f" (revived {revived} failed)" if revived else ""))
        for line in report.errors:
            click.echo(f"  {line}", err=True)
    sys.exit(EXIT_FAILED if report.errors else 0)
