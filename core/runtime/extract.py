"""Extract: run a source and stage its records in DuckDB; commit each STATE only with the records it covers."""

from __future__ import annotations

import contextvars
import logging
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Callable, NamedTuple

import duckdb
import pyarrow as pa

from .. import jsonutil, protocol
from ..connectors import CheckContext, RecordPage, Source, Stream
from ..errors import LedgerlinkError, RecordError
from ..remote_waits import waiting_of
from ..secrets import secret_paths
from ..store import Store
from ..store.database import StoreOutOfMemory
from .read_tuning import reading_tuned
from ..encoded_record import EncodedRecord  # a record handed over as the remote's text, staged as it is
from ..store.record_text import UnstageableRecord, key_text, max_record_chars, record_text, safe_text
from ..store.record_text import INT_MAX as _INT_MAX, INT_MIN as _INT_MIN
from .progress import NO_PROGRESS
from .stop import NEVER, shielded

__all__ = ["extract", "configured_catalog", "apply_stored_credentials", "credential_name", "staged_cursor"]

log = logging.getLogger("ledgerlink.extract")


def configured_catalog(source: Source, streams: list[str] | None) -> protocol.ConfiguredCatalog:
    classes = {c.name: c for c in source.stream_classes()}
    wanted = source.streams_read(streams)
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
            account = connector.credential_account(connector.parse_config(config))
        except LedgerlinkError:
            account = None
    return f"{connector.name}:{account}:{secret}" if account else f"{connector.name}:{secret}"


def _store_named(connector: Any, config: dict[str, Any], secret: str) -> str | None:
    """The name by the store id alone, where it differs from `credential_name` (Amazon's per-seller name from
    before tokens were kept per seller and region)."""
    if not isinstance(connector, Source):
        return None
    try:
        parsed = connector.parse_config(config)
        store, account = connector.store_id(parsed), connector.credential_account(parsed)
    except LedgerlinkError:
        return None
    return f"{connector.name}:{store}:{secret}" if store and store != account else None


def apply_stored_credentials(connector: Any, config: dict[str, Any], store: Store) -> dict[str, Any]:
    """Rotated secrets stored by an earlier run win over the (older) ones in the pipeline file (stored under
    the account's name, else under the connector-wide name earlier versions used)."""
    out = dict(config)
    for path in secret_paths(connector.config_schema()):
        if len(path) != 1:
            continue
        name = credential_name(connector, config, path[0])
        stored = store.credentials.load(name)
        legacy = _store_named(connector, config, path[0])
        if stored is None and legacy is not None:
            stored = store.credentials.load(legacy)
            if stored:  # migrated: from now on this account's own name, which no other account's rotation touches
                store.credentials.save(name, stored)
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


class StagedRow(NamedTuple):
    """One record as staging stores it: its key, cursor, JSON text and join key."""

    key: str
    cursor: str | None
    text: str
    join_key: str | None


def _stager(cls: type[Stream] | None, stream: str, join_field: str | None) -> Callable[[Any], StagedRow]:
    """What staging stores of one record of `stream`, or RecordError saying which field keeps it out (no
    primary key, a lone surrogate, a number beyond 64 bits, nesting thousands deep, hundreds of megabytes).
    Called once per record: the common key (one text or 64-bit number field) is read without the general
    checks, which give the same answer for it."""
    pk = getattr(cls, "primary_key", None)
    fields = [pk] if isinstance(pk, str) else list(pk or [])
    single = fields[0] if len(fields) == 1 else None
    cursor_field = getattr(cls, "cursor_field", None)
    limit = max_record_chars()
    plain_cursor = cls is not None and cursor_field is not None and _default_cursor(cls)

    def stage(data: Any) -> StagedRow:
        if cls is None:  # e.g. an Airbyte connector's record of a stream its catalog does not declare
            raise RecordError(f"the source sent a record of stream {stream!r}, which it does not declare",
                              stream=stream, field="(the stream)",
                              hint="the source is at fault (a connector bug or version mismatch): report it to "
                                   "its authors; the record is kept here")
        encoded = type(data) is EncodedRecord
        if encoded:  # the remote's own text, staged as it is: only the key, cursor and join fields are read
            get = data.field
        elif type(data) is dict or isinstance(data, dict):
            get = data.get
        else:
            raise UnstageableRecord(f"the record is a {type(data).__name__}, not an object", stream=stream,
                                    field="(the record)", hint="report it to the plugin's authors")
        if single is not None:
            part = get(single)
            if type(part) is int and _INT_MIN <= part <= _INT_MAX:
                key: str | None = str(part)
            else:
                key = key_text([part], fields, stream=stream)
        else:
            key = key_text([get(f) for f in fields], fields, stream=stream) if fields else None
        if key is None:
            raise RecordError("record has no primary key", stream=stream, field=str(pk),
                              hint="the source emitted a record it cannot identify; report it to the plugin's "
                                   "authors")
        text = _encoded_text(data, stream, key, limit) if encoded else record_text(data, stream=stream, key=key,
                                                                                   limit=limit)
        cur = get(cursor_field) if cursor_field else None
        if cur is None or cls is None:
            cursor = None
        elif plain_cursor and type(cur) is str and cur.isascii():  # what `staged_cursor` makes of it: the text
            cursor = cur
        else:
            cursor = staged_cursor(cls, cur, key)
        join = get(join_field) if join_field else None
        return StagedRow(key, cursor, text, None if join is None else _join_text(join))

    return stage


