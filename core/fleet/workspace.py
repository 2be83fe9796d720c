"""A tenant's workspace: one folder with its pipeline files, its credentials and its state.

    acme/
      bigcommerce-to-qbo.yaml   pipeline files (any *.yaml but fleet.yaml)
      tenant.env                KEY=VALUE lines filling the files' ${VAR}s: endpoints, client ids, tokens
      fleet.yaml                optional: how often each pipeline syncs  (every: {default: 15m, NAME: 5m})
      .ledgerlink/              state files (DuckDB), one per pipeline, written by the lease holder only

Relative `state:` and `credentials:` paths in a pipeline file are read against the workspace, never against the
worker's working directory, so any worker on any machine that mounts the workspace opens the same files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, LedgerlinkError
from ..pipeline import Pipeline, load_pipeline
from ..safe_yaml import load_yaml

__all__ = ["PipelineEntry", "scan_workspace", "load_tenant_pipeline", "tenant_env", "parse_every"]

ENV_FILE = "tenant.env"
FLEET_FILE = "fleet.yaml"
#: a pipeline syncs this often unless fleet.yaml or `fleet schedule --every` says otherwise
DEFAULT_EVERY_S = 900.0

_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_every(value: object, where: str = "every") -> float:
    """`30`, `30s`, `5m`, `1h` → seconds; anything else (or under a second) is a ConfigError naming `where`."""
    match = _EVERY.match(str(value)) if not isinstance(value, bool) else None
    if not match or float(match.group(1)) * _UNIT[match.group(2)] < 1:
        raise ConfigError(f"{value!r} is not an interval", where=where,
                          hint="write seconds (30, 30s) or minutes/hours/days (5m, 1h, 1d), at least 1 s")
    return float(match.group(1)) * _UNIT[match.group(2)]


def tenant_env(workspace: Path) -> dict[str, str]:
    """The tenant's variables (tenant.env), over nothing of the worker's own environment: one tenant's
    credentials never leak into another's pipeline through a shared environment variable."""
    path = workspace / ENV_FILE
    env: dict[str, str] = {}
    if not path.exists():
        return env
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name.strip()):
            raise ConfigError(f"line {number} is not NAME=value", where=str(path))
        env[name.strip()] = value.strip().strip('"').strip("'")
    return env


def _schedule(workspace: Path) -> dict[str, float]:
    path = workspace / FLEET_FILE
    if not path.exists():
        return {}
    raw = load_yaml(path) or {}
    every = raw.get("every", {}) if isinstance(raw, dict) else None
    if not isinstance(every, dict):
        raise ConfigError("`every` is a mapping of pipeline name (or default) to an interval", where=str(path))
    return {str(k): parse_every(v, where=f"{path}: every.{k}") for k, v in every.items()}


@dataclass(frozen=True)
class PipelineEntry:
    """One pipeline file of a workspace: its name, file, interval, and why it cannot run (None: it can)."""

    name: str
    file: Path
    every_s: float
    problem: str | None = None


def pipeline_files(workspace: Path) -> list[Path]:
    return sorted(p for p in workspace.glob("*.y*ml") if p.name != FLEET_FILE and p.suffix in (".yaml", ".yml"))


def scan_workspace(workspace: Path, every: float | None = None) -> list[PipelineEntry]:
    """Every pipeline file of the workspace, loaded as a worker will load it; a file that does not load is
    kept with its reason, so the tenant is reported, not dropped."""
    if not workspace.is_dir():
        raise LedgerlinkError(f"workspace {workspace} is not a folder",
                              hint="a tenant's workspace holds its pipeline files, tenant.env and state")
    schedule = _schedule(workspace)
    default = every or schedule.get("default", DEFAULT_EVERY_S)
    entries = []
    for path in pipeline_files(workspace):
        try:
            pipeline = load_tenant_pipeline(workspace, path)
        except LedgerlinkError as exc:
            entries.append(PipelineEntry(path.stem, path, default, problem=str(exc)))
            continue
        entries.append(PipelineEntry(pipeline.name, path, every or schedule.get(pipeline.name, default)))
    return entries


def load_tenant_pipeline(workspace: Path, path: Path) -> Pipeline:
    """The pipeline file with the tenant's variables, its state and credentials paths inside the workspace."""
    env = tenant_env(workspace)
    env.setdefault("LEDGERLINK_STATE", str(workspace / ".ledgerlink" / f"{path.stem}.duckdb"))
    pipeline = load_pipeline(path, env=env)
    update: dict[str, str] = {}
    state = Path(pipeline.state or f".ledgerlink/{pipeline.name}.duckdb").expanduser()
    update["state"] = str(state if state.is_absolute() else workspace / state)
    if pipeline.credentials:
        cred = Path(pipeline.credentials).expanduser()
        update["credentials"] = str(cred if cred.is_absolute() else workspace / cred)
    copy = pipeline.model_copy(update=update)
    copy.base_dir = pipeline.base_dir
    os.makedirs(Path(update["state"]).parent, mode=0o700, exist_ok=True)
    return copy
