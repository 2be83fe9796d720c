"""The hooks a ledgerlink plugin can implement. Each has one docstring: the contract for its authors.

A test fails when a hook here has no docstring, or the plugin guide (docs/guides/plugin.md) does not name it.
"""

from __future__ import annotations

from typing import Any, Callable

from .plugins import hookspec


@hookspec
def register_connectors(register: Callable[[type], None]) -> None:
    """Call `register(cls)` once for each `ledgerlink.Source` or `ledgerlink.Destination` subclass the plugin provides."""


@hookspec
def register_sandboxes(register: Callable[[type], None]) -> None:
    """Call `register(cls)` once for each `ledgerlink.Sandbox` subclass: a local emulator of a remote system's API."""


@hookspec
def register_mapping_filters(register: Callable[..., None]) -> None:
    """Call `register(name, function, kind="filter")` to add a Jinja filter (or kind="test"/"global") to mappings."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add click commands to the `ledgerlink` command group, e.g. `@cli.command()`."""


@hookspec
def register_web_routes(register: Callable[[str, Callable[[Any], Any]], None]) -> None:
    """Call `register(path, factory)` to mount a web app under `ledgerlink serve` at `path` (e.g. a webhook
    receiver at "/webhooks/bigcommerce"). `factory(context)` gets a `ledgerlink.ServeContext` (the pipeline's
    interpolated source and destination configs, `trigger_sync(reason)`) and returns an ASGI app."""


@hookspec
def register_status_lines(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Call `register(connector, function)` to add status lines under `ledgerlink runs` for pipelines that use the
    connector named `connector` (as source or destination). `function(state, config)` gets the pipeline's
    `ledgerlink.PipelineState` and that connector's config from the pipeline file (None when `runs` was given only
    a state file) and returns a few short lines, e.g. "Web Connector: last contact 2026-12-07 00:05 UTC". It must
    not call the remote; an exception becomes a line saying the status is unavailable."""
