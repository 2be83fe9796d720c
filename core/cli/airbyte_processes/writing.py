"""`destination-… write` as an Airbyte platform counts on it: a record the destination cannot write fails the
sync, visibly.

The destination writes every record it can (nothing else in the batch is lost) and logs each failure, as
`ledgerlink write` does. What this adds: each record it could not write becomes a TRACE error message naming the
stream, the record, the field and what to do; no STATE is echoed after the first such record, so Airbyte does not
checkpoint past it; and the process exits 3 (records dead-lettered), so the sync shows as failed. A retry after
the fix sends the records again from the last echoed STATE: those already written carry the same idempotency
key and are found, not written twice; the rest are written once. A refresh token the remote rotates meanwhile
is sent back as a CONTROL message (`rotations.py`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, TextIO

import click

from ... import protocol
from ...connectors import OutboundRecord, WriteResult
from ...errors import LedgerlinkError
from ...plugins import host
from .. import connector as commands
from ..common import EXIT_DEAD_LETTERS, read_json_file
from .failures import error_trace
from .logs import emit_message
from .names import ConnectorProcess
from .rotations import ConfigRotations

__all__ = ["write_records", "FailedRecord", "TRACES_AT_MOST"]

#: TRACE messages for single records at most; past that one more says how many others failed
TRACES_AT_MOST = 20


@dataclass
class FailedRecord:
    """A record the destination could not write, and why."""

    stream: str
    record: OutboundRecord | None
    result: WriteResult

    def names(self, primary_keys: dict[str, Any]) -> str:
        """The record in the user's words: its primary key's field(s) and value(s), else its key."""
        paths = primary_keys.get(self.stream) or []
        if self.record is not None and paths:
            parts = []
            for path in paths:
                node: Any = self.record.data
                for step in path:
                    node = node.get(step) if isinstance(node, dict) else None
                parts.append(f"{'.'.join(path)}={node!r}")
            return ", ".join(parts)
        return repr(self.result.key)


def _message(entry: ConnectorProcess, failed: FailedRecord, primary_keys: dict[str, Any]) -> str:
    error = failed.result.error
    assert error is not None
    what = error.message if isinstance(error, LedgerlinkError) else str(error)
    hint = error.hint if isinstance(error, LedgerlinkError) else None
    field = getattr(error, "field", None)
    todo = hint or ("fix that field of the record (or the mapping that made it)" if field
                    else "fix the record (or the mapping that made it)")
    return (f"{entry.command}: the {failed.stream} record {failed.names(primary_keys)} was not written: {what}; "
            f"{todo}, then run the sync again (records already written are not written twice)")


def write_records(entry: ConnectorProcess, config_path: str, catalog_path: str, stdin: TextIO | None = None) -> int:
    """Run `write` with the records on `stdin`; returns the exit code (0 every record written, 3 some not)."""
    name = entry.connector
    destination = host().connector(name, "destination")()
    config = commands._config(config_path)
    catalog = commands._catalog(read_json_file(catalog_path, "catalog"), catalog_path)
    writable = [op.object_name for op in destination.discover(config).operations]
    for configured in catalog.streams if catalog else []:
        commands._check_writable(name, configured.stream.name, writable)
    primary_keys = {c.stream.name: c.primary_key for c in catalog.streams} if catalog else {}

    failed: list[FailedRecord] = []
    write_batch = destination.write_batch

    def recording(stream: str, records: list[OutboundRecord]) -> list[WriteResult]:
        """The destination's own write_batch, keeping each failure (the destination still logs it)."""
        results = write_batch(stream, records)
        by_key = {r.key: r for r in records}
        failed.extend(FailedRecord(stream, by_key.get(r.key), r) for r in results if r.error is not None)
        return results

    destination.write_batch = recording  # type: ignore[method-assign]
    rotations = ConfigRotations(destination, config, emit_message)
    reported = held = 0

    def report() -> None:
        nonlocal reported
        for item in failed[reported:]:
            if reported < TRACES_AT_MOST:
                emit_message(error_trace(_message(entry, item, primary_keys), item.result.error, stream=item.stream,
                                         record_key=item.result.key))
            reported += 1

    messages = commands._only_writable(name, stdin if stdin is not None else sys.stdin, writable)
    for message in destination.write(config, catalog, messages, rotations.write_context()):
        report()
        if message.type == protocol.MessageType.STATE and failed:
            held += 1  # Airbyte must not checkpoint past a record that was not written
            continue
        emit_message(message)
    report()
    if not failed:
        return 0
    others = len(failed) - min(len(failed), TRACES_AT_MOST)
    summary = (f"{entry.command}: {len(failed)} record(s) were not written"
               + (f" ({others} more than the errors above)" if others else "")
               + (f"; {held} STATE message(s) after the first were held back, so the next sync sends those "
                  "records again" if held else "")
               + "; the records written before and after them stay written")
    click.echo(f"error: {summary}", err=True)
    for item in failed[:TRACES_AT_MOST]:
        click.echo(f"  {_message(entry, item, primary_keys)}", err=True)
    return EXIT_DEAD_LETTERS

