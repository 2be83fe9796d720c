"""Creating a pipeline from the console: the installed connectors to choose from, each one's config schema (its
Airbyte spec), `check` of what was typed before anything is saved, and the new pipeline served at once.

A check may rotate a refresh token (QuickBooks Online does): the new token is held in memory and stored
encrypted in the new pipeline's state only when the pipeline is saved, so a failed check leaves nothing behind
and a passed one loses nothing."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..connectors import CheckContext
from ..errors import ConfigError
from ..plugins import PluginHost
from ..runtime.extract import credential_name
from ..store import Store

__all__ = ["ConnectorChoice", "connector_choices", "connector_schema", "CheckOutcome", "check_config",
           "shipped_examples",
           "store_rotated", "new_pipeline_path", "serve_new_pipeline", "NAME_PATTERN"]

#: names a pipeline cannot take (they are designer pages)
RESERVED = frozenset({"new"})
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class ConnectorChoice:
    name: str
    role: str
    title: str
    plugin: str | None


def connector_choices(host: PluginHost, role: str) -> list[ConnectorChoice]:
    """The installed connectors that can play `role` (source or destination), built-in and third-party alike."""
    owners = {c: info.name for info in host.plugins() for c in info.connectors}
    out = []
    for name, roles in sorted(host.connector_roles().items()):
        cls = roles.get(role)
        if cls is not None:
            out.append(ConnectorChoice(name, role, str(cls.config_schema().get("title") or name), owners.get(name)))
    return out


def connector_schema(host: PluginHost, name: str, role: str) -> dict[str, Any]:
    """The JSON Schema of a connector's config, as its Airbyte spec carries it (`connectionSpecification`)."""
    cls = host.connector(name, role)
    return dict(cls().spec().connectionSpecification)


#: secrets rotated by checks of configs typed in the console, by (connector, fingerprint of the typed config):
#: the remote may have retired the typed refresh token, so the next check of the same form uses the newest
_held: dict[tuple[str, str], dict[str, str]] = {}
_held_lock = threading.Lock()


def _fingerprint(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class CheckOutcome:
    role: str
    connector: str
    ok: bool
    message: str | None
    #: credential name → value the remote rotated during the check (stored with the pipeline when it is saved)
    rotated: dict[str, str] = field(default_factory=dict)


def check_config(host: PluginHost, role: str, name: str, config: dict[str, Any]) -> CheckOutcome:
    """Run the connector's `check` on a config typed in the console, holding any rotated secret in memory."""
    connector: Any = host.connector(name, role)()
    typed = _fingerprint(config)
    with _held_lock:
        held: dict[str, str] = dict(_held.get((name, typed), {}))

    def rotated(secret: str, value: str) -> None:
        held[credential_name(connector, config, secret)] = value

    context = CheckContext(save_credential=held.__setitem__, load_credential=held.get, rotated=rotated)
    status = connector.check(config, context)
    with _held_lock:  # a second check of the same typed config (Check, then Check and save) uses the newest
        _held[(name, typed)] = dict(held)
        while len(_held) > 100:
            _held.pop(next(iter(_held)))
    ok = str(getattr(status.status, "value", status.status)) == "SUCCEEDED"
    return CheckOutcome(role, name, ok, None if ok else (status.message or "the check failed"), held)


def store_rotated(state_path: Path, credentials: Path | None, outcomes: list[CheckOutcome]) -> None:
    """Keep what the checks rotated, encrypted in the new pipeline's state (or its shared credentials file)."""
    rotated = {k: v for o in outcomes for k, v in o.rotated.items()}
    if not rotated:
        return
    from ..store.shared_credentials import share_credentials

    state_path.parent.mkdir(parents=True, exist_ok=True)
    store = Store(state_path)
    try:
        share_credentials(store, credentials)
        for secret, value in rotated.items():
            store.credentials.save(secret, value)
    finally:
        store.close()


def shipped_examples(source: str, destination: str) -> dict[str, str]:
    """The shipped example pipelines (`ledgerlink/data/*.yaml`) from `source` to `destination`: file name → text,
    the plainest (shortest name) first. A new pipeline's posting options start from one of them."""
    from importlib import resources

    from ..safe_yaml import load_yaml

    found = {}
    for entry in resources.files("ledgerlink").joinpath("data").iterdir():
        if not entry.name.endswith(".yaml"):
            continue
        with resources.as_file(entry) as path:
            raw = load_yaml(path)
        if isinstance(raw, dict) and (raw.get("source") or {}).get("connector") == source and \
                (raw.get("destination") or {}).get("connector") == destination:
            found[entry.name] = entry.read_text()
    return dict(sorted(found.items(), key=lambda kv: (len(kv[0]), kv[0])))


def new_pipeline_path(root: Path, name: str, taken: set[str]) -> Path:
    """Where a new pipeline's file goes: `<workspace>/<name>.yaml`, refusing a name or file already in use."""
    if not NAME_PATTERN.match(name or ""):
        raise ConfigError(f"{name!r} is not a pipeline name" if name else "is required", where="form.name",
                          hint="letters, digits, _ . - (starting with a letter or digit), at most 64")
    if name in RESERVED:
        raise ConfigError(f"{name!r} is a word the designer's addresses use", where="form.name",
                          hint="choose another name")
    path = root / f"{name}.yaml"
    if name in taken or path.exists() or (root / f"{name}.yml").exists():
        raise ConfigError(f"a pipeline named {name!r} already exists", where="form.name",
                          hint="choose another name, or edit that pipeline")
    return path


def serve_new_pipeline(workspace: Any, path: Path) -> Any:
    """Serve a pipeline just saved alongside the others (its scheduler thread started), as a restart would."""
    from ..console.workspace import ServedPipeline
    from ..pipeline import load_pipeline

    pipeline = load_pipeline(path)
    any_service = next(iter(workspace.services.values()), None)
    every = any_service.every if any_service is not None else None
    debounce = getattr(any_service, "debounce", 1.0) if any_service is not None else 1.0
    service = ServedPipeline(pipeline, workspace.plugin_host, source_file=path, announce=workspace.announce,
                             every=every, debounce=debounce)
    workspace.services[pipeline.name] = service
    service.start()
    return service
