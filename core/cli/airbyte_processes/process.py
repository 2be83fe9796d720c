"""Airbyte's connector command line around one ledgerlink connector.

    source-…       spec | check --config C | discover --config C | read --config C --catalog K [--state S]
    destination-…  spec | check --config C | discover --config C | write --config C --catalog K  (records on stdin)

Each command reads its files and calls the connector as `ledgerlink`'s own connector command
(`ledgerlink.cli.connector`) does, with the connector and role fixed. What this adds is what an Airbyte platform
counts on from a connector process: nothing but protocol messages on stdout (logs become LOG messages); every
failure, a wrong command line included, as a TRACE error message plus a non-zero exit (2 for bad usage, 3 for
records a destination could not write (`writing.py`), 1 otherwise), never a bare traceback; a read that fails
names its stream (`reading.py`); and a refresh token rotated during the run comes back as a CONTROL message
with the updated config (`ledgerlink.config_rotations`). A configured catalog naming a stream the source does not have is refused before
anything is read, as Airbyte's own sources refuse it.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn, Sequence

import click

from ... import protocol
from .. import connector as commands
from ..common import EXIT_FAILED, EXIT_USAGE, emit
from ...connector_inputs import connector_config, read_json_file
from ...errors import ConfigError, LedgerlinkError
from ...secrets import mask
from ...plugins import host
from .logs import emit_message, log_as_messages
from .names import ConnectorProcess
from .reading import read_records
from ...config_rotations import ConfigRotations
from .writing import write_records

__all__ = ["run_connector", "airbyte_commands", "console_script"]

_CONFIG = click.option("--config", "config_path", required=True, type=click.Path(),
                       help="the connector's config JSON (see `spec`)")
_CATALOG = click.option("--catalog", "catalog_path", required=True, type=click.Path(),
                        help="the ConfiguredAirbyteCatalog JSON")


def airbyte_commands(entry: ConnectorProcess) -> click.Group:
    """The click group of one connector process: Airbyte's commands for its role, each delegating to ledgerlink's."""
    name, role = entry.connector, entry.role

    @click.group(name=entry.command, help=f"{entry.title} as an Airbyte {role} (Airbyte protocol v0 on stdout).")
    @click.option("--debug", is_flag=True, help="DEBUG log messages too")
    def group(debug: bool) -> None:
        log_as_messages(debug)

    @group.command(help="Print the connector's SPEC message.")
    @click.pass_context
    def spec(ctx: click.Context) -> None:
        ctx.invoke(commands.spec, connector=name, role=role)

    @group.command(help="Check the config against the remote system (CONNECTION_STATUS).")
    @_CONFIG
    @click.pass_context
    def check(ctx: click.Context, config_path: str) -> None:
        connector = host().connector(name, role)()
        config = connector_config(config_path)
        # a refresh token rotated by the check itself goes back to Airbyte at once (CONTROL): the old one may be dead
        status = connector.check(config, ConfigRotations(connector, config, emit_message).check_context())
        emit_message(protocol.Message(type=protocol.MessageType.CONNECTION_STATUS, connectionStatus=status))

    @group.command(help="Print what the connector reads (CATALOG) or can write (DESTINATION_CATALOG).")
    @_CONFIG
    @click.pass_context
    def discover(ctx: click.Context, config_path: str) -> None:
        ctx.invoke(commands.discover, connector=name, role=role, config_path=config_path)

    if role == "source":
        @group.command(help="Read the catalog's streams (RECORD, STATE, LOG, TRACE messages).")
        @_CONFIG
        @_CATALOG
        @click.option("--state", "state_path", type=click.Path(), help="the STATE messages of an earlier read")
        @click.pass_context
        def read(ctx: click.Context, config_path: str, catalog_path: str, state_path: str | None) -> None:
            _refuse_unknown_streams(name, config_path, catalog_path)
            _exit_unless_done(read_records(entry, config_path, catalog_path, state_path))
    else:
        @group.command(help="Write the RECORD messages read from stdin; echo each STATE once durable.")
        @_CONFIG
        @_CATALOG
        @click.pass_context
        def write(ctx: click.Context, config_path: str, catalog_path: str) -> None:
            _exit_unless_done(write_records(entry, config_path, catalog_path))

    return group


def _exit_unless_done(code: int) -> None:
    """A read or write that failed has said why (TRACE messages, stderr): end the process with its code."""
    if code:
        sys.stdout.flush()
        sys.exit(code)


def _refuse_unknown_streams(name: str, config_path: str, catalog_path: str) -> None:
    """A ConfigError naming the catalog's streams the source does not have (Airbyte refuses these too: the
    connection's schema needs a refresh), before a single record is read."""
    raw = read_json_file(catalog_path, "catalog")
    streams = raw.get("streams") if isinstance(raw, dict) else None
    if not isinstance(streams, list):
        return  # not a catalog at all: `read` names what is wrong with it
    wanted = [s["stream"]["name"] for s in streams
              if isinstance(s, dict) and isinstance(s.get("stream"), dict) and isinstance(s["stream"].get("name"), str)]
    config = read_json_file(config_path, "config")
    if not isinstance(config, dict):
        return  # `read` says the config is not an object
    known = {s.name for s in host().connector(name, "source")().discover(config).streams}
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise ConfigError(f"the catalog names {'a stream' if len(unknown) == 1 else 'streams'} the {name} source "
                          f"does not have: {', '.join(repr(s) for s in unknown)}; it has: {', '.join(sorted(known))}",
                          hint="refresh the connection's schema (run `discover`) and remove the stream")


