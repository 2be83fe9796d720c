"""ledgerlink keeps a source's state per stream (`{stream: blob}`, committed with the records it covers); an
Airbyte connector may speak per-stream, GLOBAL or LEGACY state. Per-stream states pass through unchanged; a
GLOBAL or LEGACY state is kept whole under a reserved stream name, so the next read gets back exactly what the
connector last said."""

from __future__ import annotations

from typing import Any

from ledgerlink import json_loads, protocol

__all__ = ["GLOBAL_KEY", "LEGACY_KEY", "to_connector", "from_connector"]

#: where a GLOBAL state is kept in ledgerlink's per-stream state table (no Airbyte stream has this name)
GLOBAL_KEY = "_airbyte_global_state"
#: where a LEGACY (whole-connector) state is kept
LEGACY_KEY = "_airbyte_legacy_state"


def to_connector(saved: dict[str, dict[str, Any]], streams: list[str]) -> Any:
    """The `--state` file for `read` from what ledgerlink saved: a LEGACY state as the connector wrote it,
    else the GLOBAL state and the per-stream states of the streams read; None when there is nothing."""
    if LEGACY_KEY in saved:
        return saved[LEGACY_KEY].get("data", {})
    out: list[dict[str, Any]] = []
    if GLOBAL_KEY in saved:
        out.append(saved[GLOBAL_KEY])
    for name in streams:
        if name in saved:
            out.append({"type": "STREAM", "stream": {"stream_descriptor": {"name": name},
                                                     "stream_state": saved[name]}})
    return out or None


def from_connector(message: protocol.Message) -> protocol.Message:
    """A connector's STATE as ledgerlink stores it: per-stream as it is; GLOBAL and LEGACY wrapped whole in a
    per-stream STATE under their reserved name (committed, like any STATE, only with what came before it)."""
    state = message.state
    if state is None or state.stream is not None:
        return message
    if state.global_ is not None:
        # the exact wire form (amounts stay Decimal, nulls inside blobs kept)
        return protocol.state_for_stream(GLOBAL_KEY, json_loads(protocol.dumps(message))["state"])
    if state.data is not None:
        return protocol.state_for_stream(LEGACY_KEY, {"data": dict(state.data)})
    return message
