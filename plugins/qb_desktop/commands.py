"""`ledgerlink qbd …`: the .qwc file, password hashes, and the Web Connector's last contact."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

__all__ = ["qbd"]

#: the core CLI's exit codes: bad usage or config, and a pipeline whose state file another process holds
EXIT_USAGE, EXIT_BUSY = 2, 4


def _pipeline_config(pipeline_file: str):
    from ledgerlink import load_pipeline

    from .config import QbdConfig

    pipeline = load_pipeline(pipeline_file)
    if pipeline.destination.connector != "qb_desktop":
        raise click.ClickException(f"{pipeline_file}: the destination is {pipeline.destination.connector}, "
                                   "not qb_desktop")
    return pipeline, QbdConfig.model_validate(pipeline.destination.config)


@click.group()
def qbd() -> None:
    """QuickBooks Desktop through the Web Connector: .qwc file, password hash, status."""


@qbd.command("hash-password")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="The Web Connector password (prompted for when not given).")
def hash_password_cmd(password: str) -> None:
    """Print the hash to store as the destination's `password_hash` (the password itself is never stored)."""
    from .passwords import hash_password

    try:
        click.echo(hash_password(password))
    except ValueError as exc:  # an empty or unusable password: say so as a usage error, not a traceback
        raise click.BadParameter(str(exc), param_hint="--password") from None


@qbd.command("qwc")
@click.option("--pipeline", "pipeline_file", required=True, type=click.Path(exists=True))
@click.option("--url", required=True, help="The service address, e.g. https://books.example.com/qbwc/")
@click.option("--out", type=click.Path(), help="Write to this file (default: stdout).")
def qwc_cmd(pipeline_file: str, url: str, out: str | None) -> None:
    """Write the .qwc file to open in the QuickBooks Web Connector."""
    from ledgerlink import LedgerlinkError

    from .qwc import qwc_file

    try:
        _, config = _pipeline_config(pipeline_file)
        text = qwc_file(config, url)
    except LedgerlinkError as exc:
        raise click.ClickException(str(exc)) from None
    except ValueError as exc:
        raise click.ClickException(f"{pipeline_file}: {exc}") from None
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
        click.echo(f"wrote {out}: open it in the QuickBooks Web Connector (File > Add an application)", err=True)
    else:
        click.echo(text, nl=False)


@qbd.command("status")
@click.argument("pipeline_file", type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True)
def status_cmd(pipeline_file: str, as_json: bool) -> None:
    """When the Web Connector last called for this company file, what waits for it, and failed logins
    (recent failures, a locked-out user). Exit 3 with a warning; while `serve` holds the pipeline it asks serve's API
    (exit 4 only when a sync, not serve, holds it)."""
    from ledgerlink import LedgerlinkError, PipelineBusyError, PipelineState, json_dumps

    from .bridge import CONTACT, LOGINS
    from .status import describe_contact, describe_logins

    try:
        pipeline, config = _pipeline_config(pipeline_file)
    except click.ClickException:
        raise
    except (LedgerlinkError, ValueError) as exc:  # a broken pipeline file or destination config: bad usage
        click.echo(f"error: {pipeline_file}: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    _status_through_serve(pipeline_file, as_json)
    if not pipeline.state_path.exists():
        raise click.ClickException(f"{pipeline_file} has not run yet (no {pipeline.state_path})")
    try:
        with PipelineState(pipeline.state_path) as state:
            refs = state.references("qb_desktop")
            last = refs.get(CONTACT, config.file_id) or None
            logins = refs.get(LOGINS, config.username)
            waiting = state.awaiting("qb_desktop").count()
    except PipelineBusyError as exc:
        click.echo(f"error: {exc.message}", err=True)
        click.echo("  hint: `ledgerlink serve` (or a sync) holds this pipeline: serve's GET /qbwc/status shows the "
                   "Web Connector's last contact, what waits and failed logins; or run this again when it is done",
                   err=True)
        sys.exit(EXIT_BUSY)
    info = describe_contact(last, waiting, config.quiet_after_s, datetime.now(timezone.utc))
    info.update({"company_file": config.company_file or "(the open file)", "file_id": config.file_id,
                 "logins": describe_logins(logins, datetime.now(timezone.utc))})
    if as_json:
        click.echo(json_dumps(info, indent=2))
    else:
        click.echo(f"company file: {info['company_file']} {info['file_id']}")
        click.echo(f"last contact: {info['last_contact'] or 'never'}; waiting for QuickBooks: {waiting}")
        click.echo(f"logins: {info['logins']['summary']}")
        if info["warning"]:
            click.echo(f"warning: {info['warning']}", err=True)
        if info["logins"]["warning"]:
            click.echo(f"warning: {info['logins']['warning']}", err=True)
    sys.exit(3 if info["warning"] or info["logins"]["warning"] else 0)




def _status_through_serve(pipeline_file: str, as_json: bool) -> None:
    """While `ledgerlink serve` holds the pipeline, ask its API (GET …/status: this plugin's own status lines)
    instead of answering "busy"; exit as the local command does (3 on a warning). Returns when no serve holds it."""
    from ledgerlink import LedgerlinkError, json_dumps, served_client

    client = served_client(pipeline_file)
    if client is None:
        return
    try:
        lines = client.get("/status")["lines"]
    except LedgerlinkError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BUSY)
    warnings = [line[len("warning: "):] for line in lines if line.startswith("warning: ")]
    if as_json:
        click.echo(json_dumps({"served_by": client.url, "lines": lines, "warnings": warnings}, indent=2))
    else:
        for line in lines:
            click.echo(line, err=line.startswith("warning: "))
        if not lines:
            click.echo("no Web Connector status: this pipeline does not write to QuickBooks Desktop")
    sys.exit(3 if warnings else 0)
