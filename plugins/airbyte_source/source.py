"""`airbyte`: any Airbyte source connector, run as a child process, as a ledgerlink source.

spec, check, discover and read pass through to the connector; its records are staged like any source's, its
STATE messages are committed by the runtime with the records they cover, and the next read starts from the last
committed state. The user's module (`normalisers`) turns its streams into canonical objects.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Iterator

import ledgerlink
from ledgerlink import CheckContext, ConfigError, LedgerlinkError, Normaliser, Source, protocol

from .config import AirbyteSourceConfig, connector_argv
from .normalisers import load_normalisers
from .process import ConnectorFailed, ConnectorProcess
from .state import from_connector, to_connector
from .streams import AirbyteStream, configured_catalog, stream_class

__all__ = ["AirbyteSource"]

log = logging.getLogger("ledgerlink.airbyte")

#: config keys masked even when the connector's spec does not mark them airbyte_secret
_SECRET_NAME = re.compile(r"(^|_)(pass(word|wd|phrase)?|secret|token|api_?key|private_?key|access_?key)$", re.I)
#: records of streams the connector did not declare, named in a warning each (then only counted)
_WARN_UNDECLARED = 5


def _secret_names(schema: Any, out: set[str]) -> set[str]:
    """Names of the properties a connector's spec marks `airbyte_secret`, at any depth (oneOf auth choices too)."""
    if isinstance(schema, dict):
        for name, prop in (schema.get("properties") or {}).items():
            if isinstance(prop, dict) and prop.get("airbyte_secret"):
                out.add(name)
        for value in schema.values():
            _secret_names(value, out)
    elif isinstance(schema, list):
        for item in schema:
            _secret_names(item, out)
    return out


def _register_secrets(config: Any, names: set[str]) -> None:
    if isinstance(config, dict):
        for key, value in config.items():
            if isinstance(value, str) and value and (key in names or _SECRET_NAME.search(key)):
                ledgerlink.register_secret(value)
            else:
                _register_secrets(value, names)
    elif isinstance(config, list):
        for item in config:
            _register_secrets(item, names)


