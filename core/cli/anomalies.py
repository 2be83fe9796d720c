"""`ledgerlink anomalies PIPELINE`: run the anomaly checks and list what they found, in words, with the rows
behind each finding and the threshold it crossed; `--acknowledge`/`--snooze` record a person's decision.
Exit 1 when any finding is open, 2 on bad input. Goes through `ledgerlink serve` when it holds the pipeline."""

from __future__ import annotations

import sys
from datetime import date

import click

from .. import jsonutil
from ..errors import ConfigError, LedgerlinkError
from .common import EXIT_FAILED, fail, load_pipeline_file, rich_console, served

__all__ = ["anomalies"]

_COLOURS = {"critical": "red", "warning": "yellow", "info": "cyan"}


@click.command()
@click.argument("pipeline_file", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@click.option("--check", "only", multiple=True, metavar="NAME", help="Run only this check (repeatable).")
@click.option("--threshold", "thresholds", multiple=True, metavar="CHECK.FIELD=VALUE",
              help="Override a threshold for this run, e.g. referral_fee_drift.threshold=4 (repeatable).")
@click.option("--acknowledge", "acknowledge", multiple=True, metavar="FINGERPRINT",
              help="Acknowledge these findings (they stay quiet when found again).")
@click.option("--snooze", "snooze", multiple=True, metavar="FINGERPRINT", help="Snooze these findings (with --until).")
@click.option("--until", "until", default=None, metavar="YYYY-MM-DD", help="The day a snooze ends.")
@click.option("--by", "by", default=None, help="Who decides (default: your login name).")
@click.option("--note", default=None, help="Why (kept with the decision).")
def anomalies(pipeline_file: str, as_json: bool, only: tuple[str, ...], thresholds: tuple[str, ...],
              acknowledge: tuple[str, ...], snooze: tuple[str, ...], until: str | None, by: str | None,
              note: str | None) -> None:
    """Anomaly checks accountants value over PIPELINE's staged data and postings. Exit 1 when any is open."""
    from ..anomalies import AnomalyReport, check_names, parse_thresholds

    try:
        names = check_names(only or None)
        overlay = parse_thresholds(list(thresholds), where="--threshold")
        if acknowledge or snooze:
            _decide(pipeline_file, acknowledge, snooze, until, by, note, as_json)
            return
        if until is not None:
            raise ConfigError("--until goes with --snooze", where="--until")
        if (client := served(pipeline_file)) is not None:
            report = AnomalyReport.from_dict(client.post("/anomalies/run", {"checks": list(only),
                                                                             "thresholds": _flat(overlay)}))
        else:
            from ..anomalies import run_anomalies, with_thresholds

            pipeline = load_pipeline_file(pipeline_file)
            report = run_anomalies(with_thresholds(pipeline, overlay) if overlay else pipeline, checks=names)
    except LedgerlinkError as exc:
        fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps(report.to_dict(), indent=2))
    else:
        _print(report)
    sys.exit(EXIT_FAILED if report.open else 0)


def _flat(overlay: dict) -> dict:
    return {f"{check}.{key}": value for check, fields in overlay.items() for key, value in fields.items()}


def _decide(pipeline_file: str, acknowledge: tuple[str, ...], snooze: tuple[str, ...], until: str | None,
            by: str | None, note: str | None, as_json: bool) -> None:
    import getpass

    if acknowledge and snooze:
        raise ConfigError("give --acknowledge or --snooze, not both", where="--acknowledge")
    if snooze and until is None:
        raise ConfigError("--snooze needs --until YYYY-MM-DD", where="--until")
    ends = None
    if snooze:
        try:
            ends = date.fromisoformat(str(until))
        except ValueError:
            raise ConfigError(f"--until {until!r} is not a date", where="--until", hint="e.g. 2026-12-31") from None
    action, fps = ("snooze", list(snooze)) if snooze else ("acknowledge", list(acknowledge))
    who = by or getpass.getuser()
    if (client := served(pipeline_file)) is not None:
        body = {"fingerprints": fps, "note": note, "by": who}
        if ends:
            body["until"] = ends.isoformat()
        done = client.post(f"/anomalies/{action}", body)
    else:
        from ..anomalies import decide_findings

        done = [f.to_dict() for f in decide_findings(load_pipeline_file(pipeline_file), fps, action, who,
                                                     until=ends, note=note)]
    if as_json:
        click.echo(jsonutil.dumps(done, indent=2))
        return
    for f in done:
        extra = f" until {str(f['snoozed_until'])[:10]}" if f.get("snoozed_until") else ""
        click.echo(f"{f['fingerprint']}: {f['status']}{extra} ({f['check']}: {f['subject']})")


def _print(report) -> None:  # type: ignore[no-untyped-def]
    from rich.table import Table

    console = rich_console()
    shown = [f for f in report.findings if f.status in ("open", "snoozed", "acknowledged")]
    if shown:
        table = Table("fingerprint", "status", "severity", "check", "about", "what we found", "threshold", "rows")
        for f in sorted(shown, key=lambda f: (f.status != "open", ("critical", "warning", "info").index(f.severity))):
            colour = _COLOURS.get(f.severity, "white")
            status = f.status + (f" until {str(f.snoozed_until)[:10]}" if f.status == "snoozed" else "")
            table.add_row(f.fingerprint, status, f"[{colour}]{f.severity}[/{colour}]", f.check, f.subject,
                          f.explanation + (f"\n[dim]what to do: {f.what_to_do}[/dim]" if f.what_to_do else ""),
                          f"{f.threshold}\n[dim]{f.measured}[/dim]", str(len(f.rows)))
        console.print(table)
    opened = len(report.open)
    colour = "red" if opened else "green"
    console.print(f"[{colour}]{report.pipeline}: {opened} open finding(s); "
                  f"{len(report.passed)} check(s) found nothing[/{colour}]", highlight=False)
    for name, why in report.not_applicable.items():
        console.print(f"[dim]  {name}: not applicable: {why}[/dim]", highlight=False)
    for name, why in report.failed.items():
        console.print(f"[red]  {name}: could not run: {why}[/red]", highlight=False)
