"""`ledgerlink serve`: a pipeline as a long-running service (schedule, webhooks, health and runs endpoints)."""

from __future__ import annotations

import math
from typing import Any

import click

from ..errors import ConfigError, LedgerlinkError
from ..plugins import host
from .common import PORT, check_port_free, fail, load_pipeline_file, open_store, run_server


@click.command()
@click.argument("pipeline_file", type=click.Path())
@click.option("--host", "bind", default="127.0.0.1", show_default=True)
@click.option("--port", type=PORT, default=8700, show_default=True)
@click.option("--every", default="15m", show_default=True, help="Sync on this schedule (e.g. 30s, 15m, 1h; 0 = only when asked).")
def serve(pipeline_file: str, bind: str, port: int, every: str) -> None:
    """Run a pipeline as a service: scheduled syncs, webhook receivers, /health, /runs and POST /sync."""
    import uvicorn

    from ..serve import PipelineService, build_app

    try:
        seconds = _duration(every)
        pipeline = load_pipeline_file(pipeline_file)
        _check_connectors(pipeline)
        if pipeline.state_path.exists() or pipeline.state_path.is_symlink():
            open_store(pipeline_file).close()  # a state file that is a folder, not DuckDB, or busy: say so now
        check_port_free(bind, port, "serve")
        service = PipelineService(pipeline, host(), every=seconds or None)
    except LedgerlinkError as exc:
        fail(exc)
        return
    service.start()
    try:
        run_server(lambda: uvicorn.run(build_app(service), host=bind, port=port, log_level="warning"),
                   bind, port, "serve")
    finally:
        service.stop()


def _check_connectors(pipeline: Any) -> None:
    """Both connectors installed and both configs valid, before the service listens: a service whose every
    scheduled sync would fail the same way must not start (errors name the key, as `sync` does)."""
    for side, where in (("source", pipeline.source), ("destination", pipeline.destination)):
        connector = host().connector(where.connector, side)()
        connector.parse_config(where.config, where=f"{side}.config")


def _duration(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        seconds = float(text[:-1]) * units[text[-1]] if text and text[-1] in units else float(text)
    except ValueError:
        seconds = float("nan")
    if not math.isfinite(seconds) or seconds < 0 or seconds > 366 * 86400:
        raise ConfigError(f"--every {text!r}: use e.g. 30s, 15m or 1h (0 = only when asked)")
    return seconds
