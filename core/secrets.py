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
    """Paths of the fields a JSON Schema marks `airbyte_secret` (descending into nested objects)."""
    out: list[tuple[str, ...]] = []
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        if prop.get("airbyte_secret"):
            out.append(prefix + (name,))
        if prop.get("type") == "object" or "properties" in prop:
            out.extend(secret_paths(prop, prefix + (name,)))
    return out


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
        return True


def install_log_masking(logger: logging.Logger | None = None) -> None:
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, MaskSecrets) for f in handler.filters):
            handler.addFilter(MaskSecrets())
    if not any(isinstance(f, MaskSecrets) for f in target.filters):
        target.addFilter(MaskSecrets())
