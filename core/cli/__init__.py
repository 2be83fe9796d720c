"""The `ledgerlink` command line.

Connector commands (`spec`, `check`, `discover`, `read`, `write`) behave as an Airbyte connector: JSON lines
on stdout. Reporting commands print tables on a terminal and JSON with `--json`. Exit codes: 0 ok,
1 failed, 2 bad usage or config, 3 finished with dead letters to look at, 4 pipeline busy,
5 reconcile found differences.

Layout: one module per command group, each importing only `common` (the shared helpers); this module builds
the root group, adds every group, and lets plugins add theirs (`register_commands`) when `main` runs.
"""

from __future__ import annotations

import click

from ..data_dir import apply_data_dir
from ..errors import LedgerlinkError
from ..logs import LOG_FORMAT_ENV, setup_logging
from ..plugins import host
from .common import GuardedGroup, fail
from . import cogs, fleet  # issue 19: cost of goods; issue 21: the fleet
from . import (alerts, anomalies, connect, connector, demo, dlq, health, plugin_list, reconcile, review, revisions, runs, sandbox,
               serve, settlements, specs, suggest, sync, tokens, trace, users)

__all__ = ["cli", "main"]


#: commands whose stdout carries Airbyte protocol messages only (their JSON logs go to stderr)
PROTOCOL_COMMANDS = frozenset({"spec", "check", "discover", "read", "write"})


@click.group(cls=GuardedGroup)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("--log-format", type=click.Choice(["auto", "json", "text"]), default="auto", show_default=True,
              envvar=LOG_FORMAT_ENV, show_envvar=True,
              help="json: one JSON object per line on stdout (containers); auto: text on a terminal.")
@click.version_option(package_name="ledgerlink")
@click.pass_context
def cli(ctx: click.Context, verbose: int, log_format: str) -> None:
    """ledgerlink: keeps an online store's books right."""
    try:
        apply_data_dir()  # LEDGERLINK_DATA_DIR: state, key, caches and temporary files in one writable folder
    except LedgerlinkError as exc:
        fail(exc)
    setup_logging(verbose, log_format=log_format,  # type: ignore[arg-type]
                  protocol_on_stdout=ctx.invoked_subcommand in PROTOCOL_COMMANDS)


for _command in (connector.spec, connector.check, connector.discover, connector.read, connector.write,
                 plugin_list.plugins, sync.sync, dlq.dlq, reconcile.reconcile, revisions.revisions, runs.runs,
                 trace.trace, sandbox.sandbox, demo.demo, serve.serve, specs.specs, settlements.settlements,
                 users.users, tokens.tokens, review.review):
    cli.add_command(_command)
del _command
cli.add_command(suggest.suggest)
cli.add_command(anomalies.anomalies)
cli.add_command(connect.connect)  # issue 16: connect accounts through serve
cli.add_command(alerts.alerts)
cli.add_command(health.health)  # issue 21: the container's HEALTHCHECK
cli.add_command(fleet.fleet)  # issue 21: many tenants on workers sharing one Postgres
cli.add_command(cogs.cogs)  # issue 19: cost of goods (the ledger's item costs into the costs file)


def main() -> None:
    """The `ledgerlink` console script: the built-in commands plus every plugin's."""
    host().add_commands(cli)
    cli(prog_name="ledgerlink")
