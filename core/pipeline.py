"""Pipeline files: YAML that names a source, a destination and their settings.

Validation errors point at every bad key (`destination.options.on_cancel`), with a did-you-mean, and the
destination's options are checked against its declared `options_model` on loading. `${VAR}` and `${VAR:-default}`
are filled from the environment, and secret values are never echoed back. The file is read with bounds
(`safe_yaml`: size, nesting, alias expansion, duplicate keys), and the paths it names (`state`, `credentials`)
are checked to be files, or files that can be created, before anything opens them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .data_dir import state_dir
from .errors import ConfigError
from .options import check_options, check_pipeline_options
from .review.mode import ReviewMode
from .safe_yaml import load_yaml

__all__ = ["Pipeline", "SourceSection", "DestinationSection", "load_pipeline", "interpolate", "check_paths",
           "KNOWN_VERSIONS"]

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")
#: the pipeline file versions this ledgerlink reads
KNOWN_VERSIONS = (1,)


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

    @field_validator("version", mode="before")
    @classmethod
    def _known_version(cls, v: Any) -> Any:
        if isinstance(v, bool) or v not in KNOWN_VERSIONS:
            known = ", ".join(str(k) for k in KNOWN_VERSIONS)
            raise ValueError(f"version {v!r} is not one this ledgerlink reads (it knows version {known}): write "
                             f"`version: 1`, or upgrade ledgerlink if the file was written for a newer one")
        return v

    @property
    def state_path(self) -> Path:
        # LEDGERLINK_STATE_DIR (a container's writable volume) stands in for the working directory
        folder = state_dir()
        if self.state:
            p = Path(self.state).expanduser()
            return p if p.is_absolute() else (folder or Path.cwd()) / p
        return (folder or Path.cwd() / ".ledgerlink") / f"{self.name}.duckdb"

    @property
    def credentials_path(self) -> Path | None:
        if not self.credentials:
            # accounts connected from the console are kept in the workspace's store: read it once it exists
            from .connect.accounts import workspace_credentials_path
            found = workspace_credentials_path(self.base_dir)
            return found if found.exists() else None
        p = Path(self.credentials).expanduser()
        return p if p.is_absolute() else (state_dir() or Path.cwd()) / p

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
        _check_references(node, where)

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
        # a number from the environment is a number (`isascii`: int() refuses "²"; short: and a 5,000-digit one)
        if whole and whole.group(2) is None and value.isascii() and value.isdigit() and len(value) <= 18:
            return int(value)
        return value
    return node


def _check_references(text: str, where: str) -> None:
    """Every `${` opens a whole `${NAME}` or `${NAME:-default}`: a typo would otherwise go out as a literal value."""
    spans = [m.span() for m in _VAR.finditer(text)]
    start = text.find("${")
    while start != -1:
        if not any(a <= start < b for a, b in spans):
            shown = text[start:start + 40] + ("…" if len(text) > start + 40 else "")
            closed = "}" in text[start:]
            problem = "is not a valid ${NAME} reference" if closed else "is not closed with }"
            raise ConfigError(f"{shown!r} {problem}", where=where or None,
                              hint="write ${NAME} or ${NAME:-default}, NAME of letters, digits and _ "
                                   "(not starting with a digit)")
        start = text.find("${", start + 2)


def load_pipeline(path: str | Path, env: Mapping[str, str] | None = None) -> Pipeline:
    """Read, interpolate and validate a pipeline file. Every problem is a ConfigError naming the file and the key
    (or line), with a hint."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"pipeline file {p} does not exist", hint="see specs/pipelines/ for examples")
    raw = load_yaml(p)
    if not isinstance(raw, dict):
        raise ConfigError("a pipeline file is a mapping with name, source and destination", where=str(p))
    from .connect.references import resolve_secret_references  # secrets the designer stored (`${secret:NAME}`)

    raw = resolve_secret_references(raw, p.resolve().parent, p)
    try:
        raw = interpolate(raw, os.environ if env is None else env)
    except ConfigError as exc:
        located = ConfigError(f"{p}: {exc.message}", hint=exc.hint)
        located.where = exc.where
        raise located from None
    # every wrong key at once, each with its path and a did-you-mean; then the destination's own options
    pipeline = check_options(Pipeline, raw, where="", file=p, hint="see specs/pipelines/ for examples")
    check_pipeline_options(pipeline, file=p)
    pipeline.base_dir = p.resolve().parent
    check_paths(pipeline)
    return pipeline


def check_paths(pipeline: Pipeline) -> None:
    """`state` and `credentials` each name a file that exists or can be created: a folder named as the file, or a
    parent that is a file, is an error saying which key; a parent folder that does not exist yet is fine (it is
    created when the file is)."""
    for key, path, what, magic in (("state", pipeline.state_path, "state file (DuckDB)", (8, b"DUCK")),
                                   ("credentials", pipeline.credentials_path, "credentials file (SQLite)",
                                    (0, b"SQLite format 3\x00"))):
        if path is None:
            continue
        if path.is_dir():
            raise ConfigError(f"{path} is a folder; name the {what} inside it", where=key,
                              hint=f"e.g. {key}: {path / (pipeline.name + ('.duckdb' if key == 'state' else '.credentials'))}")
        parent = next((q for q in path.parents if q.exists()), None)
        if parent is not None and not parent.is_dir():
            raise ConfigError(f"{parent} is a file, so {path} cannot be created", where=key,
                              hint=f"name a {what} in a folder")
        if parent is not None and not path.exists() and not os.access(parent, os.W_OK | os.X_OK):
            raise ConfigError(f"cannot create {path}: {parent} is not writable by this user", where=key,
                              hint="name a path in a folder you can write to, or fix the folder's permissions")
        if path.exists():
            offset, want = magic
            try:
                with open(path, "rb") as fh:
                    head = fh.read(offset + len(want))
            except OSError as exc:
                raise ConfigError(f"cannot read {path}: {exc.strerror or exc}", where=key,
                                  hint="check the file's owner and permissions") from None
            if head and head[offset:offset + len(want)] != want:
                raise ConfigError(f"{path} is not a {what}", where=key,
                                  hint=f"name the pipeline's own {what} (a new name starts a new one)")