def _encoded_text(record: EncodedRecord, stream: str, key: str, limit: int) -> str:
    """An encoded record's text, which staging stores as it is (`EncodedRecord.of` checked what it holds),
    unless it is larger than a staged record may be."""
    text = record.text
    if len(text) > limit:  # the same refusal, in the same words, as `record_text`'s
        return record_text(record, stream=stream, key=key, limit=limit)
    return text


def _default_cursor(cls: type[Stream]) -> bool:
    """Whether the stream compares cursors as `Stream.parse_cursor` does (their text)."""
    return getattr(cls.parse_cursor, "__func__", None) is Stream.parse_cursor.__func__


def _join_text(value: Any) -> str | None:
    """A join value as staging stores it; one that cannot be text joins nothing (the record still stages)."""
    try:
        text = str(value)
        text.encode("utf-8")
        return text
    except (ValueError, UnicodeError):
        return None


def staged_cursor(cls: type[Stream], value: Any, key: str | None = None) -> str | None:
    """The cursor as staging stores it: text that sorts as the stream's `parse_cursor` compares (times in UTC,
    numbers zero-padded), so a late page never rolls a record back. Unreadable: None (the arrival wins)."""
    try:
        parsed = cls.parse_cursor(value)
        if isinstance(parsed, datetime):
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
            return parsed.isoformat(timespec="microseconds")
        if isinstance(parsed, int) and not isinstance(parsed, bool) and parsed >= 0:
            return f"{parsed:020d}"
        text = str(parsed)
        text.encode("utf-8")
        return text
    except Exception as exc:  # noqa: BLE001 — a stream's parse_cursor is plugin code; any failure means "unreadable"
        log.warning("%s %s: cursor %s cannot be read (%s); staged without one", cls.name, key,
                    safe_text(repr(value), 200), safe_text(exc, 200))
        return None


class _Pending:
    """What waits for the next flush: per stream, the records read (as staging stores them, one list a
    column), and the newest STATE of each stream, which covers those records and everything staged before.
    A flush stages both in one transaction: a STATE never commits without the records it covers."""

    __slots__ = ("rows", "count", "chars", "states", "since")

    def __init__(self) -> None:
        self.rows: dict[str, list[StagedRow]] = {}
        self.count = 0
        self.chars = 0
        self.states: dict[str, protocol.Message] = {}
        self.since = time.monotonic()

    def add(self, stream: str, row: StagedRow) -> None:
        rows = self.rows.get(stream)
        if rows is None:
            rows = self.rows[stream] = []
        rows.append(row)
        self.count += 1
        self.chars += len(row.text)

    def clear(self) -> None:
        self.rows.clear()
        self.states.clear()
        self.count = self.chars = 0
        self.since = time.monotonic()

    def __bool__(self) -> bool:
        return bool(self.count or self.states)


def extract(source: Source, config: dict[str, Any], streams: list[str] | None, store: Store, run_id: int,
            progress: Callable[..., None] = NO_PROGRESS, should_stop: Callable[[], bool] = NEVER) -> dict[str, Any]:
    """Read → stage (`_extract`), with the interpreter tuned for reading (`read_tuning`)."""
    with reading_tuned():
        return _extract(source, config, streams, store, run_id, progress, should_stop)


