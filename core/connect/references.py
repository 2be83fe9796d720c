"""Secrets a pipeline file names instead of holding: `${secret:NAME}` is the value stored under NAME, encrypted, in
the workspace's credential store (`.ledgerlink/credentials.sqlite` beside the pipeline file). The designer writes
these references for every secret typed into its forms, so the YAML a developer diffs and commits never holds one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError

__all__ = ["SECRET_REFERENCE", "secret_reference", "reference_name", "resolve_secret_references",
           "pipeline_secret_name", "store_pipeline_secrets", "forget_pipeline_secrets"]

#: `${secret:NAME}`, the whole value
SECRET_REFERENCE = re.compile(r"\$\{secret:([A-Za-z0-9_.:-]{1,200})\}")
#: the connection record (family, account) under which a pipeline's typed secrets are kept together
_FAMILY = "pipeline"


def secret_reference(name: str) -> str:
    return "${secret:" + name + "}"


def reference_name(value: Any) -> str | None:
    """The stored secret's name a config value refers to, or None for a value that is not a reference."""
    if isinstance(value, str):
        found = SECRET_REFERENCE.fullmatch(value.strip())
        if found:
            return found.group(1)
    return None


def pipeline_secret_name(pipeline: str, role: str, key: str) -> str:
    """`pipeline:shop:destination.token`: the name of a secret typed for one pipeline's connector."""
    return f"{_FAMILY}:{pipeline}:{role}.{key}"


def _workspace_store(folder: Path) -> Any:
    from .accounts import workspace_credentials_path
    from ..store.shared_credentials import SharedCredentials

    return SharedCredentials(workspace_credentials_path(folder))


def resolve_secret_references(raw: Any, folder: Path, file: Path | None = None) -> Any:
    """The YAML tree with every `${secret:NAME}` replaced by the stored value. The store is opened only when the
    file has a reference; a reference to nothing is a ConfigError naming the key."""
    found: list[tuple[str, str]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{where}.{k}" if where else str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}[{i}]")
        elif (name := reference_name(node)) is not None:
            found.append((where, name))

    walk(raw, "")
    if not found:
        return raw
    from .accounts import workspace_credentials_path

    path = workspace_credentials_path(folder)
    store = _workspace_store(folder) if path.exists() else None
    values: dict[str, str] = {}
    for where, name in found:
        value = store.load(name) if store is not None else None
        if value is None:
            shown = f"{file}: " if file else ""
            raise ConfigError(f"{shown}{secret_reference(name)} is not in the workspace's credential store {path}",
                              where=where, hint="type the secret again in the designer (Connection settings), or "
                                                "write the value or a ${VARIABLE} instead of the reference")
        values[name] = value

    def replace(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: replace(v) for k, v in node.items()}
        if isinstance(node, list):
            return [replace(v) for v in node]
        name = reference_name(node)
        return values[name] if name is not None else node

    return replace(raw)


def store_pipeline_secrets(folder: Path, pipeline: str, secrets: Mapping[str, str], actor: str) -> None:
    """Store a pipeline's typed secrets (name → value) in the workspace's store, all at once, recorded as the
    pipeline's connection (who typed them, when); the names already stored for it are kept."""
    if not secrets:
        return
    store = _workspace_store(folder)
    held = store.connection(_FAMILY, pipeline)
    kept = {n: v for n in (held["names"] if held else []) if n not in secrets and (v := store.load(n)) is not None}
    store.connect(_FAMILY, pipeline, f"secrets typed for {pipeline}", {**kept, **secrets}, actor)


def forget_pipeline_secrets(folder: Path, pipeline: str, names: list[str]) -> None:
    """Undo `store_pipeline_secrets` of `names` (a save that failed after they were stored)."""
    from .accounts import workspace_credentials_path

    if not names or not workspace_credentials_path(folder).exists():
        return
    store = _workspace_store(folder)
    held = store.connection(_FAMILY, pipeline)
    rest = {n: v for n in (held["names"] if held else []) if n not in names and (v := store.load(n)) is not None}
    store.disconnect(_FAMILY, pipeline, names)
    if rest:
        store.connect(_FAMILY, pipeline, f"secrets typed for {pipeline}", rest, held["connected_by"] if held else "")
