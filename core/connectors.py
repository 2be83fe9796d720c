"""Base classes for connectors: Source, Destination and declarative streams.

A source reads a remote system and yields Airbyte messages; records are the API's own objects.
A destination plans canonical objects into writes and writes batches of them. Both keep the Airbyte
contract (`spec`, `check`, `discover`, `read`/`write`) so any connector runs under Airbyte too.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, ClassVar, Iterable, Iterator, Protocol

import httpx
import msgspec
import orjson
from pydantic import BaseModel, ValidationError

from . import jsonutil, protocol
from .commerce import CanonicalObject, SourceRef
from .errors import LedgerlinkError, RecordError, RemoteError
from .http import HttpClient
from .secrets import mask, register_config_secrets

__all__ = [
    "Connector", "Source", "Destination", "Stream", "HttpStream", "ChildStream", "Checkpoint", "Normaliser",
    "PlannedWrite", "OutboundRecord", "WriteResult", "WriteContext", "PlanContext", "ReferenceCache",
    "ObjectType", "idempotency_key", "request_id", "state_by_stream", "PostedDocument", "LedgerDocument",
    "StoreContext", "CheckContext",
]


@dataclass
class CheckContext:
    """What `check` may use besides the config: the pipeline's credential store, so that a refresh token the
    remote rotates while a connection is checked is stored at once, never lost (the old one no longer works).
    Outside a pipeline (`ledgerlink check CONNECTOR --config`) nothing is stored."""

    #: persist a credential under the connector's own name for it, encrypted (as `WriteContext.save_credential`)
    save_credential: Callable[[str, str], None] = lambda name, value: None
    #: a stored credential newer than the config's, if any
    load_credential: Callable[[str], str | None] = lambda name: None
    #: the config's secret `field` was replaced by the remote: stored where the next sync reads it (as a
    #: source's CONTROL message during `read`)
    rotated: Callable[[str, str], None] = lambda field, value: None


class Connector:
    """What sources and destinations share: a name, a config model, spec and check."""

    name: ClassVar[str]
    #: pydantic model of the config; mark secrets with `json_schema_extra={"airbyte_secret": True}`
    config_model: ClassVar[type[BaseModel]]
    documentation_url: ClassVar[str | None] = None

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        schema = cls.config_model.model_json_schema()
        schema.setdefault("title", f"{cls.name} config")
        return schema

    def spec(self) -> protocol.Spec:
        """Airbyte's SPEC. A destination that declares `options_model` also carries its JSON Schema as
        `optionsSpecification` (Airbyte's ConnectorSpecification allows extra properties), so a form for the
        pipeline's `destination.options` can be generated from the spec alone."""
        options = self.options_schema()
        return protocol.Spec(documentationUrl=self.documentation_url,
                             connectionSpecification=self.config_schema(), protocol_version="0.5.2",
                             **({"optionsSpecification": options} if options is not None else {}))

    @classmethod
    def options_schema(cls) -> dict[str, Any] | None:
        """The JSON Schema of the connector's pipeline options (`options_model`), or None when it declares none."""
        model = getattr(cls, "options_model", None)
        if model is None:
            return None
        schema = model.model_json_schema()
        schema.setdefault("title", f"{cls.name} options")
        return schema

    def parse_config(self, config: dict[str, Any], where: str = "config") -> BaseModel:
        """Validate a raw config dict; every wrong key is named, with a did-you-mean (`ledgerlink.OptionsError`).
        Registers its secrets for masking first (a secret's value is never echoed)."""
        from .options import check_options

        register_config_secrets(config, self.config_schema())
        return check_options(self.config_model, config, where=where,
                             hint=f"see `ledgerlink spec {self.name}` for the expected fields")

    #: set by `check` for `check_connection`: where a rotated credential goes
    check_context: CheckContext = CheckContext()

    def check(self, config: dict[str, Any], context: CheckContext | None = None) -> protocol.ConnectionStatus:
        """Airbyte's check. `context` (the runtime passes the pipeline's credential store) is available to
        `check_connection` as `self.check_context`."""
        self.check_context = context or CheckContext()
        try:
            self.check_connection(self.parse_config(config))
        except LedgerlinkError as exc:
            return protocol.ConnectionStatus(status=protocol.Status.FAILED, message=mask(str(exc)))
        return protocol.ConnectionStatus(status=protocol.Status.SUCCEEDED)

    def check_connection(self, config: Any) -> None:
        """Raise a LedgerlinkError when the remote cannot be reached with this config. A credential the remote
        rotates meanwhile goes to `self.check_context` (`rotated`, or `save_credential`)."""


# ------------------------------------------------------------------------------------------------ sources


class Checkpoint:
    """Yielded by a stream between records when everything before it is safe to commit (e.g. a page end)."""

    __slots__ = ()


CHECKPOINT = Checkpoint()


class RecordPage:
    """A page of one stream's records handed on together, inside the runtime: staging takes them in one go,
    without a RECORD message each. `Source.read_streams` yields these only when the runtime's staging asks for
    them (`Source.read` as it is, no plugin code between); to anyone else a stream's records come one by one."""

    __slots__ = ("stream", "records")

    def __init__(self, stream: str, records: list[Any]):
        self.stream = stream
        self.records = records


class Stream:
    """A stream of records, declared by attributes; override `read_records`."""

    name: ClassVar[str]
    primary_key: ClassVar[str | list[str] | None] = None
    cursor_field: ClassVar[str | None] = None
    json_schema: ClassVar[dict[str, Any]] = {"type": "object", "additionalProperties": True}

    def __init__(self, config: Any):
        self.config = config
        self.state: dict[str, Any] = {}

    def read_records(self, state: dict[str, Any]) -> Iterator[dict[str, Any] | Checkpoint | protocol.Message]:
        """Yield records (dicts), `CHECKPOINT` markers after which `self.state` is safe to commit, or
        ready-made messages (e.g. records of a child stream).

        A stream that waits for a remote preparing its data longer than `wait_in_run_budget()` allows puts
        `waiting: waiting_state(what, until)` in its state, yields CHECKPOINT and returns: that STATE commits at
        once and the sync reports the stream waiting (`ledgerlink.remote_waits`)."""
        raise NotImplementedError

    def observe(self, record: dict[str, Any]) -> None:
        """Advance the cursor state past `record` (the default keeps the greatest cursor value, compared as
        `parse_cursor` reads it)."""
        if self.cursor_field:
            value = record.get(self.cursor_field)
            if value is None:
                return
            current = self.state.get(self.cursor_field)
            if current is None:
                self.state[self.cursor_field] = value
            elif type(value) is str and type(current) is str and _TEXT_CURSOR.get(type(self)) is not False \
                    and _text_cursor(type(self)):  # the default `parse_cursor` of two texts: the texts compare
                if value > current:
                    self.state[self.cursor_field] = value
            elif self.parse_cursor(value) > self.parse_cursor(current):
                self.state[self.cursor_field] = value

    @classmethod
    def parse_cursor(cls, value: Any) -> Any:
        """A cursor value as it compares, wherever cursors are compared (`observe`, and staging, which keeps a
        record's newest version). The default compares the text, which is right for ISO 8601 times; override
        when the API's text does not sort (BigCommerce's RFC 2822 `date_modified` parses to a datetime). Return
        a str, an int or a datetime; raise RecordError for a value that cannot be read."""
        return str(value)

    @classmethod
    def key_paths(cls) -> list[list[str]] | None:
        pk = cls.primary_key
        if pk is None:
            return None
        return [[p] for p in ([pk] if isinstance(pk, str) else pk)]

    @classmethod
    def airbyte_stream(cls) -> protocol.Stream:
        modes = [protocol.SyncMode.full_refresh]
        if cls.cursor_field:
            modes.append(protocol.SyncMode.incremental)
        return protocol.Stream(name=cls.name, json_schema=cls.json_schema, supported_sync_modes=modes,
                               source_defined_cursor=bool(cls.cursor_field) or None,
                               default_cursor_field=[cls.cursor_field] if cls.cursor_field else None,
                               source_defined_primary_key=cls.key_paths(), is_resumable=bool(cls.cursor_field))


#: per stream class: whether it compares cursors as `Stream.parse_cursor` does (their text)
_TEXT_CURSOR: dict[type, bool] = {}


def _text_cursor(cls: type) -> bool:
    found = _TEXT_CURSOR.get(cls)
    if found is None:
        found = _TEXT_CURSOR[cls] = getattr(cls.parse_cursor, "__func__", None) is Stream.parse_cursor.__func__
    return found


class HttpStream(Stream):
    """A stream over one paged HTTP endpoint (singer-sdk style): set `path`, `operation`, `records_path`;
    override `request_params`, `next_page_token` or `parse_response` where the API differs."""

    path: ClassVar[str]
    http_method: ClassVar[str] = "GET"
    operation: ClassVar[str]
    #: the rate-limit bucket the requests count against, when several operations share one limit (default:
    #: the operation's own bucket); buckets are per client `rate_key`, so per seller × region, realm or store
    bucket: ClassVar[str | None] = None
    records_path: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Any, client: HttpClient):
        super().__init__(config)
        self.client = client

    def request_params(self, state: dict[str, Any], page_token: Any | None) -> dict[str, Any]:
        return {}

    def request_path(self, state: dict[str, Any], page_token: Any | None) -> str:
        return self.path

    def next_page_token(self, response: httpx.Response, body: Any) -> Any | None:
        return None

    def parse_response(self, response: httpx.Response, body: Any) -> Iterable[dict[str, Any]]:
        node = body
        for part in self.records_path:
            node = (node or {}).get(part) if isinstance(node, dict) else None
        return node or []

    #: a GET for the next page is sent as soon as this page is parsed, and travels while this page's records
    #: are handed on (staged); its parameters are built, as before, from the state this page's records leave
    prefetch_pages: ClassVar[bool] = True
    #: hand each record of a page over as the remote's own JSON text (`EncodedRecord`), staged as it is: only
    #: the primary key and cursor are decoded, so a page costs a fraction of decoding every record and writing
    #: it back. Opt in where the remote's text is what should be staged: numbers are kept as the remote wrote
    #: them ("10.50", not the 10.5 a decoded float would give), which changes the staged text (not the values)
    #: of records staged before. Used only when `parse_response` is HttpStream's own and `records_path` is set;
    #: a page that is unusual in any way (see `read_text_page`) is read as before.
    stage_text: ClassVar[bool] = False

    def _body(self, response: httpx.Response) -> Any:
        """The page as `parse_response` and `next_page_token` receive it."""
        if not response.content:
            return None
        if self.stage_text and self.records_path and type(self).parse_response is HttpStream.parse_response:
            body = read_text_page(response.content, self.records_path, _text_fields(self))
            if body is not None:
                return body
        return _response_json(response)

    def reads_pages(self) -> bool:
        """Whether its records are read a page at a time (`read_pages`): a GET with `prefetch_pages`, and
        HttpStream's own `read_records` (a stream that overrides it is read its own way)."""
        return self.prefetch_pages and self.http_method == "GET" and \
            type(self).read_records is HttpStream.read_records

    def read_records(self, state: dict[str, Any]) -> Iterator[dict[str, Any] | Checkpoint | protocol.Message]:
        if self.prefetch_pages and self.http_method == "GET":
            for item in self.read_pages(state):
                if type(item) is RecordPage:
                    yield from item.records
                else:
                    yield item
            return
        self.state = dict(state)
        token: Any | None = None
        while True:  # a page at a time: a POST's next page is built from what this page's records leave
            response = self.client.request(self.http_method, self.request_path(self.state, token),
                                           operation=self.operation, bucket=self.bucket,
                                           params=self.request_params(self.state, token))
            body = self._body(response)
            for rec in self.parse_response(response, body):
                self.observe(rec)
                yield rec
            token = self.next_page_token(response, body)
            yield CHECKPOINT
            if token is None:
                return

    def read_pages(self, state: dict[str, Any]) -> Iterator[RecordPage | Checkpoint]:
        """`read_records` a page at a time (GET with `prefetch_pages`): each page's records as one RecordPage,
        observed, then a CHECKPOINT; the next page is sent before this one is handed on."""
        self.state = dict(state)
        token: Any | None = None
        sent = None
        while True:
            if sent is not None:
                response = sent.result()
            else:
                response = self.client.request(self.http_method, self.request_path(self.state, token),
                                               operation=self.operation, bucket=self.bucket,
                                               params=self.request_params(self.state, token))
            body = self._body(response)
            records = list(self.parse_response(response, body))
            for rec in records:
                self.observe(rec)
            token = self.next_page_token(response, body)
            sent = None if token is None else self.client.request_soon(
                self.http_method, self.request_path(self.state, token), operation=self.operation,
                bucket=self.bucket, params=self.request_params(self.state, token))
            if records:
                yield RecordPage(self.name, records)
            yield CHECKPOINT
            if token is None:
                return