def _extract(source: Source, config: dict[str, Any], streams: list[str] | None, store: Store, run_id: int,
             progress: Callable[..., None], should_stop: Callable[[], bool]) -> dict[str, Any]:
    """Read → stage. Returns counts; raises nothing for bad records (they are dead letters, and the STATE after
    them commits, so the next run does not read them again).

    Records are staged in bulk, a flush per FLUSH_ROWS records, `_flush_chars` of JSON or COMMIT_EVERY_S with a
    STATE waiting, whichever comes first; each flush is one transaction holding the records and the newest
    STATE of each stream read so far (a STATE follows every record it covers, so all of them are in this flush
    or an earlier one).

    A STATE with a `waiting` entry (`remote_waits`) is committed at once: its stream is about to wait for a remote,
    and the next run must find what it waits for. Streams whose last STATE waits are listed in `waiting`.

    When `should_stop()` turns true (checked at each STATE and every PROGRESS_EVERY records) what was read is
    flushed and the read ends early: `stopped` in the counts; the next run reads on from that commit."""
    catalog = configured_catalog(source, streams)
    classes = {c.name: c for c in source.stream_classes()}
    join_fields = {other: ofield for n in source.normalisers() for other, (ofield, _) in n.join.items()}
    stagers: dict[str, Callable[[Any], StagedRow]] = {}
    config = apply_stored_credentials(source, config, store)
    pending = _Pending()
    flusher = _Flusher(store, run_id)
    flush_chars = _flush_chars(store)
    read: Counter[str] = Counter()
    dead = 0
    unreported = 0  # records read since the last progress report
    error: str | None = None
    stopped = False
    #: streams whose newest STATE says they wait for a remote (an Amazon report): what for, and until when
    waiting: dict[str, dict[str, str]] = {}
    RECORD, STATE = protocol.MessageType.RECORD, protocol.MessageType.STATE

    def flush() -> None:
        """Hand what is pending to the flusher (which first waits for the flush before it, raising its error)."""
        nonlocal pending, unreported
        batch, pending = pending, _Pending()
        with shielded():  # a second stop signal waits for the commit in flight
            flusher.submit(batch)
        if unreported:
            progress("read", unreported)
            unreported = 0

    def finish() -> None:
        """The last flush, and its commit."""
        flush()
        with shielded():
            flusher.wait()

    def save_credential(name: str, value: str) -> None:
        """What the source keeps beside a rotated secret, stored as a CONTROL message's secret is: between flushes."""
        with shielded():
            flusher.wait()  # the store is written from this thread only between flushes
        store.credentials.save(name, value)

    def take(stream: str, data: Any) -> bool:
        """Stage one record (or file it as a dead letter); True when the read should stop now."""
        nonlocal dead, unreported
        stager = stagers.get(stream)
        if stager is None:
            stager = stagers[stream] = _stager(classes.get(stream), stream, join_fields.get(stream))
        try:
            row = stager(data)
        except RecordError as exc:
            # the letter is filed (and committed) before any STATE after this record can be (the flush in
            # flight, if any, holds the store until it commits: it covers only records before this)
            dead += 1
            store.dead_letters.add(stage="read", stream=stream, record_key=exc.key, record=_letter_record(data),
                                   run_id=run_id, error=exc)
            progress("read", 1)
            return False
        pending.add(stream, row)
        read[stream] += 1
        unreported += 1
        if pending.count >= FLUSH_ROWS or pending.chars >= flush_chars:
            flush()
            return should_stop()
        if unreported >= PROGRESS_EVERY:
            progress("read", unreported)
            unreported = 0
            return should_stop()
        return False

    source.read_context = CheckContext(save_credential=save_credential, load_credential=store.credentials.load)
    # Source's own reading loop hands a paged stream's records over a page at a time (no RECORD message each)
    source.hand_pages = type(source).read is Source.read and type(source).read_streams is Source.read_streams
    messages = source.read(config, catalog, store.source_state())
    try:
        for message in messages:
            if type(message) is RecordPage:
                stream = message.stream
                if any(take(stream, data) for data in message.records):
                    stopped = True
                    break
                continue
            kind = message.type
            if kind is RECORD:
                rec = message.record
                if take(rec.stream, rec.data):
                    stopped = True
                    break
            elif kind is STATE:
                name = _state_stream(message)
                waits = None
                if name is not None:
                    pending.states[name] = message
                    waits = _waiting(message)
                    if waits is None:
                        waiting.pop(name, None)
                    else:
                        waiting[name] = waits
                if waits is not None:
                    flush()  # a stream about to wait for a remote (in this run or the next): its STATE commits now
                if should_stop():
                    stopped = True
                    break
                if time.monotonic() - pending.since >= COMMIT_EVERY_S:
                    flush()
            elif kind == protocol.MessageType.CONTROL:
                with shielded():
                    flusher.wait()  # the store is written from this thread only between flushes
                _save_control(source, message, config, store)
            elif kind == protocol.MessageType.LOG and message.log is not None:
                log.log(logging.WARNING if message.log.level.value in ("WARN", "ERROR", "FATAL") else logging.DEBUG,
                        "%s: %s", source.name, safe_text(message.log.message, 2000))
            elif kind == protocol.MessageType.TRACE and message.trace and message.trace.error:
                log.error("%s: %s", source.name, safe_text(message.trace.error.message, 2000))
        finish()
        if stopped:
            log.warning("read stopped early, as asked: what was read is committed; the next sync reads on from there")
            close = getattr(messages, "close", None)
            if close is not None:
                close()  # the source's generator ends now (its `finally` blocks run)
    except StoreOutOfMemory as exc:
        pending.clear()  # undone with its transaction; read again next run (its STATE was not saved either)
        error = str(exc.message)
        log.error("read stopped: %s", error)
    except LedgerlinkError as exc:
        error = f"{source.name}: {exc}"
        log.error("read stopped: %s", error)
    except Exception as exc:  # noqa: BLE001 — the source is plugin code: its crash fails the read, not the process
        error = f"{source.name} failed while reading: {type(exc).__name__}: {safe_text(exc, 2000)}"
        log.exception("read stopped: %s", error)
    finally:
        try:
            # the flush in flight commits (or is undone) before anything else; then, unless a flush failed
            # (a later STATE would cover its records), what the source sent before it stopped is staged with
            # the STATEs that came before the failure
            with shielded():
                flusher.wait()
            if pending and flusher.failed is None:
                finish()
        except StoreOutOfMemory as exc:
            error = error or str(exc.message)
            log.error("read stopped: %s", exc.message)
        except Exception as exc:  # noqa: BLE001 — a flush that failed while the source was failing too
            error = error or f"staging failed: {type(exc).__name__}: {safe_text(exc, 2000)}"
            log.error("read stopped: %s", error)
        finally:
            flusher.close()
            source.hand_pages = False
    dead += flusher.dead
    return {"read": dict(read), "read_total": sum(read.values()), "read_dead_letters": dead, "read_error": error,
            **({"stopped": True} if stopped else {}), **({"waiting": waiting} if waiting else {})}


