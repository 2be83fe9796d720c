"""`source-… read` as an Airbyte platform counts on it: a read that fails ends with one TRACE error message naming
the stream it was reading, the failure's type (`failures.py`: a refused credential is the user's to fix, a 5xx
is worth a retry) and what to do, and a non-zero exit. Every STATE printed before it covers only records
printed before it, so the platform keeps those and the next sync reads on from there."""

from __future__ import annotations

import click

from ... import protocol
from ...errors import LedgerlinkError, RecordError
from ...plugins import host
from ...connector_failures import error_trace
from ...connector_inputs import configured_catalog, connector_config, connector_state
from ..common import EXIT_FAILED
from .logs import emit_message
from .names import ConnectorProcess

__all__ = ["read_records"]


def read_records(entry: ConnectorProcess, config_path: str, catalog_path: str, state_path: str | None) -> int:
    """Run `read`, printing every message; returns the exit code (0 read to the end, 1 stopped by a failure)."""
    source = host().connector(entry.connector, "source")()
    config = connector_config(config_path)
    catalog = configured_catalog(catalog_path)
    state = connector_state(state_path)
    stream: str | None = None  # the stream being read (the last one started or sending records)
    states = 0
    try:
        for message in source.read(config, catalog, state):
            if message.type == protocol.MessageType.RECORD and message.record is not None:
                stream = message.record.stream
            elif (message.type == protocol.MessageType.TRACE and message.trace is not None
                  and message.trace.stream_status is not None
                  and message.trace.stream_status.status.value == "STARTED"):
                stream = message.trace.stream_status.stream_descriptor.name
            elif message.type == protocol.MessageType.STATE:
                states += 1
            emit_message(message)
    except LedgerlinkError as exc:
        if isinstance(exc, RecordError) and exc.stream:
            stream = exc.stream
        where = f"reading stream {stream!r}" if stream else "reading"
        kept = ("the records before the last STATE message are safe; the next sync reads on from there" if states
                else "nothing was confirmed, so the next sync reads from the start")
        text = f"{entry.command}: {where} stopped: {exc}\n  {kept}"
        emit_message(error_trace(text, exc, stream=stream))
        click.echo(f"error: {text}", err=True)
        return EXIT_FAILED
    return 0