class AirbyteSource(Source):
    """Runs an Airbyte source connector (an `airbyte-source-*` package or any executable speaking the protocol)."""

    name = "airbyte"
    config_model = AirbyteSourceConfig
    documentation_url = "https://docs.airbyte.com/understanding-airbyte/airbyte-protocol"

    def __init__(self) -> None:
        self._parsed: AirbyteSourceConfig | None = None
        self._classes: dict[str, type[AirbyteStream]] | None = None
        self._normalisers: list[Normaliser] | None = None
        self._secrets_known = False
        self._secret_names: set[str] = set()

    # -- config -------------------------------------------------------------------------------------------------
    def parse_config(self, config: dict[str, Any], where: str = "config") -> AirbyteSourceConfig:
        """Validate, and remember the config: the streams and normalisers depend on it (they are the
        connector's, discovered, not this class's)."""
        parsed = super().parse_config(config, where=where)
        assert isinstance(parsed, AirbyteSourceConfig)
        if self._parsed is None or parsed.model_dump() != self._parsed.model_dump():
            self._parsed, self._classes, self._normalisers, self._secrets_known = parsed, None, None, False
        _register_secrets(parsed.connector_config(), set())
        return parsed

    def _run(self, parsed: AirbyteSourceConfig, command: str, **files: Any) -> ConnectorProcess:
        return ConnectorProcess(parsed.connector_name(), connector_argv(parsed), command,
                                idle_timeout_s=parsed.idle_timeout_s, env=parsed.env or None, **files)

    def _collect(self, parsed: AirbyteSourceConfig, command: str, **files: Any) -> list[protocol.Message]:
        """Run a short command (`check`, `discover`) to its end: its messages."""
        with self._run(parsed, command, **files) as run:
            return list(run)

    def _learn_secrets(self, parsed: AirbyteSourceConfig) -> None:
        """Mask the config fields the connector's own spec marks secret, before it runs with them."""
        if self._secrets_known:
            return
        with self._run(parsed, "spec") as run:
            spec = next((m.spec for m in run if m.type == protocol.MessageType.SPEC and m.spec), None)
        if spec is not None:
            self._secret_names = _secret_names(spec.connectionSpecification, set())
            _register_secrets(parsed.connector_config(), self._secret_names)
        self._secrets_known = True

    # -- check / discover ---------------------------------------------------------------------------------------
    def check(self, config: dict[str, Any], context: CheckContext | None = None) -> protocol.ConnectionStatus:
        """The connector's own CHECK: its CONNECTION_STATUS, or FAILED with why it gave none."""
        try:
            parsed = self.parse_config(config)
            self._learn_secrets(parsed)
            messages = self._collect(parsed, "check", config=parsed.connector_config())
        except LedgerlinkError as exc:
            return protocol.ConnectionStatus(status=protocol.Status.FAILED, message=ledgerlink.mask(str(exc)))
        for message in messages:
            if message.type == protocol.MessageType.CONTROL:
                rotated = self._rotated(parsed, message, parsed.connector_name())
                if rotated is not None and context is not None:
                    context.rotated("rotated_config", rotated)
        status = next((m.connectionStatus for m in reversed(messages)
                       if m.type == protocol.MessageType.CONNECTION_STATUS and m.connectionStatus), None)
        if status is None:
            return protocol.ConnectionStatus(
                status=protocol.Status.FAILED,
                message=f"airbyte connector {parsed.connector_name()} printed no CONNECTION_STATUS for check")
        if status.message:
            status = status.model_copy(update={"message": ledgerlink.mask(status.message)})
        return status

    def discover(self, config: dict[str, Any]) -> protocol.Catalog:
        parsed = self.parse_config(config)
        return self._discover(parsed)

    def _discover(self, parsed: AirbyteSourceConfig) -> protocol.Catalog:
        self._learn_secrets(parsed)
        messages = self._collect(parsed, "discover", config=parsed.connector_config())
        catalog = next((m.catalog for m in reversed(messages) if m.type == protocol.MessageType.CATALOG and m.catalog),
                       None)
        if catalog is None:
            raise ConnectorFailed(f"airbyte connector {parsed.connector_name()} printed no CATALOG for discover",
                                  hint="run its discover command by hand to see why")
        return catalog

    # -- streams and normalisers (the connector's, known once the config is) ---------------------------------------
    def _stream_classes(self, parsed: AirbyteSourceConfig) -> dict[str, type[AirbyteStream]]:
        if self._classes is None:
            discovered = self._discover(parsed)
            unknown = sorted(set(parsed.streams) - {s.name for s in discovered.streams})
            if unknown:
                raise ConfigError(f"the connector has no stream(s) {', '.join(unknown)}", where="source.config.streams",
                                  hint="its streams: " + ", ".join(s.name for s in discovered.streams))
            self._classes = {s.name: stream_class(s, parsed.streams.get(s.name)) for s in discovered.streams}
        return self._classes

    def stream_classes(self) -> list[type[AirbyteStream]]:
        """The connector's discovered streams (none before a config is known)."""
        return [] if self._parsed is None else list(self._stream_classes(self._parsed).values())

    def normalisers(self) -> list[Normaliser]:
        if self._parsed is None:
            return []
        if self._normalisers is None:
            self._normalisers = load_normalisers(self._parsed.normalisers)
        return self._normalisers

    def store_id(self, config: Any) -> str | None:
        return None

    def credential_account(self, config: Any) -> str | None:
        """Stored secrets (the connector's rotated config) are named by the connector: `airbyte:source-x:…`."""
        return config.connector_name() if isinstance(config, AirbyteSourceConfig) else None

    def _rotated(self, parsed: AirbyteSourceConfig, message: protocol.Message, name: str) -> str | None:
        """A connector's CONTROL message (its updated config) as `rotated_config`: the fields that differ from
        the pipeline's `config`, JSON; None when it changes nothing or is not a config."""
        control = message.control
        new = control.connectorConfig.config if control and control.connectorConfig else None
        if not isinstance(new, dict):
            log.warning("airbyte connector %s sent a CONTROL message without a config object: ignored", name)
            return None
        new = ledgerlink.json_loads(ledgerlink.json_dumps(new))  # plain JSON values (exact amounts kept)
        _register_secrets(new, self._secret_names)
        changed = {k: v for k, v in new.items() if parsed.config.get(k) != v}
        text = ledgerlink.json_dumps(dict(sorted(changed.items())))
        if not changed or text == parsed.rotated_config:
            return None
        log.info("airbyte connector %s rotated its config (%s): stored for the next run", name,
                 ", ".join(sorted(changed)))
        return text

    # -- read ---------------------------------------------------------------------------------------------------
    def read(self, config: dict[str, Any], catalog: protocol.ConfiguredCatalog | None = None,
             state: Any = None) -> Iterator[protocol.Message]:
        """The connector's records and states, as it sends them (GLOBAL/LEGACY states wrapped, see `state`)."""
        parsed = self.parse_config(config)
        classes = self._stream_classes(parsed)
        names = [c.stream.name for c in catalog.streams] if catalog else list(classes)
        unknown = [n for n in names if n not in classes]
        if unknown:
            raise ConfigError(f"the connector has no stream(s) {', '.join(unknown)}", where="source.streams",
                              hint="its streams: " + ", ".join(classes))
        wire_catalog = configured_catalog(classes, names)
        if isinstance(state, list) or (isinstance(state, dict) and "type" in state):
            connector_state = state  # an Airbyte state file given as is (`ledgerlink read --state`)
        else:
            connector_state = to_connector(state or {}, names)
        selected = set(names)
        stated: set[str] = set()
        read_from: set[str] = set()
        undeclared = 0
        with self._run(parsed, "read", config=parsed.connector_config(), catalog=wire_catalog, state=connector_state) as run:
            for message in run:
                kind = message.type
                if kind == protocol.MessageType.RECORD and message.record is not None:
                    stream = message.record.stream
                    if stream not in classes:
                        undeclared += 1
                        if undeclared <= _WARN_UNDECLARED:
                            log.warning("airbyte connector %s sent a record of stream %r, which its catalog does "
                                        "not declare: it goes to the dead-letter queue", run.name, stream)
                    elif stream not in selected:
                        log.debug("airbyte connector %s sent a record of unselected stream %r", run.name, stream)
                    read_from.add(stream)
                    yield message
                elif kind == protocol.MessageType.STATE and message.state is not None:
                    if message.state.stream is not None:
                        stated.add(message.state.stream.stream_descriptor.name)
                    else:
                        stated.update(selected)  # a GLOBAL or LEGACY state covers every stream
                    yield from_connector(message)
                elif kind == protocol.MessageType.LOG and message.log is not None:
                    yield protocol.log(message.log.level.value, ledgerlink.mask(message.log.message))
                elif kind == protocol.MessageType.TRACE:
                    yield message
                elif kind == protocol.MessageType.CONTROL:
                    rotated = self._rotated(parsed, message, run.name)
                    if rotated is not None:  # the runtime stores it (encrypted) the moment it arrives
                        yield protocol.control_config({**config, "rotated_config": rotated})
            if run.trace_errors:
                # exited 0 after reporting an error: the sync is not complete (what came before is staged)
                raise run.failure("reported an error but exited 0")
        unstated = sorted((read_from & selected) - stated)
        if unstated:
            yield protocol.log("warn", f"airbyte connector {run.name} sent no STATE for stream(s) "
                                       f"{', '.join(unstated)}: their records are staged, and the next sync reads "
                                       "them again from the start (staging keeps one row per key: nothing posts twice)")