def _text_fields(stream: Stream) -> tuple[str, ...]:
    """The top-level fields staging reads of a record: its primary key's parts and its cursor."""
    pk = stream.primary_key
    names = [pk] if isinstance(pk, str) else list(pk or [])
    if stream.cursor_field and stream.cursor_field not in names:
        names.append(stream.cursor_field)
    return tuple(names)


_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])


@functools.lru_cache(maxsize=64)
def _fields_decoder(fields: tuple[str, ...]) -> msgspec.json.Decoder:
    """A decoder of one record that keeps only `fields` (decoded, absent ones UNSET): msgspec skips the rest
    without building them, about half the cost of reading every top-level field. Values decode as orjson's
    would (the page has no number of twenty digits or more, which is where the two differ)."""
    names = [f"f{i}" for i in range(len(fields))]
    struct = msgspec.defstruct("StagedFields", [(n, Any, msgspec.UNSET) for n in names],
                               rename=dict(zip(names, fields)))
    return msgspec.json.Decoder(struct)


def read_text_page(content: bytes, records_path: tuple[str, ...], fields: tuple[str, ...]) -> Any | None:
    """The page decoded as usual except for its records (at `records_path`), which are `EncodedRecord`s of
    their own text with `fields` decoded; None when anything about the page is unusual (not JSON, no list at
    the path, a record that is not an object or that staging could not store as it is, twenty digits in a
    row): the page is then decoded whole, as before, so what fails, and how, is unchanged."""
    from .encoded_record import EncodedRecord

    if _TWENTY_DIGITS in content.translate(_DIGITS_AS_ZERO):
        return None
    try:
        levels = [_TOP.decode(content)]
        for part in records_path[:-1]:
            raw = levels[-1].get(part)
            if raw is None:
                return None
            levels.append(_TOP.decode(raw))
        raw = levels[-1].get(records_path[-1])
        if raw is None:
            return None
        decode_fields, unset = _fields_decoder(fields).decode, msgspec.UNSET
        records: list[Any] = []
        for item in _RAW_LIST.decode(raw):
            values = msgspec.structs.astuple(decode_fields(item))
            record = EncodedRecord.of(item, {name: value for name, value in zip(fields, values) if value is not unset})
            if record is None:
                return None
            records.append(record)
        # everything beside the records, decoded as `_response_json` would (`next_page_token` reads it)
        body: Any = records
        for level, part in zip(reversed(levels), reversed(records_path)):
            body = {**{k: orjson.loads(bytes(v)) for k, v in level.items() if k != part}, part: body}
        return body
    except (msgspec.DecodeError, orjson.JSONDecodeError, RecursionError, TypeError):
        return None


