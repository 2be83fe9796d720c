"""What every `ledgerlink` command group shares: the exit codes, the rich console, turning an error into its
exit code (a busy pipeline exits 4), reading a JSON file named on the command line, writing a protocol message,
and opening a pipeline's state file. Group modules import this module and never each other."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .. import protocol
from ..errors import ConfigError, LedgerlinkError, PipelineBusyError

__all__ = ["EXIT_FAILED", "EXIT_USAGE", "EXIT_DEAD_LETTERS", "EXIT_BUSY", "EXIT_DIFFERENCES",
           "rich_console", "fail", "read_json_file", "emit", "open_store", "served"]

#: exit codes: 1 failed, 2 bad usage or config, 3 finished with dead letters to look at, 4 pipeline busy,
#: 5 reconcile found differences
EXIT_FAILED, EXIT_USAGE, EXIT_DEAD_LETTERS, EXIT_BUSY, EXIT_DIFFERENCES = 1, 2, 3, 4, 5


def rich_console(stderr: bool = False) -> Any:
    """A rich console that wraps like plain text (imported late: `spec`/`read` never pay for rich)."""
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=True)


def fail(exc: LedgerlinkError) -> None:
    """Print the error and exit with its code: busy pipeline 4, bad config 2, anything else 1."""
    code = EXIT_BUSY if isinstance(exc, PipelineBusyError) else EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_FAILED
    click.echo(f"error: {exc}", err=True)
    sys.exit(code)


def read_json_file(path: str | None, what: str) -> Any:
    """The JSON in `path` (None when no path was given); a missing or broken file is a ConfigError naming `what`."""
    if path is None:
        return None
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"{what} file {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} file {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None


def emit(message: protocol.Message) -> None:
    """Write one protocol message as a JSON line on stdout."""
    sys.stdout.write(protocol.dumps(message) + "\n")


def open_store(target: str) -> Any:
    """The state store of a pipeline file, or of a `.duckdb` state file given directly."""
    from ..pipeline import load_pipeline
    from ..store import Store

    path = Path(target)
    if path.suffix == ".duckdb":
        if not path.exists():
            raise ConfigError(f"state file {path} does not exist")
        return Store(path)
    state = load_pipeline(target).state_path
    if not state.exists():
        raise ConfigError(f"{target} has not run yet (no {state})", hint=f"run `ledgerlink sync {target}` first")
    return Store(state)


def served(target: str) -> Any:
    """A client of the `ledgerlink serve` that holds this pipeline (or state file), found through the endpoint
    note it leaves beside the state file; None when no live serve holds it (then open the state file as usual,
    which says "pipeline is busy" if another process still has it)."""
    from ..console.client import served_client

    return served_client(target)
