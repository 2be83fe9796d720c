"""The `airbyte` source's config: which Airbyte connector to run, its own config, and how its streams map.

```yaml
source:
  connector: airbyte
  config:
    command: [/opt/venvs/faker/bin/source-faker]   # or  package: airbyte-source-faker
    config: {count: 100, seed: 7}                  # the connector's own config (its spec says what)
    normalisers: ledgerlink_airbyte_source.examples.faker_orders
```
"""

from __future__ import annotations

import importlib.metadata
import json
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ledgerlink import ConfigError

__all__ = ["AirbyteSourceConfig", "StreamSettings", "connector_argv"]


class StreamSettings(BaseModel):
    """What to use for a stream where the connector's catalog says nothing (or says it otherwise)."""

    model_config = ConfigDict(extra="forbid")
    #: top-level field(s) identifying a record; default: the catalog's `source_defined_primary_key`
    primary_key: str | list[str] | None = None
    #: top-level field that grows when a record changes; default: the catalog's `default_cursor_field`
    cursor_field: str | None = None


class AirbyteSourceConfig(BaseModel):
    """Runs an Airbyte source connector as a child process. Give `command` (an executable and its first
    arguments) or `package` (an installed `airbyte-source-*` distribution, whose console script is run)."""

    model_config = ConfigDict(extra="forbid")
    command: list[str] | str | None = Field(
        None, description="the connector executable and its leading arguments, e.g. [/path/to/source-faker] or "
                          "[python, -m, source_faker.run]; spec/check/discover/read and the file flags are appended")
    package: str | None = Field(
        None, description="an installed Airbyte source distribution, e.g. airbyte-source-faker: its console "
                          "script is run (installed in this Python environment)")
    name: str | None = Field(None, description="how errors and logs name the connector (default: the command's name)",
                             pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    config: dict[str, Any] = Field(
        default_factory=dict, description="the connector's own config, as its spec describes; fields its spec "
                                          "marks airbyte_secret are masked everywhere ledgerlink prints")
    normalisers: str | None = Field(
        None, description="a module (package.module) or a .py file whose normalisers() returns the "
                          "ledgerlink.Normaliser list turning this connector's streams into canonical objects")
    streams: dict[str, StreamSettings] = Field(
        default_factory=dict, description="per stream: primary_key / cursor_field where the catalog lacks them")
    idle_timeout_s: float = Field(1800, gt=0, le=86400,
                                  description="stop the connector when it prints nothing for this long")
    env: dict[str, str] = Field(default_factory=dict, description="extra environment variables for the connector")
    rotated_config: str | None = Field(
        None, json_schema_extra={"airbyte_secret": True},
        description="written by ledgerlink, not by hand: the fields of `config` the connector replaced with a "
                    "CONTROL message (a rotated refresh token), as a JSON object; the runtime keeps it in the "
                    "encrypted credential store and every later run uses it over `config`")

    @field_validator("rotated_config")
    @classmethod
    def _rotated_object(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            value = json.loads(v)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise ValueError("must be a JSON object of the connector's config fields (ledgerlink writes it)")
        return v

    @field_validator("command")
    @classmethod
    def _command_words(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = shlex.split(v)
        if v is not None and (not v or not all(isinstance(w, str) and w for w in v)):
            raise ValueError("give the executable, then any leading arguments, e.g. [/path/to/source-faker]")
        return v

    @model_validator(mode="after")
    def _one_way_to_run(self) -> "AirbyteSourceConfig":
        if (self.command is None) == (self.package is None):
            raise ValueError("give exactly one of command (an executable) or package (an installed "
                             "airbyte-source-* distribution)")
        return self

    def connector_config(self) -> dict[str, Any]:
        """The config the connector runs with: `config`, with the fields it rotated since (`rotated_config`)."""
        if not self.rotated_config:
            return dict(self.config)
        return {**self.config, **json.loads(self.rotated_config)}

    def connector_name(self) -> str:
        """How errors name the connector: `name`, else the executable's or package's name."""
        if self.name:
            return self.name
        if self.package:
            return self.package.removeprefix("airbyte-")
        assert self.command is not None
        return Path(self.command[-1] if Path(self.command[0]).name.startswith("python") else self.command[0]).name


def connector_argv(config: AirbyteSourceConfig) -> list[str]:
    """The argv that starts the connector (the Airbyte command and its flags are appended)."""
    if config.command is not None:
        return list(config.command)
    assert config.package is not None
    try:
        dist = importlib.metadata.distribution(config.package)
    except importlib.metadata.PackageNotFoundError:
        raise ConfigError(f"package {config.package!r} is not installed in this Python environment",
                          where="source.config.package",
                          hint=f"pip install {config.package}, or give command: [path to its executable] when it "
                               "lives in a virtual environment of its own") from None
    scripts = [ep for ep in dist.entry_points if ep.group == "console_scripts"]
    if not scripts:
        raise ConfigError(f"package {config.package!r} installs no console script to run",
                          where="source.config.package", hint="give command: [its executable] instead")
    script = next((ep for ep in scripts if ep.name.startswith("source-")), scripts[0])
    beside = Path(sys.executable).parent / script.name
    found = str(beside) if beside.exists() else shutil.which(script.name)
    if found:
        return [found]
    module, _, attr = script.value.partition(":")
    return [sys.executable, "-c", f"import sys; from {module} import {attr} as run; sys.exit(run())"]
