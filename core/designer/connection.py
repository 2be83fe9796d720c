"""Editing an existing pipeline's connection settings (`source.config`, `destination.config`): a form generated
from each connector's spec, filled from what the file says (a `${VARIABLE}` shows as written; a secret is never
shown, and left empty it is kept); a secret typed anew goes to the encrypted store and the file gets its
reference; the changed side is checked with the new settings before anything is saved."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..connect.references import pipeline_secret_name, reference_name, resolve_secret_references, secret_reference
from ..errors import ConfigError
from ..pipeline import interpolate
from ..secrets import secret_paths
from .create import CheckOutcome, check_config, connector_schema
from .forms import FormField, FormProblem, form_fields, read_form
from .pipeline_file import DELETE, read_tree

__all__ = ["ConnectionChange", "connection_fields", "connection_changes", "ROLES"]

ROLES = ("source", "destination")


def _file_configs(text: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """role → (connector, config as the file writes it: variables and references unexpanded)."""
    tree = read_tree(text)
    out = {}
    for role in ROLES:
        section = tree.get(role) or {}
        config = section.get("config") or {}
        out[role] = (str(section.get("connector") or ""), dict(config) if isinstance(config, Mapping) else {})
    return out


def connection_fields(host: Any, text: str) -> dict[str, list[FormField]]:
    """The two forms, filled from the file (secrets never)."""
    return {role: form_fields(connector_schema(host, connector, role), role, config)
            for role, (connector, config) in _file_configs(text).items()}


@dataclass
class ConnectionChange:
    changes: dict[tuple[str, ...], Any] = field(default_factory=dict)
    #: stored-secret name → value, for the secrets typed anew
    secrets: dict[str, str] = field(default_factory=dict)
    checks: list[CheckOutcome] = field(default_factory=list)
    #: every secret value the diff must not show (the file's literal ones and the new ones)
    hidden: list[str] = field(default_factory=list)


def _live(config: dict[str, Any], typed: dict[str, str], folder: Any, where: str) -> dict[str, Any]:
    """The config a connector is checked with: new secrets as typed, references and variables resolved."""
    with_typed = {k: typed.get(k, v) for k, v in config.items()}
    resolved = resolve_secret_references(with_typed, folder)
    try:
        return interpolate(resolved, os.environ, where)
    except ConfigError as exc:
        raise ConfigError(exc.message, where=f"form.{exc.where}" if exc.where else "form", hint=exc.hint) from None


def connection_changes(host: Any, pipeline_name: str, text: str, form: dict[str, Any], folder: Any,
                       *, check: bool = True) -> ConnectionChange:
    """The file changes the submitted connection form asks for, with each changed side checked."""
    out = ConnectionChange()
    for role, (connector, current) in _file_configs(text).items():
        if not any(k.startswith(f"{role}.") for k in form):
            continue
        schema = connector_schema(host, connector, role)
        submitted = {k: v for k, v in form.items() if k.startswith(f"{role}.")}
        # a ${VARIABLE} the file writes, sent back as shown, stays as written (it need not parse as a number)
        unchanged = {k: v for k, v in current.items() if isinstance(v, str) and "${" in v
                     and str(_last(submitted.get(f"{role}.{k}"))).strip() == v}
        unchanged_free = {**schema, "required": [k for k in schema.get("required") or [] if k not in unchanged]}
        try:
            config = read_form(unchanged_free, {k: v for k, v in submitted.items()
                                                if k[len(role) + 1:] not in unchanged}, role, existing=current)
            config.update(unchanged)
        except FormProblem as exc:
            raise ConfigError(exc.message, where=f"form.{exc.input_name}", hint="nothing was saved") from None
        secret_keys = {p[0] for p in secret_paths(schema) if len(p) == 1}
        typed: dict[str, str] = {}
        for key in secret_keys:
            value = config.get(key)
            if isinstance(value, str) and value and value != current.get(key) and "${" not in value:
                typed[key] = value
                out.secrets[pipeline_secret_name(pipeline_name, role, key)] = value
                config[key] = secret_reference(pipeline_secret_name(pipeline_name, role, key))
            old = current.get(key)
            if isinstance(old, str) and old and "${" not in old:
                out.hidden.append(old)
        out.hidden.extend(typed.values())
        changed = bool(typed)  # a replaced secret changes the side even when its reference stays the same
        defaults = {f.name: f.default for f in form_fields(schema, role)}
        for key in sorted(set(current) | set(config)):
            if key not in current and key in config and config[key] == defaults.get(key):
                continue  # the default, as the form showed it: nothing to write
            if key not in config:
                if f"{role}.{key}" in submitted or f"{role}.{key}:present" in submitted:
                    out.changes[(role, "config", key)] = DELETE
                    changed = True
            elif current.get(key) != config[key] or key not in current:
                out.changes[(role, "config", key)] = config[key]
                changed = True
        if changed and check:
            live = _live(config, typed, folder, f"{role}.config")
            out.checks.append(check_config(host, role, connector, live))
    return out


def _last(value: Any) -> Any:
    return value[-1] if isinstance(value, list) and value else value


def is_reference(value: Any) -> bool:
    return reference_name(value) is not None
