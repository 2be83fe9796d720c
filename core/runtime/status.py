"""Status lines plugins contribute for a pipeline (the Web Connector's last contact…), shown by `ledgerlink runs`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..pipeline import Pipeline, load_pipeline
from ..plugins import PluginHost, host as default_host
from ..store import PipelineState, Store

__all__ = ["status_lines"]


def status_lines(pipeline_or_state: Pipeline | str | Path, store: Store, *,
                 plugin_host: PluginHost | None = None) -> list[str]:
    """What the pipeline's plugins say about its state in `store`. Given a pipeline (or its file), only the
    plugins of its source and destination connectors speak, each with its config; given a `.duckdb` state file,
    every plugin that contributes status is asked, with no config."""
    pipeline = pipeline_or_state
    if not isinstance(pipeline, Pipeline):
        pipeline = None if Path(pipeline_or_state).suffix == ".duckdb" else load_pipeline(str(pipeline_or_state))
    connectors: list[tuple[str, dict[str, Any] | None]] | None = None
    if pipeline is not None:
        connectors = [(pipeline.source.connector, dict(pipeline.source.config)),
                      (pipeline.destination.connector, dict(pipeline.destination.config))]
    return (plugin_host or default_host()).status_lines(PipelineState.over(store), connectors)