def _response_json(response: httpx.Response) -> Any:
    """`response.json()`, three times faster: orjson reads the same values; a body it refuses (NaN, lone
    surrogates, other encodings) or might read otherwise (twenty digits in a row: an integer beyond 64 bits
    would become a float) goes to the standard library as before."""
    content = response.content
    if _TWENTY_DIGITS not in content.translate(_DIGITS_AS_ZERO):  # a C pass, a fifth of orjson's time
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass
    return response.json()


_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_TWENTY_DIGITS = b"0" * 20


class ChildStream(HttpStream):
    """A stream read while its parent is read (order items while reading orders): one call per parent
    record, records emitted before the parent's checkpoint, and the parent's cursor as its state.

    Override `parent()` to build the parent stream, set up to yield this child's records as ready-made
    messages. Read on its own, the child walks the parent and keeps only its own records."""

    def parent(self) -> Stream:
        raise NotImplementedError

    def read_records(self, state: dict[str, Any]) -> Iterator[dict[str, Any] | Checkpoint | protocol.Message]:
        parent = self.parent()
        for item in parent.read_records(state):
            if isinstance(item, protocol.Message):
                if item.record is not None and item.record.stream == self.name:
                    yield item.record.data
            elif isinstance(item, Checkpoint):
                self.state = dict(parent.state)
                yield item
        self.state = dict(parent.state)

    @classmethod
    def airbyte_stream(cls) -> protocol.Stream:
        """Incremental through the parent's cursor (a child record has no update time of its own)."""
        stream = super().airbyte_stream()
        stream.supported_sync_modes = [protocol.SyncMode.full_refresh, protocol.SyncMode.incremental]
        stream.source_defined_cursor = True
        stream.is_resumable = True
        return stream


