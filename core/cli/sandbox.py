"""`ledgerlink sandbox`: serve a plugin's emulator of a remote API, with options given as `--set KEY=VALUE`."""

from __future__ import annotations

import json
import math
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


def _scale(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise click.BadParameter(f"{value} is not a positive number (1 = the vendor's real limits)")
    return value


def _number(value: Any, key: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise click.BadParameter(f"{key}={value!r} is not a number", param_hint="--set") from None


@click.command()
@click.argument("name")
@click.option("--port", type=PORT, help="Port (default: the sandbox's documented port).")
@click.option("--host", "bind", default="127.0.0.1", show_default=True)
@click.option("--time-scale", type=float, default=100.0, show_default=True, callback=lambda ctx, param, v: _scale(v),
              help="Run the vendor's rate limits and waits this many times faster (1 = the real limits).")
@click.option("--set", "sets", multiple=True, help="Sandbox option KEY=VALUE, e.g. --set orders=1000.")
def sandbox(name: str, port: int | None, bind: str, time_scale: float, sets: tuple[str, ...]) -> None:
    """Serve a local emulator of a remote system's API (e.g. amazon_sp, qbo) until interrupted."""
    from ..sandbox import serve

    try:
        cls = host().sandbox(name)
        options = _parse_sets(sets)
        known = sorted(cls.options_model.model_fields)
        unknown = [k for k in options if k not in known]
        if unknown:
            raise click.BadParameter(f"sandbox {name} has no option {', '.join(map(repr, unknown))}; its options: "
                                     f"{', '.join(known)}", param_hint="--set")
        if "time_scale" in options:
            options["time_scale"] = _scale(_number(options["time_scale"], "time_scale"))
        instance = cls(**{"time_scale": time_scale, **options})
        check_port_free(bind, port or cls.default_port, f"sandbox {name}")
    except LedgerlinkError as exc:
        fail(exc)
        return
    except ValueError as exc:  # pydantic validation of options: one line per wrong option, naming it
        errors = exc.errors() if hasattr(exc, "errors") else [{"loc": ("?",), "msg": str(exc)}]
        for error in errors:
            click.echo(f"error: sandbox {name} option {'.'.join(map(str, error['loc']))}: {error['msg']}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"{name} sandbox on http://{bind}:{port or cls.default_port} (Ctrl-C to stop)", err=True)
    run_server(lambda: serve(instance, bind, port or cls.default_port), bind, port or cls.default_port,
               f"sandbox {name}")
