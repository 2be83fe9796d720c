"""The Airbyte connector verbs: `spec`, `check`, `discover`, `read`, `write`. Each writes protocol messages as JSON
lines on stdout; a failure becomes a TRACE error message and exit 1, as an Airbyte platform expects (`write`
exits 3 when some records could not be written: `ledgerlink.connector_writes`)."""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable, Iterator

import click

from .. import protocol
from ..errors import ConfigError, LedgerlinkError
from ..plugins import host
from ..connector_inputs import configured_catalog, connector_config, connector_state
from ..config_rotations import ConfigRotations
from ..connector_writes import DestinationWrite
from .common import EXIT_DEAD_LETTERS, EXIT_FAILED, emit, fail, load_pipeline_file


_EMITTING = threading.Lock()


def _emit_now(message: protocol.Message) -> None:
    """A message a connector sends while it works (a rotated secret's CONTROL), perhaps from a posting thread:
    whole lines, flushed at once (whoever reads stdout must keep the new secret before the old one dies)."""
    with _EMITTING:
        emit(message)
        sys.stdout.flush()


def _airbyte(fn: Callable[..., Iterator[protocol.Message]]) -> Callable[..., None]:
    """Run a connector command: messages to stdout; a failure becomes a TRACE error message and exit 1."""
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            for message in fn(*args, **kwargs):
                emit(message)
        except LedgerlinkError as exc:
            failure = "config_error" if isinstance(exc, ConfigError) else "system_error"
            emit(protocol.error_trace(str(exc), failure_type=failure))
            sys.stdout.flush()
            click.echo(f"error: {exc}", err=True)  # for a person at a terminal; Airbyte reads the TRACE
            sys.exit(EXIT_FAILED)
        sys.stdout.flush()
    return run



@click.command()
@click.argument("connector")
@click.option("--role", type=click.Choice(["source", "destination"]), default=None,
              help="for a connector registered as both (e.g. qbo): which one")
def spec(connector: str, role: str | None) -> None:
    """Print a connector's SPEC message."""
    @_airbyte
    def run() -> Iterator[protocol.Message]:
        yield protocol.Message(type=protocol.MessageType.SPEC, spec=host().connector(connector, role)().spec())
    run()


@click.command()
@click.argument("connector", required=False)
@click.option("--role", type=click.Choice(["source", "destination"]), default=None,
              help="for a connector registered as both (e.g. qbo): which one; with --pipeline, which side to check")
@click.option("--config", "config_path", type=click.Path(), help="the connector's config JSON (as Airbyte passes it)")
@click.option("--pipeline", "pipeline_file", type=click.Path(),
              help="check a pipeline's source (or --role destination) with its state file's stored credentials, "
                   "keeping any refresh token the remote rotates during the check")
def check(connector: str | None, config_path: str | None, role: str | None, pipeline_file: str | None) -> None:
    """Check a connector's config against the remote system (CONNECTION_STATUS)."""
    if (config_path is None) == (pipeline_file is None):
        raise click.UsageError("give --config FILE (with CONNECTOR) or --pipeline FILE")
    if config_path is not None and not connector:
        raise click.UsageError("CONNECTOR is required with --config")
    try:  # a pipeline file that does not load (a wrong option) is bad usage, exit 2, before anything is checked
        pipeline = load_pipeline_file(pipeline_file) if pipeline_file is not None else None
    except LedgerlinkError as exc:
        fail(exc)

    @_airbyte
    def run() -> Iterator[protocol.Message]:
        if pipeline is not None:
            from ..runtime import check_pipeline

            side = role or "source"
            named = pipeline.source.connector if side == "source" else pipeline.destination.connector
            if connector and connector != named:
                raise click.UsageError(f"the pipeline's {side} is {named!r}, not {connector!r}")
            status = check_pipeline(pipeline, side)
        else:
            conn = host().connector(str(connector), role)()
            config = connector_config(config_path)
            # a refresh token the check rotates goes out at once as a CONTROL message: the old one may be dead
            status = conn.check(config, ConfigRotations(conn, config, _emit_now).check_context())
        yield protocol.Message(type=protocol.MessageType.CONNECTION_STATUS, connectionStatus=status)
    run()


@click.command()
@click.argument("connector")
@click.option("--role", type=click.Choice(["source", "destination"]), default=None,
              help="for a connector registered as both (e.g. qbo): which one")
@click.option("--config", "config_path", required=True, type=click.Path())
def discover(connector: str, config_path: str, role: str | None) -> None:
    """Print what a connector reads (CATALOG) or can write (DESTINATION_CATALOG)."""
    from ..connectors import Destination, Source

    @_airbyte
    def run() -> Iterator[protocol.Message]:
        conn = host().connector(connector, role)()
        config = connector_config(config_path)
        if isinstance(conn, Destination) and (role == "destination" or not isinstance(conn, Source)):
            yield protocol.Message(type=protocol.MessageType.DESTINATION_CATALOG, destination_catalog=conn.discover(config))
        else:
            yield protocol.Message(type=protocol.MessageType.CATALOG, catalog=conn.discover(config))
    run()


@click.command()
@click.argument("connector")
@click.option("--config", "config_path", required=True, type=click.Path())
@click.option("--catalog", "catalog_path", type=click.Path(), help="ConfiguredAirbyteCatalog JSON (default: all streams).")
@click.option("--state", "state_path", type=click.Path(), help="STATE JSON from an earlier read.")
def read(connector: str, config_path: str, catalog_path: str | None, state_path: str | None) -> None:
    """Read records from a source (RECORD, STATE, LOG, TRACE, CONTROL messages)."""
    @_airbyte
    def run() -> Iterator[protocol.Message]:
        source = host().connector(connector, "source")()
        catalog = configured_catalog(catalog_path)
        yield from source.read(connector_config(config_path), catalog, connector_state(state_path))
    run()


@click.command()
@click.argument("connector")
@click.option("--config", "config_path", required=True, type=click.Path())
@click.option("--catalog", "catalog_path", type=click.Path())
def write(connector: str, config_path: str, catalog_path: str | None) -> None:
    """Write RECORD messages read from stdin to a destination; echo each STATE once durable.

    Exits 3 when a record could not be written: a TRACE error per such record (which record, which field, what
    to do), on stderr too, and no STATE after the first (`ledgerlink.connector_writes`)."""
    run = DestinationWrite(connector, config_path, catalog_path, sys.stdin, command=f"ledgerlink write {connector}",
                           context=lambda destination, config: ConfigRotations(destination, config,
                                                                               _emit_now).write_context())
    _airbyte(run.messages)()
    if run.failed:
        click.echo(f"error: {run.problems()}", err=True)
        sys.exit(EXIT_DEAD_LETTERS)