def state_by_stream(state: Any) -> dict[str, dict[str, Any]]:
    """Accept Airbyte's per-stream STATE list, a GLOBAL state, or a legacy {stream: state} dict."""
    if not state:
        return {}
    if isinstance(state, dict):
        if state.get("type") is None:
            return {k: v for k, v in state.items() if isinstance(v, dict)}
        state = [state]
    out: dict[str, dict[str, Any]] = {}
    for item in state:
        msg = protocol.State.model_validate(item) if isinstance(item, dict) else item
        if msg.stream is not None:
            out[msg.stream.stream_descriptor.name] = (msg.stream.stream_state.model_dump()
                                                      if msg.stream.stream_state else {})
        elif msg.global_ is not None:
            for s in msg.global_.stream_states:
                out[s.stream_descriptor.name] = s.stream_state.model_dump() if s.stream_state else {}
        elif msg.data:
            out.update({k: v for k, v in msg.data.items() if isinstance(v, dict)})
    return out


def fields_schema(fields: dict[str, list[str]], declared: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON Schema of a stream's records from its fields and their JSON types (a plugin's generated
    `STREAM_FIELDS[stream]`): the fields in `declared`'s properties as declared there, more fields allowed (the
    vendor adds fields), so Airbyte's tools (PyAirbyte keeps only declared fields) can read the stream."""
    declared = declared or {}
    properties: dict[str, Any] = {name: {"type": list(kinds)} for name, kinds in fields.items()}
    properties.update(declared.get("properties") or {})
    return {**declared, "type": "object", "additionalProperties": True, "properties": properties}