class _Flusher:
    """Stages and commits flushes on one worker thread while the source reads on (DuckDB works without the
    GIL, so the next pages are fetched and parsed meanwhile). One flush at a time, in order: a flush starts
    only once the one before it committed, and after a failed one nothing more is committed (its records are
    read again next run; a later STATE would skip them). Memory: the batch in flight and the one filling."""

    def __init__(self, store: Store, run_id: int):
        self.store, self.run_id = store, run_id
        self.dead = 0  # records staging refused one by one (written by the worker only)
        self.failed: BaseException | None = None
        self._future: Future[None] | None = None
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, batch: _Pending) -> None:
        """Start flushing `batch` once the flush in flight has committed (its failure is raised here)."""
        self.wait()
        if self.failed is not None:
            raise self.failed
        if not batch:
            return
        if self.store.db.in_transaction:  # inside the caller's transaction (a dry run): it holds the store, flush here
            try:
                _flush(batch, self.store, self.run_id, self._count_dead)
            except BaseException as exc:
                self.failed = exc
                raise
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledgerlink-stage")
        context = contextvars.copy_context()  # the run's log context
        self._future = self._pool.submit(context.run, _flush, batch, self.store, self.run_id, self._count_dead)

    def _count_dead(self) -> None:
        self.dead += 1

    def wait(self) -> None:
        """Until the flush in flight has committed; its failure is raised (once) and remembered in `failed`."""
        future = self._future
        if future is None:
            return
        try:
            future.result()
        except BaseException as exc:
            if future.done() and future.exception() is exc:
                self._future = None
                self.failed = exc
            raise
        self._future = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


