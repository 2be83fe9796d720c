"""Extract: run a source and stage its records in DuckDB; commit each STATE only with the records it covers."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Callable

from .. import jsonutil, protocol
from ..connectors import Source, Stream
from ..errors import LedgerlinkError, RecordError
from ..secrets import secret_paths
from ..store import Store
from .progress import NO_PROGRESS

__all__ = ["extract", "configured_catalog", "apply_stored_credentials", "credential_name", "staged_cursor"]

log = logging.getLogger("ledgerlink.extract")

FLUSH_EVERY = 5000

def configured_catalog(source: Source, streams: list[str] | None) -> protocol.ConfiguredCatalog:
    classes = {c.name: c for c in source.stream_classes()}
    wanted = streams or sorted({n.stream for n in source.normalisers()} |
                               {o for n in source.normalisers() for o in n.join}) or list(classes)
    unknown = [s for s in wanted if s not in classes]
    if unknown:
        raise LedgerlinkError(f"source {source.name} has no stream(s) {', '.join(unknown)}",
                              hint=f"streams: {', '.join(classes)}")
    out = []
    for name in wanted:
        cls = classes[name]
        incremental = bool(cls.cursor_field)
        out.append(protocol.ConfiguredStream(
            stream=cls.airbyte_stream(),
            sync_mode=protocol.SyncMode.incremental if incremental else protocol.SyncMode.full_refresh,
            cursor_field=[cls.cursor_field] if cls.cursor_field else None,
            destination_sync_mode=protocol.DestinationSyncMode.append_dedup,
            primary_key=cls.key_paths()))
    return protocol.ConfiguredCatalog(streams=out)


def credential_name(connector: Any, config: dict[str, Any], secret: str) -> str:
    """`qbo:9341…:refresh_token`: a stored secret is named by the account it belongs to (the source's
    `store_id`), so two accounts' rotated tokens never overwrite each other; `qbo:refresh_token` for a
    source without one (and as state files named them before)."""
    account = None
    if isinstance(connector, Source):
        try:
            account = connector.store_id(connector.parse_config(config))
        except LedgerlinkError:
            account = None
    return f"{connector.name}:{account}:{secret}" if account else f"{connector.name}:{secret}"


def apply_stored_credentials(connector: Any, config: dict[str, Any], store: Store) -> dict[str, Any]:
    """Rotated secrets stored by an earlier run win over the (older) ones in the pipeline file (stored under
    the account's name, else under the connector-wide name earlier versions used)."""
    out = dict(config)
    for path in secret_paths(connector.config_schema()):
        if len(path) != 1:
            continue
        name = credential_name(connector, config, path[0])
        stored = store.credentials.load(name)
        if stored is None and name != f"{connector.name}:{path[0]}":
            stored = store.credentials.load(f"{connector.name}:{path[0]}")
        if stored:
            out[path[0]] = stored
    return out


def _save_control(connector: Any, message: protocol.Message, config: dict[str, Any], store: Store) -> None:
    new = (message.control.connectorConfig.config if message.control and message.control.connectorConfig else {})
    for path in secret_paths(connector.config_schema()):
        if len(path) == 1 and path[0] in new and new[path[0]] != config.get(path[0]):
            store.credentials.save(credential_name(connector, config, path[0]), new[path[0]])


def _extractor(cls: type[Stream]) -> Callable[[dict[str, Any]], tuple[str | None, str | None]]:
    pk = cls.primary_key
    fields = [pk] if isinstance(pk, str) else list(pk or [])
    cursor = cls.cursor_field

    def extract_keys(data: dict[str, Any]) -> tuple[str | None, str | None]:
        parts = [data.get(f) for f in fields]
        key = None if not fields or any(p is None for p in parts) else "/".join(str(p) for p in parts)
        cur = data.get(cursor) if cursor else None
        return key, None if cur is None else staged_cursor(cls, cur, key)

    return extract_keys


def staged_cursor(cls: type[Stream], value: Any, key: str | None = None) -> str | None:
    """The cursor as staging stores it: text that sorts as the stream's `parse_cursor` compares (times in UTC,
    numbers zero-padded), so a late page never rolls a record back. Unreadable: None (the arrival wins)."""
    try:
        parsed = cls.parse_cursor(value)
    except (LedgerlinkError, ValueError, TypeError) as exc:
        log.warning("%s %s: cursor %r cannot be read (%s); staged without one", cls.name, key, value, exc)
        return None
    if isinstance(parsed, datetime):
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
        return parsed.isoformat(timespec="microseconds")
    if isinstance(parsed, int) and not isinstance(parsed, bool) and parsed >= 0:
        return f"{parsed:020d}"
    return str(parsed)


def extract(source: Source, config: dict[str, Any], streams: list[str] | None, store: Store, run_id: int,
            progress: Callable[..., None] = NO_PROGRESS) -> dict[str, Any]:
    """Read → stage. Returns counts; raises nothing for bad records (they are dead letters)."""
    catalog = configured_catalog(source, streams)
    classes = {c.name: c for c in source.stream_classes()}
    keyers = {name: _extractor(cls) for name, cls in classes.items()}
    join_fields = {other: ofield for n in source.normalisers() for other, (ofield, _) in n.join.items()}
    config = apply_stored_credentials(source, config, store)
    buffers: dict[str, tuple[list[str], list[str | None], list[str], list[str | None]]] = {}
    read: Counter[str] = Counter()
    dead = 0
    error: str | None = None

    def flush() -> None:
        with store.db.transaction():
            for stream, (pks, cursors, datas, joins) in buffers.items():
                store.raw.stage(stream, pks, cursors, datas, joins, run_id)
        buffers.clear()

    try:
        for message in source.read(config, catalog, store.source_state()):
            kind = message.type
            if kind == protocol.MessageType.RECORD:
                rec = message.record
                stream, data = rec.stream, rec.data
                keyer = keyers.get(stream)
                key, cursor = keyer(data) if keyer else (None, None)
                if key is None:
                    dead += 1
                    store.dead_letters.add(stage="read", stream=stream, record=data, run_id=run_id, error=RecordError(
                        "record has no primary key", stream=stream, field=str(getattr(classes.get(stream), "primary_key", None)),
                        hint="the source emitted a record it cannot identify; report it to the plugin's authors"))
                    continue
                jf = join_fields.get(stream)
                buf = buffers.setdefault(stream, ([], [], [], []))
                buf[0].append(key)
                buf[1].append(cursor)
                buf[2].append(jsonutil.dumps(data))
                buf[3].append(None if jf is None or data.get(jf) is None else str(data.get(jf)))
                read[stream] += 1
                if len(buf[0]) >= FLUSH_EVERY:
                    flush()  # records only; the STATE that covers them commits with a later flush
                progress("read", 1)
            elif kind == protocol.MessageType.STATE:
                st = message.state
                with store.db.transaction():
                    flush()
                    if st.stream is not None:
                        blob = st.stream.stream_state.model_dump() if st.stream.stream_state else {}
                        store.save_source_state(st.stream.stream_descriptor.name, blob)
            elif kind == protocol.MessageType.CONTROL:
                _save_control(source, message, config, store)
            elif kind == protocol.MessageType.LOG and message.log is not None:
                log.log(logging.WARNING if message.log.level.value in ("WARN", "ERROR", "FATAL") else logging.DEBUG,
                        "%s: %s", source.name, message.log.message)
            elif kind == protocol.MessageType.TRACE and message.trace and message.trace.error:
                log.error("%s: %s", source.name, message.trace.error.message)
    except LedgerlinkError as exc:
        error = f"{source.name}: {exc}"
        log.error("read stopped: %s", error)
    finally:
        if buffers:
            flush()  # records without their STATE: staged (idempotent), state not advanced
    return {"read": dict(read), "read_total": sum(read.values()), "read_dead_letters": dead, "read_error": error}
