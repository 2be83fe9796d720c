"""What a connector command (`ledgerlink read|write|check|discover`, or a connector process Airbyte runs) reads
before it starts: its config, catalog and state files and the protocol messages on stdin. Each wrong one is a
ConfigError naming the file or the stdin line and what to give instead, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

from . import protocol
from .errors import ConfigError

__all__ = ["read_json_file", "connector_config", "connector_state", "configured_catalog", "check_writable",
           "writable_messages"]


def read_json_file(path: str | None, what: str) -> Any:
    """The JSON in `path` (None when no path was given); a missing or broken file is a ConfigError naming `what`."""
    if path is None:
        return None
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"{what} file {path} is a directory, not a JSON file") from None
    except PermissionError:
        raise ConfigError(f"{what} file {path} cannot be read (permission denied)") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} file {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except RecursionError:
        raise ConfigError(f"{what} file {path} is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} file {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None


def connector_config(path: str | None) -> Any:
    """The connector config in `path`: a JSON object, as Airbyte passes it (a list or a string is a ConfigError)."""
    config = read_json_file(path, "config")
    if path is not None and not isinstance(config, dict):
        raise ConfigError(f"config file {path} holds a JSON {type(config).__name__}, not an object",
                          hint="see `ledgerlink spec CONNECTOR` for the fields")
    return config


def connector_state(path: str | None) -> Any:
    """The STATE in `path`: Airbyte's list of STATE messages, one GLOBAL state, or a legacy {stream: state}."""
    from .connectors import state_by_stream

    state = read_json_file(path, "state")
    try:
        state_by_stream(state)
    except (ValueError, TypeError, AttributeError):
        raise ConfigError(f"state file {path} is not an Airbyte state",
                          hint="give the STATE messages an earlier `ledgerlink read` printed (a JSON list), "
                               "or {stream: state}") from None
    return state


def configured_catalog(path: str | None) -> protocol.ConfiguredCatalog | None:
    """The configured catalog in `path` (None without one); one of the wrong shape is a ConfigError naming the file."""
    raw = read_json_file(path, "catalog")
    if not raw:
        return None
    try:
        return protocol.ConfiguredCatalog.model_validate(raw)
    except ValueError as exc:
        first = str(exc).splitlines()
        raise ConfigError(f"catalog file {path} is not a configured catalog: {' '.join(first[:3])}",
                          hint="print one with `ledgerlink discover CONNECTOR --config FILE`") from None


def check_writable(connector: str, stream: str, writable: list[str]) -> None:
    """A ConfigError unless destination `connector` writes `stream` (one of `writable`)."""
    if stream not in writable:
        raise ConfigError(f"destination {connector} cannot write stream {stream!r}; it writes: "
                          f"{', '.join(writable) or 'nothing'}",
                          hint=f"see `ledgerlink discover {connector} --role destination --config FILE`; "
                               "to move a source's records into a ledger, run a pipeline with `ledgerlink sync`")


def writable_messages(connector: str, lines: Iterable[str], writable: list[str]) -> Iterator[protocol.Message]:
    """The messages on stdin, stopping at the first RECORD of a stream the destination cannot write (one clear
    error instead of one per record) or at a line that is not a protocol message (naming the line)."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            message = protocol.loads(line.strip())
        except (ValueError, RecursionError) as exc:
            raise ConfigError(f"stdin line {number} is not an Airbyte protocol message: "
                              f"{str(exc).splitlines()[0][:200]}",
                              hint="pipe in the output of `ledgerlink read`") from None
        body = _BODIES.get(message.type)
        if body is not None and getattr(message, body) is None:  # it would be skipped: say so instead
            raise ConfigError(f"stdin line {number} is not an Airbyte protocol message: a {message.type.value} "
                              f"message without its `{body}`", hint="pipe in the output of `ledgerlink read`")
        if message.type == protocol.MessageType.RECORD and message.record is not None:
            check_writable(connector, message.record.stream, writable)
        yield message


#: the field a RECORD or STATE message carries its content in (the protocol's models leave both optional)
_BODIES = {protocol.MessageType.RECORD: "record", protocol.MessageType.STATE: "state"}
