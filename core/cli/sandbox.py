"""`ledgerlink sandbox`: serve a plugin's emulator of a remote API, with options given as `--set KEY=VALUE`."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ..errors import LedgerlinkError
from ..plugins import host
from .common import EXIT_USAGE, PORT, check_port_free, fail, run_server


def _parse_sets(values: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        if "=" not in item:
            raise click.BadParameter(f"{item!r}: use KEY=VALUE", param_hint="--set")
        key, value = item.split("=", 1)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


@click.command()
@click.argument("name")
@click.option("--port", type=PORT, help="Port (default: the sandbox's documented port).")
@click.option("--host", "bind", default="127.0.0.1", show_default=True)
@click.option("--time-scale", type=float, default=100.0, show_default=True,
              help="Run the vendor's rate limits and waits this many times faster (1 = the real limits).")
@click.option("--set", "sets", multiple=True, help="Sandbox option KEY=VALUE, e.g. --set orders=1000.")
def sandbox(name: str, port: int | None, bind: str, time_scale: float, sets: tuple[str, ...]) -> None:
    """Serve a local emulator of a remote system's API (e.g. amazon_sp, qbo) until interrupted."""
    from ..sandbox import serve

    try:
        cls = host().sandbox(name)
        instance = cls(**{"time_scale": time_scale, **_parse_sets(sets)})
        check_port_free(bind, port or cls.default_port, f"sandbox {name}")
    except LedgerlinkError as exc:
        fail(exc)
        return
    except Exception as exc:  # pydantic validation of options
        click.echo(f"error: sandbox {name} options: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"{name} sandbox on http://{bind}:{port or cls.default_port} (Ctrl-C to stop)", err=True)
    run_server(lambda: serve(instance, bind, port or cls.default_port), bind, port or cls.default_port,
               f"sandbox {name}")