#: records staged (and committed) together at most: DuckDB's bulk insert is fast, a statement per page is not
FLUSH_ROWS = 50_000
#: a STATE waits at most this long (in seconds of reading) for the flush that commits it: a slow source still
#: saves its progress often
COMMIT_EVERY_S = 2.0
#: records between two progress reports
PROGRESS_EVERY = 1000


def _state_stream(message: protocol.Message) -> str | None:
    """The stream a per-stream STATE is about (other kinds are not stored)."""
    st = message.state
    if st is None or st.stream is None:
        return None
    return st.stream.stream_descriptor.name


def _waiting(message: protocol.Message) -> dict[str, str] | None:
    """What a per-stream STATE says its stream waits for (`remote_waits.WAITING`), if anything."""
    st = message.state.stream if message.state is not None else None
    if st is None or st.stream_state is None:
        return None
    extra = st.stream_state.__pydantic_extra__ or {}
    return waiting_of(extra) if "waiting" in extra else None


def _flush(pending: _Pending, store: Store, run_id: int, count_dead: Callable[[], None]) -> None:
    """Stage what is pending and, in the same transaction, the STATEs that cover it."""
    try:
        with store.db.transaction():
            for stream, rows in pending.rows.items():
                keys, cursors, texts, joins = zip(*rows)
                store.raw.stage(stream, keys, cursors, texts, joins, run_id)
            for message in pending.states.values():
                _save_state(message, store)
    except _RECORD_FAULTS as exc:
        # something here staging refuses that the checks before did not see: each record on its own, the
        # ones refused as dead letters, then the states
        log.warning("a batch could not be staged (%s); staging its records one by one", safe_text(exc, 300))
        _stage_one_by_one(pending.rows, store, run_id, count_dead)
        with store.db.transaction():
            for message in pending.states.values():
                _save_state(message, store)


#: what a batch's failure to stage can blame on one of its records (not on memory or the disk)
_RECORD_FAULTS = (duckdb.InvalidInputException, duckdb.ConversionException, pa.ArrowException, UnicodeError,
                  ValueError)


def _flush_chars(store: Store) -> int:
    """Stage (and commit) at least every this many characters of JSON: DuckDB holds a transaction's new rows in
    memory until it commits, and a commit larger than its limit fails."""
    return max(1 << 20, store.db.memory_limit_bytes // 8)


def _save_state(message: protocol.Message | None, store: Store) -> None:
    """Commit a stream's STATE; one that cannot be stored (a cursor taken from a poison record) is not saved,
    so the stream is read again from its last good state rather than the run failing."""
    if message is None or message.state is None or message.state.stream is None:
        return
    st = message.state.stream
    blob = st.stream_state.model_dump() if st.stream_state else {}
    name = st.stream_descriptor.name
    try:
        record_text(blob, stream=name)
    except RecordError as exc:
        log.error("%s: the source's state cannot be saved (%s); the stream is read again from its last saved "
                  "state next run", safe_text(name, 200), exc.message)
        return
    store.save_source_state(name, blob)


def _stage_one_by_one(buffers: dict[str, list[StagedRow]], store: Store, run_id: int,
                      count_dead: Callable[[], None]) -> None:
    for stream, rows in buffers.items():
        for row in rows:
            try:
                with store.db.transaction():
                    store.raw.stage(stream, [row.key], [row.cursor], [row.text], [row.join_key], run_id)
            except _RECORD_FAULTS as exc:
                count_dead()
                store.dead_letters.add(
                    stage="read", stream=stream, record_key=row.key, record=_loads_or_text(row.text),
                    run_id=run_id, error=UnstageableRecord(f"staging refused it: {safe_text(exc, 500)}",
                                                           stream=stream, key=row.key, field="(the record)"))


def _letter_record(data: Any) -> Any:
    """What a dead letter keeps of a record the stager refused: an encoded one as the object it stands for."""
    if type(data) is EncodedRecord:
        try:
            return data.decode()
        except (ValueError, RecursionError):
            return data.text
    return data


def _loads_or_text(text: str) -> Any:
    try:
        return jsonutil.loads(text)
    except (ValueError, RecursionError):
        return text
