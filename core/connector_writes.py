"""A destination's `write` as `ledgerlink write` and a destination connector process both run it: a record the
destination could not write fails the run, visibly.

The destination writes every record it can (nothing else in the batch is lost). What this adds: each record it
could not write becomes a TRACE error message naming the stream, the record (by its primary key, else the
destination's matching key), the field and what to do; no STATE is passed on after the first such record, so
nobody checkpoints past it; and `problems()` is what a person reads on stderr before the command exits 3
(records not written). A retry after the fix sends the records again from the last passed-on STATE: those
already written carry the same idempotency key and are found, not written twice; the rest are written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from . import protocol
from .connector_failures import error_trace
from .connector_inputs import check_writable, configured_catalog, connector_config, writable_messages
from .connectors import Destination, OutboundRecord, WriteContext, WriteResult
from .errors import LedgerlinkError
from .plugins import host

__all__ = ["DestinationWrite", "FailedRecord", "TRACES_AT_MOST"]

#: TRACE messages (and stderr lines) for single records at most; past that the summary says how many others failed
TRACES_AT_MOST = 20


@dataclass
class FailedRecord:
    """A record the destination could not write, and why."""

    stream: str
    record: OutboundRecord | None
    result: WriteResult

    def names(self, keys: dict[str, Any]) -> str:
        """The record in the user's words: its key field(s) and value(s) (`keys`: stream → field paths), else its
        idempotency key."""
        paths = keys.get(self.stream) or []
        if self.record is not None and paths:
            parts = []
            for path in paths:
                node: Any = self.record.data
                for step in path:
                    node = node.get(step) if isinstance(node, dict) else None
                parts.append(f"{'.'.join(path)}={node!r}")
            return ", ".join(parts)
        return repr(self.result.key)


@dataclass
class DestinationWrite:
    """One `write` of destination `connector` with the records in `lines` (stdin); `command` names the command in
    what a person reads (`ledgerlink write qbo`, `destination-ledgerlink-qbo`). `context` makes the destination's
    WriteContext from it and its config (a connector process sends rotated secrets back as CONTROL messages)."""

    connector: str
    config_path: str
    catalog_path: str | None
    lines: Iterable[str]
    command: str
    context: Callable[[Destination, dict[str, Any]], WriteContext] | None = None
    #: the records not written, in the order the destination reported them
    failed: list[FailedRecord] = field(default_factory=list)
    #: the STATE messages held back because a record before them was not written
    held: int = 0
    _keys: dict[str, Any] = field(default_factory=dict)

    def messages(self) -> Iterator[protocol.Message]:
        """Write; yield each STATE the destination confirms (until a record fails) and a TRACE error per record it
        could not write. A wrong config, catalog or stdin line raises ConfigError before or as it is reached."""
        destination = host().connector(self.connector, "destination")()
        config = connector_config(self.config_path)
        catalog = configured_catalog(self.catalog_path)
        operations = destination.discover(config).operations
        writable = [op.object_name for op in operations]
        for configured in catalog.streams if catalog else []:
            check_writable(self.connector, configured.stream.name, writable)
        self._keys = {op.object_name: op.matching_keys for op in operations if op.matching_keys}
        self._keys.update({c.stream.name: c.primary_key for c in catalog.streams if c.primary_key} if catalog else {})

        write_batch = destination.write_batch

        def recording(stream: str, records: list[OutboundRecord]) -> list[WriteResult]:
            """The destination's own write_batch, keeping each failure (the destination still logs it)."""
            results = write_batch(stream, records)
            by_key = {r.key: r for r in records}
            self.failed.extend(FailedRecord(stream, by_key.get(r.key), r) for r in results if r.error is not None)
            return results

        destination.write_batch = recording  # type: ignore[method-assign]
        context = self.context(destination, config) if self.context else None
        reported = 0
        messages = writable_messages(self.connector, self.lines, writable)
        for message in destination.write(config, catalog, messages, context):
            yield from self._traces(reported)
            reported = len(self.failed)
            if message.type == protocol.MessageType.STATE and self.failed:
                self.held += 1  # nobody may checkpoint past a record that was not written
                continue
            yield message
        yield from self._traces(reported)

    def _traces(self, start: int) -> Iterator[protocol.Message]:
        for number, item in enumerate(self.failed[start:], start):
            if number < TRACES_AT_MOST:
                assert item.result.error is not None
                yield error_trace(self.why(item), item.result.error, stream=item.stream, record_key=item.result.key)

    def why(self, failed: FailedRecord) -> str:
        """Which record was not written, why (the field, when the error names one) and what to do."""
        error = failed.result.error
        assert error is not None
        what = error.message if isinstance(error, LedgerlinkError) else str(error)
        hint = error.hint if isinstance(error, LedgerlinkError) else None
        todo = hint or ("fix that field of the record (or the mapping that made it)" if getattr(error, "field", None)
                        else "fix the record (or the mapping that made it)")
        return (f"{self.command}: the {failed.stream} record {failed.names(self._keys)} was not written: {what}; "
                f"{todo}, then run the sync again (records already written are not written twice)")

    def problems(self) -> str:
        """What a person reads on stderr: a summary line, then one line per record not written ("" when all were)."""
        if not self.failed:
            return ""
        others = len(self.failed) - min(len(self.failed), TRACES_AT_MOST)
        summary = (f"{self.command}: {len(self.failed)} record(s) were not written"
                   + (f" ({others} more than the errors below)" if others else "")
                   + (f"; {self.held} STATE message(s) after the first were held back, so the next sync sends "
                      "those records again" if self.held else "")
                   + "; the records written before and after them stay written")
        return "\n".join([summary] + [f"  {self.why(item)}" for item in self.failed[:TRACES_AT_MOST]])