@dataclass(frozen=True)
class StoreContext:
    """What a normaliser may need to know about the store a record came from and that the record itself does
    not say: its id, its default currency (BigCommerce's catalog prices), its marketplace… The runtime builds it
    once per run from `Source.store_context`, after reading, so it may come from a staged record."""

    #: the store's id (`source.store` in the pipeline, else `Source.store_id`)
    store: str | None = None
    #: ISO 4217 code of the store's default currency
    currency: str | None = None
    marketplace: str | None = None
    #: anything else the source named
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        """A named value: one of the fields above, else from `values`."""
        if name in ("store", "currency", "marketplace"):
            found = getattr(self, name)
            return default if found is None else found
        return self.values.get(name, default)


@dataclass
class Normaliser:
    """How one source stream becomes canonical objects.

    For each staged record of `stream`, the runtime fetches the related records named in `join`
    (`{other_stream: (field in other, field in this)}`) in bulk and calls `function(record, related)`,
    which returns canonical objects. Raise RecordError for a record that cannot be read. With
    `needs_context`, the function is called as `function(record, related, context)`, `context` being the
    run's `StoreContext`.
    """

    stream: str
    function: Callable[..., Iterable[CanonicalObject]]
    join: dict[str, tuple[str, str]] = field(default_factory=dict)
    needs_context: bool = False

    def run(self, record: dict[str, Any], related: dict[str, list[dict[str, Any]]],
            context: StoreContext | None = None) -> list[CanonicalObject]:
        """Call the function as it asks to be called (an empty context when none is known)."""
        if self.needs_context:
            return list(self.function(record, related, context or StoreContext()))
        return list(self.function(record, related))

    def with_context(self, context: StoreContext) -> "Normaliser":
        """The same normaliser with `context` bound: called as `function(record, related)`."""
        if not self.needs_context:
            return self
        function = self.function
        return Normaliser(stream=self.stream, join=self.join,
                          function=lambda record, related: function(record, related, context))


