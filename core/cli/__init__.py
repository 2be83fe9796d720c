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

from ..logs import setup_logging
from ..plugins import host
from .common import GuardedGroup
from . import cogs  # issue 19: cost of goods
from . import (alerts, anomalies, connect, connector, demo, dlq, plugin_list, reconcile, review, revisions, runs, sandbox,
               serve, settlements, specs, suggest, sync, tokens, trace, users)

__all__ = ["cli", "main"]


@click.group(cls=GuardedGroup)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="ledgerlink")
def cli(verbose: int) -> None:
    """ledgerlink: keeps an online store's books right."""
    setup_logging(verbose)


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
cli.add_command(cogs.cogs)  # issue 19: cost of goods (the ledger's item costs into the costs file)


def main() -> None:
    """The `ledgerlink` console script: the built-in commands plus every plugin's."""
    host().add_commands(cli)
    cli(prog_name="ledgerlink")
