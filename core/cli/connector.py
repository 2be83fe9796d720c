"""The Airbyte connector verbs: `spec`, `check`, `discover`, `read`, `write`. Each writes protocol messages as JSON
lines on stdout; a failure becomes a TRACE error message and exit 1, as an Airbyte platform expects."""

from __future__ import annotations

import sys
from typing import Any, Callable, Iterable, Iterator

import click

from .. import protocol
from ..errors import ConfigError, LedgerlinkError
from ..plugins import host
from .common import EXIT_FAILED, emit, fail, load_pipeline_file, read_json_file


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
            status = host().connector(str(connector), role)().check(_config(config_path))
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
        config = _config(config_path)
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
        catalog = _catalog(read_json_file(catalog_path, "catalog"), catalog_path)
        yield from source.read(_config(config_path), catalog, _state(state_path))
    run()


@click.command()
@click.argument("connector")
@click.option("--config", "config_path", required=True, type=click.Path())
@click.option("--catalog", "catalog_path", type=click.Path())
def write(connector: str, config_path: str, catalog_path: str | None) -> None:
    """Write RECORD messages read from stdin to a destination; echo each STATE once durable."""
    @_airbyte
    def run() -> Iterator[protocol.Message]:
        dest = host().connector(connector, "destination")()
        config = _config(config_path)
        catalog = _catalog(read_json_file(catalog_path, "catalog"), catalog_path)
        writable = [op.object_name for op in dest.discover(config).operations]
        for configured in catalog.streams if catalog else []:
            _check_writable(connector, configured.stream.name, writable)
        yield from dest.write(config, catalog, _only_writable(connector, sys.stdin, writable))
    run()


def _config(path: str | None) -> Any:
    """The connector config in `path`: a JSON object, as Airbyte passes it (a list or a string is a ConfigError)."""
    config = read_json_file(path, "config")
    if path is not None and not isinstance(config, dict):
        raise ConfigError(f"config file {path} holds a JSON {type(config).__name__}, not an object",
                          hint="see `ledgerlink spec CONNECTOR` for the fields")
    return config


def _state(path: str | None) -> Any:
    """The STATE in `path`: Airbyte's list of STATE messages, one GLOBAL state, or a legacy {stream: state}."""
    from ..connectors import state_by_stream

    state = read_json_file(path, "state")
    try:
        state_by_stream(state)
    except (ValueError, TypeError, AttributeError):
        raise ConfigError(f"state file {path} is not an Airbyte state",
                          hint="give the STATE messages an earlier `ledgerlink read` printed (a JSON list), "
                               "or {stream: state}") from None
    return state


def _catalog(raw: Any, path: str | None) -> protocol.ConfiguredCatalog | None:
    """The configured catalog in `raw`; one of the wrong shape is a ConfigError naming the file."""
    if not raw:
        return None
    try:
        return protocol.ConfiguredCatalog.model_validate(raw)
    except ValueError as exc:
        first = str(exc).splitlines()
        raise ConfigError(f"catalog file {path} is not a configured catalog: {' '.join(first[:3])}",
                          hint="print one with `ledgerlink discover CONNECTOR --config FILE`") from None


def _check_writable(connector: str, stream: str, writable: list[str]) -> None:
    if stream not in writable:
        raise ConfigError(f"destination {connector} cannot write stream {stream!r}; it writes: "
                          f"{', '.join(writable) or 'nothing'}",
                          hint=f"see `ledgerlink discover {connector} --role destination --config FILE`; "
                               "to move a source's records into a ledger, run a pipeline with `ledgerlink sync`")


def _only_writable(connector: str, lines: Iterable[str], writable: list[str]) -> Iterator[protocol.Message]:
    """The messages on stdin, stopping at the first RECORD of a stream the destination cannot write (one clear
    error instead of one per record) or at a line that is not a protocol message (naming the line)."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            message = protocol.loads(line.strip())
        except (ValueError, RecursionError) as exc:
            raise ConfigError(f"stdin line {number} is not an Airbyte protocol message: "
                              f"{str(exc).splitlines()[0][:200]}",
                              hint="pipe in the output of `ledgerlink read`") from None
        body = _BODIES.get(message.type)
        if body is not None and getattr(message, body) is None:  # it would be skipped: say so instead
            raise ConfigError(f"stdin line {number} is not an Airbyte protocol message: a {message.type.value} "
                              f"message without its `{body}`", hint="pipe in the output of `ledgerlink read`")
        if message.type == protocol.MessageType.RECORD and message.record is not None:
            _check_writable(connector, message.record.stream, writable)
        yield message


#: the field a RECORD or STATE message carries its content in (the protocol's models leave both optional)
_BODIES = {protocol.MessageType.RECORD: "record", protocol.MessageType.STATE: "state"}
