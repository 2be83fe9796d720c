"""`destination-… write` as an Airbyte platform counts on it: a record the destination cannot write fails the
sync, visibly — one TRACE error per such record, no STATE past the first, exit 3 (`ledgerlink.connector_writes`,
which `ledgerlink write` runs too). What a connector process adds: the messages go out as its other messages
do (never interleaved with a LOG line), and a refresh token the remote rotates meanwhile is sent back as a
CONTROL message (`ledgerlink.config_rotations`)."""

from __future__ import annotations

import sys
from typing import TextIO

import click

from ...connector_writes import DestinationWrite
from ..common import EXIT_DEAD_LETTERS
from .logs import emit_message
from .names import ConnectorProcess
from ...config_rotations import ConfigRotations

__all__ = ["write_records"]


def write_records(entry: ConnectorProcess, config_path: str, catalog_path: str, stdin: TextIO | None = None) -> int:
    """Run `write` with the records on `stdin`; returns the exit code (0 every record written, 3 some not)."""
    run = DestinationWrite(entry.connector, config_path, catalog_path, stdin if stdin is not None else sys.stdin,
                           command=entry.command,
                           context=lambda destination, config: ConfigRotations(destination, config,
                                                                               emit_message).write_context())
    for message in run.messages():
        emit_message(message)
    if not run.failed:
        return 0
    click.echo(f"error: {run.problems()}", err=True)
    return EXIT_DEAD_LETTERS