class Source(Connector):
    """A connector that reads. Override `streams` (and `normalisers` to feed the canonical model)."""

    #: set by the runtime before `read`: the pipeline's credential store, for what a source keeps beside a secret
    #: the remote rotates (when the new one expires, `ledgerlink.expiry_name`). Save from `read`'s own generator
    #: (the thread that consumes it), as it runs; the rotated config secret itself goes out as a CONTROL message.
    #: Outside a pipeline (`ledgerlink read`, a connector process) nothing is stored.
    read_context: CheckContext = CheckContext()
    #: set by the runtime's staging when `read` and `read_streams` are Source's own: `read` may then yield a
    #: paged stream's records a page at a time (RecordPage), which only the runtime reads
    hand_pages: bool = False

    def streams(self, config: Any) -> list[Stream]:
        raise NotImplementedError

    def stream_classes(self) -> list[type[Stream]]:
        """The stream classes, for discover without a live config (override when streams are dynamic)."""
        raise NotImplementedError

    def normalisers(self) -> list[Normaliser]:
        return []

    def streams_read(self, selection: list[str] | None) -> list[str]:
        """The streams a sync reads given a pipeline's `source.streams`: the selection as written, else every
        stream the normalisers need (theirs and the ones they join), else all of them."""
        if selection:
            return list(selection)
        normalisers = self.normalisers()
        needed = sorted({n.stream for n in normalisers} | {other for n in normalisers for other in n.join})
        return needed or [c.name for c in self.stream_classes()]

    def store_id(self, config: Any) -> str | None:
        """Which store (account) this parsed config reads, e.g. a BigCommerce store hash or an Amazon seller
        id: permanent, and unique among the stores a company may be fed from. The runtime puts it in every
        canonical object's `store` and natural key (`bigcommerce@abc123/order/100`), so two stores whose ids
        overlap never post over each other, and names stored credentials by it. None (the default): the
        source's ids are unique on their own."""
        return None

    def credential_account(self, config: Any) -> str | None:
        """Which account this parsed config's stored secrets belong to (`{name}:{account}:{secret}`): the store
        id by default. A connector whose one store authorises separately per region overrides it (Amazon:
        `{seller}:{region}`), so each region's token is its own."""
        return self.store_id(config)

    def store_context(self, config: Any, staged: Callable[[str, str], dict[str, Any] | None]) -> dict[str, Any]:
        """What normalisers should know about the store this parsed config reads (see `StoreContext`):
        `currency`, `marketplace`, and any other name. Called once per run after reading; `staged(stream, key)`
        returns a staged record (e.g. BigCommerce's store settings), or None. Default: nothing."""
        return {}

    def discover(self, config: dict[str, Any]) -> protocol.Catalog:
        return protocol.Catalog(streams=[s.airbyte_stream() for s in self.stream_classes()])

    def read(self, config: dict[str, Any], catalog: protocol.ConfiguredCatalog | None = None,
             state: Any = None) -> Iterator[protocol.Message]:
        """Yield RECORD messages, and a STATE message for a stream each time its records so far are safe."""
        parsed = self.parse_config(config)
        selected = None if catalog is None else {c.stream.name for c in catalog.streams}
        if self.hand_pages:
            yield from self.read_streams(self.streams(parsed), selected, state, pages=True)
        else:
            yield from self.read_streams(self.streams(parsed), selected, state)

    def read_streams(self, streams: Iterable[Stream], selected: set[str] | None, state: Any = None, *,
                     pages: bool = False) -> Iterator[protocol.Message | RecordPage]:
        """The default reading loop over `streams` (those in `selected`, or all): a source with a custom
        `read` for some streams hands the rest to this. With `pages` (the runtime's staging), a paged HTTP
        stream's records come a page at a time as RecordPages instead of a RECORD message each."""
        states = state_by_stream(state)
        for stream in streams:
            if selected is not None and stream.name not in selected:
                continue
            yield protocol.stream_status(stream.name, "started")
            count = 0
            emitted_since = 0
            last: dict[str, Any] | None = None
            paged = pages and isinstance(stream, HttpStream) and stream.reads_pages()
            stream_state = states.get(stream.name, {})
            items = stream.read_pages(stream_state) if paged else stream.read_records(stream_state)
            for item in items:
                if type(item) is RecordPage:
                    count += len(item.records)
                    emitted_since += len(item.records)
                    yield item
                elif isinstance(item, Checkpoint):
                    # a checkpoint with no new records still counts when the state moved (a report requested)
                    if emitted_since or not count or stream.state != last:
                        last = dict(stream.state)
                        yield protocol.state_for_stream(stream.name, last, emitted_since)
                        emitted_since = 0
                elif isinstance(item, protocol.Message):
                    yield item
                else:
                    count += 1
                    emitted_since += 1
                    yield protocol.record(stream.name, item)
            yield protocol.state_for_stream(stream.name, dict(stream.state), emitted_since)
            yield protocol.stream_status(stream.name, "complete")


# ------------------------------------------------------------------------------------------- destinations


def idempotency_key(stream: str, natural_key: str) -> str:
    """The one key of a planned write: the destination object type and the canonical object's natural key.
    The same source object posted twice gets the same key, whatever pipeline posts it."""
    return f"{stream}:{natural_key}"


def request_id(key: str, send: int = 0) -> str:
    """A 36-character id derived from a key (fits QBO's requestid, 36 in batch, and Memo fields).

    `send` numbers the sends of one outbox item (`OutboundRecord.sends`): a remote that answers a repeated id
    with its first answer (QuickBooks Online) would replay an error forever, so each send after one that was
    answered carries its own id; the first send's id is the key's alone."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "ledgerlink:" + key + (f"#send{send}" if send else "")))


@dataclass
class PlannedWrite:
    """One write a destination intends to make, before it lands in the outbox."""

    stream: str
    key: str
    data: dict[str, Any]
    #: keys of planned writes that must succeed first (e.g. the Customer a SalesReceipt refers to)
    depends_on: list[str] = field(default_factory=list)
    source_refs: list[SourceRef] = field(default_factory=list)
    #: (line index in the document, source row) pairs for the audit trail
    line_refs: list[tuple[int, SourceRef]] = field(default_factory=list)
    #: the canonical object's natural key (e.g. amazon_sp/order/111-…), for look-ups and reports
    natural_key: str | None = None

    @property
    def payload_hash(self) -> str:
        return hashlib.sha256(jsonutil.dumps_bytes(self.data, sort_keys=True)).hexdigest()[:16]


@dataclass
class OutboundRecord:
    """One outbox item handed to a destination: its key, object type and payload."""

    key: str
    stream: str
    data: dict[str, Any]
    attempts: int = 0
    #: how many times it was handed to the destination before, ever (`attempts` restarts on `dlq retry`; this
    #: never does): a destination derives a fresh request id from it, see `request_id`
    sends: int = 0


@dataclass
class WriteResult:
    """What happened to one OutboundRecord. `error` set means not written; `retry` leaves it pending;
    `awaiting` means queued for a remote that confirms later (QuickBooks Desktop answers when its Web
    Connector next polls): the record waits, neither done nor failed, until `AwaitingWrites` settles it."""

    key: str
    destination_id: str | None = None
    version: str | None = None
    created: bool = True
    error: LedgerlinkError | None = None
    retry: bool = False
    awaiting: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


class ReferenceCache(Protocol):
    """Look-ups of destination reference objects by name (CustomerRef, ItemRef, AccountRef…), kept in the
    pipeline's state file. An entry may carry a short note (a plugin's own bookkeeping: the event of a last
    contact, what a sent request was) and can be forgotten when the remote object is gone."""

    def get(self, kind: str, name: str) -> str | None: ...

    def put(self, kind: str, name: str, ref_id: str, version: str | None = None) -> None: ...

    def delete(self, kind: str, name: str) -> bool:
        """Forget the entry; True if there was one."""
        ...

    def annotate(self, kind: str, name: str, note: str | None) -> bool:
        """Attach a note to an existing entry (None clears it); False if there is no such entry."""
        ...

    def note(self, kind: str, name: str) -> str | None:
        """The entry's note, if any."""
        ...


