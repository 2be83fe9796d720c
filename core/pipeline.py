"""Pipeline files: YAML that names a source, a destination and their settings.

Validation errors point at the bad key (`destination.config.realm_id`), `${VAR}` and `${VAR:-default}`
are filled from the environment, and secret values are never echoed back.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Literal, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError
from .review.mode import ReviewMode

__all__ = ["Pipeline", "SourceSection", "DestinationSection", "load_pipeline", "interpolate"]

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")


class SourceSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connector: str
    config: dict[str, Any] = Field(default_factory=dict)
    #: streams to read (default: every stream the source's normalisers need, else all)
    streams: list[str] | None = None
    #: per-stream normaliser overrides: {stream: "package.module:function"}
    normalise: dict[str, str] = Field(default_factory=dict)
    #: the store these records come from (default: the source's own id for it, e.g. a BigCommerce store hash
    #: or an Amazon seller_id): every canonical object's `store`, and part of its natural key
    store: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    #: store: keys name the store (`bigcommerce@abc123/order/100`), so stores whose ids overlap can share a
    #: company; legacy: `bigcommerce/order/100`, as state files that posted before keys named the store.
    #: Default: what the state file recorded; a new one is store, one that planned writes before is legacy.
    key_scope: Literal["store", "legacy"] | None = None


class DestinationSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connector: str
    config: dict[str, Any] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    #: mapping overrides: {template name: path relative to the pipeline file}
    mappings: dict[str, str] = Field(default_factory=dict)


class Pipeline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = 1
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    #: the DuckDB state file (default .ledgerlink/<name>.duckdb, relative to the working directory)
    state: str | None = None
    #: a credentials file shared with the other pipelines that use the same accounts (default: none, each
    #: pipeline keeps its rotated tokens in its state). Two stores posting into one QuickBooks company share
    #: its OAuth connection, whose refresh token rotates on use: give both pipelines the same file.
    credentials: str | None = None
    source: SourceSection
    destination: DestinationSection
    #: review before posting: always (every planned document waits for approval), first_run (documents wait
    #: until the first approval, later ones post directly) or never. A pipeline key, not a destination option:
    #: it governs the write step whatever the destination, and switching it never re-plans posted documents.
    review: ReviewMode = "never"
    #: the pipeline file's folder, for relative paths
    base_dir: Path = Field(default=Path("."), exclude=True)

    @property
    def state_path(self) -> Path:
        if self.state:
            p = Path(self.state)
            return p if p.is_absolute() else Path.cwd() / p
        return Path.cwd() / ".ledgerlink" / f"{self.name}.duckdb"

    @property
    def credentials_path(self) -> Path | None:
        if not self.credentials:
            return None
        p = Path(self.credentials)
        return p if p.is_absolute() else Path.cwd() / p

    def mapping_path(self, name: str) -> Path:
        p = Path(self.destination.mappings[name])
        return p if p.is_absolute() else self.base_dir / p


def interpolate(node: Any, env: Mapping[str, str], where: str = "") -> Any:
    """Replace ${VAR} / ${VAR:-default} in every string of a YAML tree."""
    if isinstance(node, dict):
        return {k: interpolate(v, env, f"{where}.{k}" if where else str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env, f"{where}[{i}]") for i, v in enumerate(node)]
    if isinstance(node, str) and "${" in node:
        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise ConfigError(f"environment variable {name} is not set", where=where,
                              hint=f"export {name}=… or write ${{{name}:-default}} in the pipeline file")
        whole = _VAR.fullmatch(node)
        value = _VAR.sub(sub, node)
        if whole and whole.group(2) is None and value.isdigit():
            return int(value)
        return value
    return node


def _explain(exc: ValidationError, raw: dict[str, Any]) -> ConfigError:
    errors = exc.errors()
    # a misspelt key also shows up as a missing one: the misspelling is the useful message
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        parent_loc, bad = err["loc"][:-1], str(err["loc"][-1])
        model: Any = Pipeline
        for part in parent_loc:
            model = model.model_fields[str(part)].annotation
        known = [n for n in getattr(model, "model_fields", {}) if n != "base_dir"]
        close = difflib.get_close_matches(bad, known, n=1)
        return ConfigError(f"unknown key {bad!r}", where=loc,
                           hint=(f"did you mean {close[0]!r}? " if close else "") + f"allowed: {', '.join(known)}")
    if err["type"] == "missing":
        return ConfigError("required key is missing", where=loc)
    return ConfigError(err["msg"], where=loc)


def load_pipeline(path: str | Path, env: Mapping[str, str] | None = None) -> Pipeline:
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"pipeline file {p} does not exist", hint="see specs/pipelines/ for examples")
    try:
        raw = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{p}:{mark.line + 1}:{mark.column + 1}" if mark else str(p)
        raise ConfigError(f"not valid YAML: {getattr(exc, 'problem', exc)}", where=where) from None
    if not isinstance(raw, dict):
        raise ConfigError("a pipeline file is a mapping with name, source and destination", where=str(p))
    raw = interpolate(raw, os.environ if env is None else env)
    try:
        pipeline = Pipeline.model_validate(raw)
    except ValidationError as exc:
        err = _explain(exc, raw)
        raise ConfigError(f"{p}: {err.message}", hint=err.hint) from None
    pipeline.base_dir = p.resolve().parent
    return pipeline
