"""The connector's discovered streams as ledgerlink `Stream` classes (primary key and cursor for staging), and the
configured catalog handed back to it for `read`."""

from __future__ import annotations

from typing import Any

from ledgerlink import ConfigError, Stream, protocol

from .config import StreamSettings

__all__ = ["stream_class", "configured_catalog"]


class AirbyteStream(Stream):
    """A stream the Airbyte connector declared in its catalog; records are read by the connector, not here."""

    discovered: protocol.Stream

    @classmethod
    def airbyte_stream(cls) -> protocol.Stream:
        return cls.discovered

    def read_records(self, state: dict[str, Any]):  # pragma: no cover - the connector reads, not the stream
        raise NotImplementedError("records of an Airbyte connector's stream come from its read command")


def _top_level(paths: list[list[str]] | None) -> list[str] | None:
    """A catalog key path list as top-level field names, or None when a path is nested (staging reads top-level
    fields only)."""
    if not paths or any(len(p) != 1 for p in paths):
        return None
    return [p[0] for p in paths]


def stream_class(stream: protocol.Stream, settings: StreamSettings | None) -> type[AirbyteStream]:
    """A Stream class for one discovered stream: the key and cursor from `settings`, else from the catalog."""
    settings = settings or StreamSettings()
    pk: str | list[str] | None = settings.primary_key
    if pk is None:
        fields = _top_level(stream.source_defined_primary_key)
        pk = fields[0] if fields and len(fields) == 1 else fields
    cursor = settings.cursor_field
    if cursor is None and protocol.SyncMode.incremental in (stream.supported_sync_modes or []):
        fields = _top_level([stream.default_cursor_field] if stream.default_cursor_field else None)
        cursor = fields[0] if fields else None
    return type(f"AirbyteStream_{stream.name}", (AirbyteStream,),
                {"name": stream.name, "primary_key": pk, "cursor_field": cursor, "discovered": stream,
                 "json_schema": stream.json_schema})


def configured_catalog(classes: dict[str, type[AirbyteStream]], names: list[str]) -> dict[str, Any]:
    """The configured catalog for `read` (wire JSON): each stream as discovered, incremental where it can be.
    A stream staging cannot key is refused here, before the connector runs."""
    out = []
    for name in names:
        cls = classes[name]
        if not cls.primary_key:
            raise ConfigError(f"stream {name!r} has no top-level primary key in the connector's catalog",
                              where=f"source.config.streams.{name}.primary_key",
                              hint="name the field(s) that identify a record: staging keeps one row per key, "
                                   "so a record read twice is never posted twice")
        stream = cls.discovered
        incremental = (cls.cursor_field is not None
                       and protocol.SyncMode.incremental in (stream.supported_sync_modes or []))
        configured = protocol.ConfiguredStream(
            stream=stream,
            sync_mode=protocol.SyncMode.incremental if incremental else protocol.SyncMode.full_refresh,
            cursor_field=[cls.cursor_field] if incremental else None,
            destination_sync_mode=protocol.DestinationSyncMode.append_dedup,
            primary_key=[[k] for k in ([cls.primary_key] if isinstance(cls.primary_key, str) else cls.primary_key)])
        out.append(configured)
    return protocol.ConfiguredCatalog(streams=out).model_dump(mode="json", exclude_none=True, by_alias=True)