class _MemoryReferences:
    def __init__(self) -> None:
        self._refs: dict[tuple[str, str], str] = {}
        self._notes: dict[tuple[str, str], str] = {}

    def get(self, kind: str, name: str) -> str | None:
        return self._refs.get((kind, name))

    def put(self, kind: str, name: str, ref_id: str, version: str | None = None) -> None:
        self._refs[(kind, name)] = ref_id

    def delete(self, kind: str, name: str) -> bool:
        self._notes.pop((kind, name), None)
        return self._refs.pop((kind, name), None) is not None

    def annotate(self, kind: str, name: str, note: str | None) -> bool:
        if (kind, name) not in self._refs:
            return False
        if note is None:
            self._notes.pop((kind, name), None)
        else:
            self._notes[(kind, name)] = note
        return True

    def note(self, kind: str, name: str) -> str | None:
        return self._notes.get((kind, name))


@dataclass
class WriteContext:
    """What the runtime gives a destination when it opens: reference cache, credential persistence, output."""

    references: ReferenceCache = field(default_factory=_MemoryReferences)
    #: persist a rotated credential (e.g. refresh token) under a name, encrypted, immediately
    save_credential: Callable[[str, str], None] = lambda name, value: None
    #: a stored credential newer than the config's, if any
    load_credential: Callable[[str], str | None] = lambda name: None
    emit: Callable[[protocol.Message], None] = lambda message: None
    dry_run: bool = False


@dataclass
class ObjectType:
    """An object a destination can write, for `discover` (Airbyte DESTINATION_CATALOG)."""

    name: str
    matching_keys: list[list[str]]
    json_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    sync_mode: str = "append_dedup"


class PlanContext(Protocol):
    """What `Destination.plan` may use: rendering a mapping and the pipeline's options for this destination.

    Every template sees the raw pipeline options as `options`; that variable name is reserved."""

    options: dict[str, Any]
    #: lives for one run: a plan may remember what it already parsed or rendered (options, the Customer and
    #: Item payloads every order of a marketplace shares), keyed by whatever determines the result
    cache: dict[Any, Any]

    def render(self, template: str, record_key: str | None = None, **variables: Any) -> Any:
        """Render the named mapping (the user's override if the pipeline names one) into a payload."""
        ...

    def posted(self, natural_key: str) -> list["PostedDocument"]:
        """What this destination already planned or posted for a canonical object (its outbox rows, any status,
        with the id the destination gave each): an unpaid order invoiced last week is paid by a payment, not
        sold again as a receipt; a cancelled order voids only what exists. Empty when nothing was."""
        ...


@dataclass
class PostedDocument:
    """A document ledgerlink posted: its key, what it planned (`data`) and the id the destination gave it."""

    key: str
    stream: str
    data: dict[str, Any]
    destination_id: str | None = None
    natural_key: str | None = None
    #: its outbox status (pending, awaiting, done, dead), where known
    status: str | None = None


@dataclass
class LedgerDocument:
    """A document as the ledger holds it now, read back for `ledgerlink reconcile`. `key` is the ledgerlink
    key found on it (None for documents ledgerlink did not post); `expected_total` is what the planned payload
    says the total should be, `total` what the ledger says it is."""

    stream: str
    destination_id: str
    key: str | None
    total: Decimal | None = None
    expected_total: Decimal | None = None


