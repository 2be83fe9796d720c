"""Fixtures for the `files` connector: writing files, building configs, reading them through the source."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from ledgerlink import protocol
from ledgerlink.files import FilesSource

class Reading:
    """What one `read` produced: records per stream, the STATE messages, and the last state per stream."""

    def __init__(self, messages: list[protocol.Message]):
        self.messages = messages
        self.records = [m.record.data for m in messages if m.type == protocol.MessageType.RECORD]
        self.states = [m.state for m in messages if m.type == protocol.MessageType.STATE]

    @property
    def state(self) -> list[dict[str, Any]]:
        """The last STATE of each stream, as Airbyte hands it back (a list of per-stream states)."""
        last = {s.stream.stream_descriptor.name: s for s in self.states}
        return [s.model_dump(mode="json", exclude_none=True) for s in last.values()]

    def lines(self) -> list[int]:
        return [r["_line"] for r in self.records]


@pytest.fixture
def read() -> Callable[..., Reading]:
    def run(config: dict[str, Any], state: Any = None) -> Reading:
        return Reading(list(FilesSource().read(config, None, state)))
    return run


@pytest.fixture
def stream_config(tmp_path: Path) -> Callable[..., dict[str, Any]]:
    """`stream_config("ship.csv", name=..., **options)`: one stream over a file (or glob) in tmp_path."""
    def make(path: str, name: str = "rows", **options: Any) -> dict[str, Any]:
        return {"streams": [{"name": name, "path": str(tmp_path / path), **options}]}
    return make


__all__ = ["Reading"]