def run_connector(entry: ConnectorProcess, argv: Sequence[str] | None = None) -> NoReturn:
    """Run one Airbyte command of `entry` (`argv` defaults to the process's arguments) and exit: 0 done, 2 bad
    usage, 1 anything else; every failure also as a TRACE error message on stdout."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        airbyte_commands(entry).main(args, prog_name=entry.command, standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:  # `source-… ` alone: say what it can do, as bad usage
        _fail(f"{entry.command}: no command given; use one of {_verbs(entry)}", exc.format_message(), EXIT_USAGE)
    except click.UsageError as exc:
        _fail(f"{entry.command}: {exc.format_message()}", _usage(exc), EXIT_USAGE)
    except click.ClickException as exc:  # a file option click itself could not open
        _fail(f"{entry.command}: {exc.format_message()}", None, EXIT_USAGE)
    except click.Abort:
        _fail(f"{entry.command}: stopped", None, EXIT_FAILED, "transient_error")
    except LedgerlinkError as exc:  # raised before the connector command started (the stream check)
        _fail(str(exc), None, EXIT_FAILED, "config_error" if isinstance(exc, ConfigError) else "system_error")
    except SystemExit:
        sys.stdout.flush()
        raise
    except Exception as exc:  # noqa: BLE001 - a bug, said as one, never a bare traceback on stdout
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        _fail(f"{entry.command}: unexpected {type(exc).__name__}: {first}",
              "this is a bug in ledgerlink or a plugin; run again with --debug and report what it prints",
              EXIT_FAILED)
    sys.stdout.flush()
    sys.exit(0)


def _verbs(entry: ConnectorProcess) -> str:
    return ", ".join(("spec", "check", "discover", "read" if entry.role == "source" else "write"))


def _usage(exc: click.UsageError) -> str | None:
    return exc.ctx.get_usage() if exc.ctx is not None else None


def _fail(message: str, detail: str | None, code: int, failure: str = "config_error") -> NoReturn:
    """A TRACE error message (what Airbyte shows) and the same words on stderr (for a person), then exit."""
    text = mask(message)
    emit(protocol.error_trace(text, internal_message=mask(detail) if detail else None, failure_type=failure))
    sys.stdout.flush()
    click.echo(f"error: {text}", err=True)
    if detail:
        click.echo(detail, err=True)
    sys.exit(code)


def console_script(entry: ConnectorProcess) -> Any:
    """The console script of `entry`: `run_connector` with the process's own arguments."""
    def main() -> NoReturn:
        run_connector(entry)
    main.__name__ = entry.command.replace("-", "_")
    main.__doc__ = f"The `{entry.command}` console script: {entry.title} as an Airbyte {entry.role}."
    return main
