"""What every `ledgerlink` command group shares: the exit codes, the rich console, turning an error into its
exit code (a busy pipeline exits 4), reading a JSON file named on the command line, writing a protocol message,
and opening a pipeline's state file. Group modules import this module and never each other."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any, Callable

import click

from .. import protocol
from ..connector_inputs import read_json_file
from ..errors import ConfigError, LedgerlinkError, PipelineBusyError

__all__ = ["EXIT_FAILED", "EXIT_USAGE", "EXIT_DEAD_LETTERS", "EXIT_BUSY", "EXIT_DIFFERENCES", "EXIT_WAITING",
           "rich_console", "fail", "read_json_file", "emit", "open_store", "served", "check_port_free", "run_server",
           "GuardedGroup", "load_pipeline_file", "PORT"]

#: exit codes: 1 failed, 2 bad usage or config, 3 finished with dead letters to look at, 4 pipeline busy,
#: 5 reconcile found differences, 6 a sync finished what it could and a stream waits for a report (`SyncReport`)
EXIT_FAILED, EXIT_USAGE, EXIT_DEAD_LETTERS, EXIT_BUSY, EXIT_DIFFERENCES, EXIT_WAITING = 1, 2, 3, 4, 5, 6


def rich_console(stderr: bool = False) -> Any:
    """A rich console that wraps like plain text (imported late: `spec`/`read` never pay for rich)."""
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=True)


def fail(exc: LedgerlinkError) -> None:
    """Print the error and exit with its code: busy pipeline 4, bad config 2, anything else 1."""
    code = EXIT_BUSY if isinstance(exc, PipelineBusyError) else EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_FAILED
    click.echo(f"error: {exc}", err=True)
    sys.exit(code)


def emit(message: protocol.Message) -> None:
    """Write one protocol message as a JSON line on stdout."""
    sys.stdout.write(protocol.dumps(message) + "\n")


def load_pipeline_file(target: str) -> Any:
    """The pipeline in `target`; a directory or a file that is not UTF-8 is a ConfigError naming it."""
    from ..pipeline import load_pipeline

    path = Path(target)
    if path.is_dir():
        raise ConfigError(f"{target} is a folder, not a pipeline file", hint="name the pipeline's .yaml file")
    try:
        return load_pipeline(target)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"pipeline file {target} is not UTF-8 text ({exc.reason} at byte {exc.start})",
                          hint="save it as UTF-8") from None


def open_store(target: str) -> Any:
    """The state store of a pipeline file, or of a `.duckdb` state file given directly."""
    from ..store import Store

    path = Path(target)
    if path.suffix == ".duckdb":
        if not path.exists():
            raise ConfigError(f"state file {path} does not exist")
        return _state_file(Store, path)
    state = load_pipeline_file(target).state_path
    if not state.exists():
        raise ConfigError(f"{target} has not run yet (no {state})", hint=f"run `ledgerlink sync {target}` first")
    return _state_file(Store, state)


def served(target: str) -> Any:
    """A client of the `ledgerlink serve` that holds this pipeline (or state file), found through the endpoint
    note it leaves beside the state file; None when no live serve holds it (then open the state file as usual,
    which says "pipeline is busy" if another process still has it)."""
    from ..console.client import served_client

    return served_client(target)


def _state_file(store_class: Any, path: Path) -> Any:
    """Open a state file; a directory or a file that is not a DuckDB database is a ConfigError naming it."""
    if path.is_dir():
        raise ConfigError(f"state file {path} is a directory", hint="name a .duckdb file (the pipeline's `state:`)")
    try:
        return store_class(path)
    except LedgerlinkError:
        raise
    except Exception as exc:
        if not "duckdb" in type(exc).__module__:
            raise
        raise ConfigError(f"state file {path} is not a ledgerlink state file: {_first_line(exc)}",
                          hint="name the .duckdb file a `ledgerlink sync` wrote (the pipeline's `state:`)") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


class GuardedGroup(click.Group):
    """The root group: whatever a command (built-in or a plugin's) lets escape becomes one `error:` line and a
    documented exit code, never a traceback — a LedgerlinkError by its kind, an unreadable file or a state file
    that is not a database as bad input (2), anything else as a failure (1) that says it is a bug (the
    traceback with -vv)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except LedgerlinkError as exc:
            fail(exc)
        except OSError as exc:
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            fail(ConfigError(f"{where}{exc.strerror or _first_line(exc)}"))
        except UnicodeDecodeError as exc:
            fail(ConfigError(f"a file is not UTF-8 text ({exc.reason} at byte {exc.start})"))
        except RecursionError:
            fail(ConfigError("the input is nested too deeply to read"))
        except Exception as exc:
            if "duckdb" in type(exc).__module__:
                fail(ConfigError(f"the state file cannot be used: {_first_line(exc)}"))
            if (ctx.params.get("verbose") or 0) >= 2:
                import traceback

                traceback.print_exc()
            click.echo(f"error: unexpected {type(exc).__name__}: {_first_line(exc)}\n"
                       "  hint: this is a bug in ledgerlink or a plugin; run again with -vv and report what it "
                       "prints", err=True)
            sys.exit(EXIT_FAILED)



#: a TCP port to listen on (0 would mean "any", which a server a person points things at cannot use)
PORT = click.IntRange(1, 65535)


def check_port_free(bind: str, port: int, what: str) -> None:
    """Raise a ConfigError naming the port when `what` could not listen on `bind:port` (in use, or an address
    this machine does not have), before anything starts: uvicorn would exit 3, which means "dead letters"."""
    try:
        infos = socket.getaddrinfo(bind, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"{what} cannot listen on host {bind!r}: {exc}",
                          hint="use --host 127.0.0.1, or an address of this machine") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        if sys.platform != "win32":  # as uvicorn binds: a port in TIME_WAIT is free, one listened on is not
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            in_use = exc.errno in (48, 98, 10048)  # EADDRINUSE on macOS, Linux, Windows
            reason = f"port {port} is in use" if in_use else f"cannot listen on {bind}:{port}: {exc.strerror or exc}"
            raise ConfigError(f"{what}: {reason}",
                              hint="stop what listens there, or give another --port" if in_use else
                              "use --host 127.0.0.1, or an address of this machine") from None


def run_server(run: Callable[[], None], bind: str, port: int, what: str) -> None:
    """Run a uvicorn server in the foreground; a failure to start (the port taken between the check and the
    bind) becomes the same clear error and exit 2, not uvicorn's own exit code."""
    try:
        run()
    except SystemExit as exc:
        if exc.code in (None, 0):
            raise
        fail(ConfigError(f"{what}: could not listen on {bind}:{port} (is the port in use?)",
                         hint="stop what listens there, or give another --port"))