class Destination(Connector):
    """A connector that writes. Override `plan` (canonical → writes) and `write_batch` (writes → remote)."""

    objects: ClassVar[list[ObjectType]] = []
    #: the order in which object types are written (references before the documents that use them)
    write_order: ClassVar[list[str]] = []
    batch_size: ClassVar[int] = 30
    #: pydantic model of the pipeline's `destination.options` (derive it from `ledgerlink.Options`: unknown keys
    #: refused); checked when the pipeline is loaded, before anything runs, and published in the spec. None: the
    #: destination takes no options it declares, and what a pipeline gives it is passed on unchecked
    options_model: ClassVar[type[BaseModel] | None] = None
    #: default Jinja mappings shipped with the plugin: name → (package, resource file), or a file path
    mappings: ClassVar[dict[str, Any]] = {}

    def discover(self, config: dict[str, Any] | None = None) -> protocol.DestinationCatalog:
        ops = [protocol.DestinationOperation(object_name=o.name, sync_mode=protocol.DestinationSyncMode(o.sync_mode),
                                             json_schema=o.json_schema, matching_keys=o.matching_keys)
               for o in self.objects]
        return protocol.DestinationCatalog(operations=ops)

    def plan(self, obj: CanonicalObject, ctx: PlanContext) -> Iterable[PlannedWrite]:
        """Turn one canonical object into the writes it needs (references first). Default: nothing."""
        return []

    def open(self, config: Any, context: WriteContext) -> None:
        """Connect (parse config, build the HTTP client, read company settings)."""
        self.context = context

    def close(self) -> None:
        pass

    def write_batch(self, stream: str, records: list[OutboundRecord]) -> list[WriteResult]:
        """Write records of one object type; return one result per record, in any order."""
        raise NotImplementedError

    #: the streams `read_back` lists completely (a posted document of these streams missing there is reported)
    read_back_streams: ClassVar[frozenset[str]] = frozenset()
    #: the streams whose documents a sync reads back right after posting them, comparing totals
    verify_after_write: ClassVar[frozenset[str]] = frozenset()

    def read_back(self, config: Any, posted: list[PostedDocument]) -> Iterable[LedgerDocument]:
        """Optional, for `ledgerlink reconcile`, called between `open` and `close` as writes are: the ledger's
        documents of `read_back_streams` covering the period of `posted` (those ledgerlink posted and any others
        carrying a ledgerlink key), each with the total its planned payload implies."""
        raise NotImplementedError

    def revise(self, posted: PostedDocument, new_data: dict[str, Any], number: int) -> Iterable[PlannedWrite]:
        """Optional, for `ledgerlink revisions apply`: the writes that revise a posted document whose plan
        changed (revision `number`, from 1) — typically a reversal of `posted` and the new version, as new
        documents with their own keys, whose notes link them to the posted one. Never an in-place edit."""
        raise NotImplementedError

    def write(self, config: dict[str, Any], catalog: protocol.ConfiguredCatalog | None,
              messages: Iterable[protocol.Message], context: WriteContext | None = None) -> Iterator[protocol.Message]:
        """The Airbyte contract: consume RECORD and STATE messages, yield each STATE once what came before
        it is durably written. Failed records are reported as LOG messages (the runtime uses dead letters)."""
        context = context or WriteContext()
        self.open(self.parse_config(config), context)
        keys = {c.stream.name: c.primary_key for c in catalog.streams} if catalog else {}
        buffer: dict[str, list[OutboundRecord]] = {}

        def flush() -> Iterator[protocol.Message]:
            for stream in sorted(buffer, key=lambda s: self.write_order.index(s) if s in self.write_order else 99):
                for result in self.write_batch(stream, buffer[stream]):
                    if result.error is not None:
                        yield protocol.log("error", f"{result.key}: {result.error}")
            buffer.clear()

        try:
            for message in messages:
                if message.type == protocol.MessageType.RECORD and message.record is not None:
                    rec = message.record
                    data = dict(rec.data)
                    key = data.pop("_ledgerlink_key", None) or _key_from(rec.stream, data, keys.get(rec.stream))
                    buffer.setdefault(rec.stream, []).append(OutboundRecord(key=key, stream=rec.stream, data=data))
                    if len(buffer[rec.stream]) >= self.batch_size:
                        yield from flush()
                elif message.type == protocol.MessageType.STATE:
                    yield from flush()
                    yield message
            yield from flush()
        finally:
            self.close()


def _key_from(stream: str, data: dict[str, Any], primary_key: list[list[str]] | None) -> str:
    if primary_key:
        parts = []
        for path in primary_key:
            node: Any = data
            for p in path:
                node = node.get(p) if isinstance(node, dict) else None
            parts.append(str(node))
        return idempotency_key(stream, "/".join(parts))
    return idempotency_key(stream, hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest())


# re-exported for connector authors
_ = (RecordError, RemoteError)
