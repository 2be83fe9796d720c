"""Keeping secrets out of logs, error messages and files.

Every config field marked secret in a connector's spec (`airbyte_secret: true`) is registered here when the
config is loaded; every log record passes through `MaskSecrets`, which replaces registered values with ****.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any, Iterable

__all__ = ["SECRET", "register_secret", "mask", "MaskSecrets", "secret_paths", "register_config_secrets",
           "redact_config", "install_log_masking"]

SECRET = "****"
_lock = threading.Lock()
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register_secret(value: Any) -> None:
    """Remember a secret value so that it is masked wherever it would be printed."""
    global _pattern
    if not isinstance(value, str) or len(value) < 4:
        return
    with _lock:
        if value in _values:
            return
        _values.add(value)
        _pattern = re.compile("|".join(re.escape(v) for v in sorted(_values, key=len, reverse=True)))


def mask(text: str) -> str:
    pattern = _pattern
    return pattern.sub(SECRET, text) if pattern is not None and text else text


def secret_paths(schema: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths of the fields a JSON Schema marks secret: `airbyte_secret: true`, or pydantic's `SecretStr`
    (`writeOnly` with `format: password`). Descends into nested objects, follows local `$ref`s (pydantic
    puts nested models in `$defs`) and looks inside `oneOf`/`anyOf`/`allOf` (Airbyte's auth choices)."""
    out: list[tuple[str, ...]] = []
    _collect_secret_paths(schema, schema, prefix, out, frozenset())
    return list(dict.fromkeys(out))


def _resolve(node: Any, root: dict[str, Any], seen: frozenset[str]) -> tuple[Any, frozenset[str]]:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        ref = node["$ref"]
        if ref in seen:  # a recursive model: stop rather than loop
            return {}, seen
        seen = seen | {ref}
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, dict) else None
        node = target
    return node, seen


def _is_secret(prop: Any, root: dict[str, Any], seen: frozenset[str]) -> bool:
    prop, seen = _resolve(prop, root, seen)
    if not isinstance(prop, dict):
        return False
    if prop.get("airbyte_secret") or (prop.get("writeOnly") and prop.get("format") == "password"):
        return True
    return any(_is_secret(b, root, seen) for k in ("anyOf", "oneOf") for b in prop.get(k) or [])


def _collect_secret_paths(node: Any, root: dict[str, Any], prefix: tuple[str, ...],
                          out: list[tuple[str, ...]], seen: frozenset[str]) -> None:
    node, seen = _resolve(node, root, seen)
    if not isinstance(node, dict):
        return
    for name, prop in (node.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        if _is_secret(prop, root, seen):
            out.append(prefix + (name,))
        _collect_secret_paths(prop, root, prefix + (name,), out, seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(key) or []:
            _collect_secret_paths(branch, root, prefix, out, seen)


def _walk(config: dict[str, Any], paths: Iterable[tuple[str, ...]]):
    for path in paths:
        node: Any = config
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            yield node, path[-1]


def register_config_secrets(config: dict[str, Any], schema: dict[str, Any]) -> None:
    for node, key in _walk(config, secret_paths(schema)):
        register_secret(node[key])


def redact_config(config: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `config` with its secret fields replaced by ****, safe to print or store."""
    import copy

    out = copy.deepcopy(config)
    for node, key in _walk(out, secret_paths(schema)):
        node[key] = SECRET
    return out


class MaskSecrets(logging.Filter):
    """A logging filter that masks every registered secret in the rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _pattern is not None:
            record.msg = mask(record.getMessage())
            record.args = None
            # A traceback is formatted later by the handler's Formatter, which reuses `exc_text` when
            # set: render and mask it now, or an exception's message would carry the secret out.
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = mask(record.exc_text)
            if record.stack_info:
                record.stack_info = mask(record.stack_info)
        return True


def install_log_masking(logger: logging.Logger | None = None) -> None:
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, MaskSecrets) for f in handler.filters):
            handler.addFilter(MaskSecrets())
    if not any(isinstance(f, MaskSecrets) for f in target.filters):
        target.addFilter(MaskSecrets())
