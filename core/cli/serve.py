"""`ledgerlink serve`: a workspace of pipelines (or one pipeline file) as a long-running service — schedule,
webhooks and the Web Connector, and the secured console API — with a start line and one line per finished run."""

from __future__ import annotations

import logging
import math
import sys
from typing import Any

import click

from ..errors import ConfigError, LedgerlinkError
from ..logs import json_logs_on_stdout
from ..runtime import stop
from ..plugins import host
from .common import PORT, check_port_free, fail, load_pipeline_file, run_server

log = logging.getLogger("ledgerlink.serve")


@click.command()
@click.argument("pipeline_file", type=click.Path(), required=False)
@click.option("--workspace", type=click.Path(), envvar="LEDGERLINK_WORKSPACE", show_envvar=True,
              help="Serve every pipeline file in this folder.")
@click.option("--host", "bind", default="127.0.0.1", show_default=True, envvar="LEDGERLINK_HOST", show_envvar=True,
              help="Address to listen on (keep loopback; put a TLS reverse proxy in front to reach it from elsewhere).")
@click.option("--port", type=PORT, default=8700, show_default=True, envvar="LEDGERLINK_PORT", show_envvar=True)
@click.option("--every", default="15m", show_default=True, envvar="LEDGERLINK_EVERY", show_envvar=True,
              help="Sync on this schedule (e.g. 30s, 15m, 1h; 0 = only when asked).")
@click.option("--secure-cookies/--no-secure-cookies", default=None,
              help="Mark session cookies Secure (default: when the request came over TLS).")
@click.option("--session-hours", default=8.0, show_default=True, help="How long a console sign-in lasts.")
@click.option("--behind-proxy", is_flag=True,
              help="Trust X-Forwarded-Proto/For from a reverse proxy on this machine (TLS terminated there).")
def serve(pipeline_file: str | None, workspace: str | None, bind: str, port: int, every: str,
          secure_cookies: bool | None, session_hours: float, behind_proxy: bool) -> None:
    """Serve pipelines: scheduled syncs, webhook receivers, the Web Connector, and the console API (/api/v1)."""
    import uvicorn

    from ..console import Workspace
    from ..console.app import build_console_app, mount_paths

    def say(line: str) -> None:
        if json_logs_on_stdout():  # a container's stdout holds JSON lines only
            log.info("%s", line)
        else:
            click.echo(line, err=True)

    try:
        if bool(pipeline_file) == bool(workspace):
            raise ConfigError("name a pipeline file or --workspace DIR (one of the two)",
                              hint="e.g. `ledgerlink serve --workspace .`")
        seconds = _duration(every)
        if not 0 < session_hours <= 24 * 30:
            raise ConfigError(f"--session-hours {session_hours}: use more than 0 and at most 720")
        if pipeline_file:
            _check_connectors(load_pipeline_file(pipeline_file))
        check_port_free(bind, port, "serve")
        ws = Workspace.open(workspace or pipeline_file, host(), every=seconds or None, announce=say,
                            session_seconds=session_hours * 3600)
    except LedgerlinkError as exc:
        fail(exc)
        return
    shown = "127.0.0.1" if bind in ("0.0.0.0", "::", "") else bind
    url = f"http://{shown}:{port}"
    app = build_console_app(ws, cookie_secure=secure_cookies)
    users = ws.accounts.list()
    say(f"ledgerlink serve: {len(ws.services)} pipeline(s) ({', '.join(ws.services)}) from {ws.root}; "
        f"console at {url}/ (sign in there), console API at {url}/api/v1")
    say(f"scripts sign in with POST {url}/api/v1/session (name and password) or send `Authorization: Bearer TOKEN` "
        + (f"({len(users)} user(s))" if users else
           f"— no users yet: `ledgerlink users add NAME --role admin --workspace {ws.root}`"))
    for path, _, plugin in mount_paths(ws):
        say(f"vendor callback {url}{path}/ ({plugin})")
    ws.start()
    ws.write_notes(f"http://{'127.0.0.1' if shown == '127.0.0.1' else shown}:{port}")
    # uvicorn handles SIGTERM/SIGINT while it runs, then hands the signal to this handler: the running syncs
    # end after their batch (see runtime.stop), `ws.stop()` waits for them, and the exit code says which signal
    restore = stop.install_signal_handlers(second_stops_now=False)
    try:
        # with JSON logs, uvicorn's own lines go through ledgerlink's handler (log_config=None) instead of its text
        logging_config = {"log_config": None} if json_logs_on_stdout() else {}
        run_server(lambda: uvicorn.run(app, host=bind, port=port, log_level="warning", proxy_headers=behind_proxy,
                                       forwarded_allow_ips="127.0.0.1" if behind_proxy else None, **logging_config),
                   bind, port, "serve")
    finally:
        ws.stop()
        from ..console.pages_fleet import close_fleet_endpoints

        close_fleet_endpoints()  # a Web Connector session still open in the fleet releases its lease now
        restore()
    if stop.stop_requested():
        say(f"ledgerlink serve stopped ({stop.stop_reason()}); every running sync recorded its last batch")
        sys.exit(stop.stop_exit_code())


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
