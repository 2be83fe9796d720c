"""A stream over the files one glob matches: each file read incrementally, a checkpoint after each."""

from __future__ import annotations

import glob
import os
from typing import Any, ClassVar, Iterator

from ledgerlink import CHECKPOINT, Checkpoint, Stream, protocol

from .config import FileStreamConfig
from .infer import ROW_FIELDS
from .reader import FileRead

__all__ = ["FileStream", "stream_class", "matching_files"]


def matching_files(spec: FileStreamConfig) -> list[str]:
    """The files the stream's path matches, in name order (`**` reaches into subfolders)."""
    pattern = os.path.expanduser(spec.path)
    if not glob.has_magic(pattern):
        return [pattern] if os.path.isfile(pattern) else []
    return sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))


class FileStream(Stream):
    """State: `{"files": {path: {size, mtime_ns, offset, sha256, lines, header}}}` (see `reader`)."""

    spec: ClassVar[FileStreamConfig]

    def read_records(self, state: dict[str, Any]) -> Iterator[dict[str, Any] | Checkpoint | protocol.Message]:
        self.state = dict(state)
        previous: dict[str, Any] = dict(self.state.get("files") or {})
        files = matching_files(self.spec)
        # files no longer matched drop out of the state, so it stays the size of the folder
        current = {p: previous[p] for p in files if p in previous}
        for path in files:
            read = FileRead(path, self.spec, previous.get(path))
            for row in read:
                self.observe(row)
                yield row
            current[path] = read.state
            self.state["files"] = dict(current)
            yield CHECKPOINT  # everything of this file is staged before its state is committed
        self.state["files"] = current

    @classmethod
    def airbyte_stream(cls) -> protocol.Stream:
        """Always resumable: the files' own state (size, mtime, hash) is the cursor; a `cursor_field`
        only orders versions of one row."""
        stream = super().airbyte_stream()
        stream.supported_sync_modes = [protocol.SyncMode.full_refresh, protocol.SyncMode.incremental]
        stream.source_defined_cursor = True
        stream.is_resumable = True
        return stream


def stream_class(spec: FileStreamConfig, json_schema: dict[str, Any] | None = None) -> type[FileStream]:
    """A stream class for one configured entry (streams are declared by attributes; these come from config)."""
    schema = json_schema or {"type": "object", "properties": dict(ROW_FIELDS), "additionalProperties": True}
    attrs = {"name": spec.name, "spec": spec, "primary_key": list(spec.key_columns), "cursor_field": spec.cursor_field,
             "json_schema": schema, "__doc__": f"files matching {spec.path}"}
    return type(f"FileStream_{spec.name}", (FileStream,), attrs)
