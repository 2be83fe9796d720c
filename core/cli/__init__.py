"""The `ledgerlink` command line.

Connector commands (`spec`, `check`, `discover`, `read`, `write`) behave as an Airbyte connector: JSON lines
on stdout. Reporting commands print tables on a terminal and JSON with `--json`. Exit codes: 0 ok,
1 failed, 2 bad usage or config, 3 finished with dead letters to look at, 4 pipeline busy,
5 reconcile found differences.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from .. import jsonutil, protocol
from ..errors import ConfigError, LedgerlinkError, PipelineBusyError
from ..logs import setup_logging
from ..plugins import host

EXIT_FAILED, EXIT_USAGE, EXIT_DEAD_LETTERS, EXIT_BUSY = 1, 2, 3, 4


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=True)


def _fail(exc: LedgerlinkError) -> None:
    code = EXIT_BUSY if isinstance(exc, PipelineBusyError) else EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_FAILED
    click.echo(f"error: {exc}", err=True)
    sys.exit(code)


def _read_json_file(path: str | None, what: str) -> Any:
    if path is None:
        return None
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"{what} file {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} file {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None


def _emit(message: protocol.Message) -> None:
    sys.stdout.write(protocol.dumps(message) + "\n")


def _airbyte(fn: Callable[..., Iterator[protocol.Message]]) -> Callable[..., None]:
    """Run a connector command: messages to stdout; a failure becomes a TRACE error message and exit 1."""
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            for message in fn(*args, **kwargs):
                _emit(message)
        except LedgerlinkError as exc:
            failure = "config_error" if isinstance(exc, ConfigError) else "system_error"
            _emit(protocol.error_trace(str(exc), failure_type=failure))
            sys.exit(EXIT_FAILED)
        sys.stdout.flush()
    return run


@click.group()
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="ledgerlink")
def cli(verbose: int) -> None:
    """ledgerlink: keeps an online store's books right."""
    setup_logging(verbose)


# ------------------------------------------------------------------------------------------ connectors


@cli.command()
@click.argument("connector")
@click.option("--role", type=click.Choice(["source", "destination"]), default=None,
              help="for a connector registered as both (e.g. qbo): which one")
def spec(connector: str, role: str | None) -> None:
    """Print a connector's SPEC message."""
    @_airbyte
    def run() -> Iterator[protocol.Message]:
        yield protocol.Message(type=protocol.MessageType.SPEC, spec=host().connector(connector, role)().spec())
    run()


@cli.command()
@click.argument("connector")
@click.option("--role", type=click.Choice(["source", "destination"]), default=None,
              help="for a connector registered as both (e.g. qbo): which one")
@click.option("--config", "config_path", required=True, type=click.Path())
def check(connector: str, config_path: str, role: str | None) -> None:
    """Check a connector's config against the remote system (CONNECTION_STATUS)."""
    @_airbyte
    def run() -> Iterator[protocol.Message]:
        status = host().connector(connector, role)().check(_read_json_file(config_path, "config"))
        yield protocol.Message(type=protocol.MessageType.CONNECTION_STATUS, connectionStatus=status)
    run()


@cli.command()
@click.argument("connector")
@click.option("--role", type=click.Choice(["source", "destination"]), default=None,
              help="for a connector registered as both (e.g. qbo): which one")
@click.option("--config", "config_path", required=True, type=click.Path())
def discover(connector: str, config_path: str, role: str | None) -> None:
    """Print what a connector reads (CATALOG) or can write (DESTINATION_CATALOG)."""
    from ..connectors import Destination, Source

    @_airbyte
    def run() -> Iterator[protocol.Message]:
        conn = host().connector(connector, role)()
        config = _read_json_file(config_path, "config")
        if isinstance(conn, Destination) and (role == "destination" or not isinstance(conn, Source)):
            yield protocol.Message(type=protocol.MessageType.DESTINATION_CATALOG, destination_catalog=conn.discover(config))
        else:
            yield protocol.Message(type=protocol.MessageType.CATALOG, catalog=conn.discover(config))
    run()


@cli.command()
@click.argument("connector")
@click.option("--config", "config_path", required=True, type=click.Path())
@click.option("--catalog", "catalog_path", type=click.Path(), help="ConfiguredAirbyteCatalog JSON (default: all streams).")
@click.option("--state", "state_path", type=click.Path(), help="STATE JSON from an earlier read.")
def read(connector: str, config_path: str, catalog_path: str | None, state_path: str | None) -> None:
    """Read records from a source (RECORD, STATE, LOG, TRACE, CONTROL messages)."""
    @_airbyte
    def run() -> Iterator[protocol.Message]:
        source = host().connector(connector, "source")()
        raw = _read_json_file(catalog_path, "catalog")
        catalog = protocol.ConfiguredCatalog.model_validate(raw) if raw else None
        yield from source.read(_read_json_file(config_path, "config"), catalog, _read_json_file(state_path, "state"))
    run()


@cli.command()
@click.argument("connector")
@click.option("--config", "config_path", required=True, type=click.Path())
@click.option("--catalog", "catalog_path", type=click.Path())
def write(connector: str, config_path: str, catalog_path: str | None) -> None:
    """Write RECORD messages read from stdin to a destination; echo each STATE once durable."""
    @_airbyte
    def run() -> Iterator[protocol.Message]:
        dest = host().connector(connector, "destination")()
        raw = _read_json_file(catalog_path, "catalog")
        catalog = protocol.ConfiguredCatalog.model_validate(raw) if raw else None
        yield from dest.write(_read_json_file(config_path, "config"), catalog, protocol.iter_lines(sys.stdin))
    run()


# ---------------------------------------------------------------------------------------------- plugins


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
def plugins(as_json: bool) -> None:
    """List installed plugins with their versions, connectors and sandboxes."""
    infos = host().plugins()
    if as_json:
        click.echo(json.dumps([i.__dict__ for i in infos], indent=2))
        return
    from rich.table import Table

    table = Table("plugin", "distribution", "version", "connectors", "sandboxes", "mapping filters")
    for i in infos:
        if i.error:
            table.add_row(f"[red]{i.name}[/red]", i.distribution or "-", i.version or "-",
                          "[red]failed to load[/red]", "-", "-")
            continue
        table.add_row(i.name, i.distribution or "-", i.version or "-", ", ".join(i.connectors) or "-",
                      ", ".join(i.sandboxes) or "-", ", ".join(i.filters) or "-")
    _console().print(table)
    for i in infos:
        if i.error:
            _console().print(f"[red]{i.error}[/red]")


# ----------------------------------------------------------------------------------------------- sync


def _progress_callback(enabled: bool):
    import contextlib

    if not enabled:
        return contextlib.nullcontext(None)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    @contextlib.contextmanager
    def bars():
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:>8} rows"),
                      TimeElapsedColumn(), console=_console(stderr=True), transient=True) as prog:
            tasks: dict[str, Any] = {}

            def update(stage: str, advance: int = 1, total: int | None = None) -> None:
                if stage not in tasks:
                    tasks[stage] = prog.add_task(stage, total=total)
                prog.update(tasks[stage], advance=advance)
            yield update
    return bars()


def _print_sync(report: Any) -> None:
    from rich.table import Table

    c = report.counts
    table = Table(title=f"{report.pipeline}: run {report.run_id}{' (dry run)' if report.dry_run else ''} "
                        f"— {report.status}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for stream, n in sorted((c.get("read") or {}).items()):
        table.add_row(f"records read: {stream}", str(n))
    for kind, n in sorted((c.get("objects") or {}).items()):
        table.add_row(f"canonical {kind}s", str(n))
    table.add_row("not in a posting status", str(c.get("not_posted", 0)))
    table.add_row("planned (new / unchanged)", f"{c.get('planned_new', 0)} / {c.get('planned_unchanged', 0)}")
    if c.get("changed_after_posting"):
        table.add_row("changed after posting (held)", str(c["changed_after_posting"]))
    if report.dry_run:
        for stream, info in sorted(report.would_write.items()):
            table.add_row(f"would write: {stream}", str(info["count"]))
    else:
        for stream, n in sorted((c.get("created") or {}).items()):
            table.add_row(f"created: {stream}", str(n))
        for stream, n in sorted((c.get("already_there") or {}).items()):
            table.add_row(f"already there: {stream}", str(n))
        table.add_row("references resolved", str(c.get("references", 0)))
        if c.get("retry_later"):
            table.add_row("retry on next sync", str(c["retry_later"]))
        if c.get("blocked"):
            table.add_row("waiting on a failed reference", str(c["blocked"]))
    table.add_row("dead letters open", str(c.get("dead_letters_open", 0)))
    table.add_row("state file", report.state_path)
    console = _console()
    console.print(table)
    for err in report.errors:
        console.print(f"[red]error:[/red] {err}")
    if c.get("dead_letters_open"):
        console.print("see them with [bold]ledgerlink dlq list[/bold] PIPELINE")


@cli.command()
@click.argument("pipeline_file", type=click.Path())
@click.option("--dry-run", is_flag=True, help="Read, normalise and plan; show what would be written; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.option("--replan", is_flag=True, help="Plan every staged record again (done by itself when the posting "
                                              "rules change); posted documents whose plan changed are held.")
def sync(pipeline_file: str, dry_run: bool, as_json: bool, replan: bool) -> None:
    """Run a pipeline: read → stage → normalise → post → reconcile counts."""
    from ..pipeline import load_pipeline
    from ..runtime import sync as run_sync

    try:
        pipeline = load_pipeline(pipeline_file)
        with _progress_callback(sys.stderr.isatty() and not as_json) as progress:
            report = run_sync(pipeline, dry_run=dry_run, replan=replan,
                              **({"progress": progress} if progress else {}))
    except LedgerlinkError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps(report.to_dict(), indent=2))
    else:
        _print_sync(report)
        if dry_run:
            for stream, info in sorted(report.would_write.items()):
                _console().print(f"[bold]{stream}[/bold] example:")
                _console().print_json(jsonutil.dumps(info["examples"][0]))
    sys.exit(report.exit_code)


# ------------------------------------------------------------------------------------ state commands


def _open_store(target: str):
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


@cli.group()
def dlq() -> None:
    """The dead-letter queue: list, show, retry and discard records that could not go through."""


@dlq.command("list")
@click.argument("pipeline_or_state")
@click.option("--all", "show_all", is_flag=True, help="Include retried, discarded and resolved letters.")
@click.option("--json", "as_json", is_flag=True)
def dlq_list(pipeline_or_state: str, show_all: bool, as_json: bool) -> None:
    """List dead letters (open ones by default)."""
    try:
        store = _open_store(pipeline_or_state)
        letters = store.dead_letters.list(status=None if show_all else "open")
        store.close()
    except LedgerlinkError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps([d.to_dict() for d in letters], indent=2))
        return
    from rich.table import Table

    table = Table("id", "stage", "stream", "record", "kind", "message", "status")
    for d in letters:
        table.add_row(str(d.id), d.stage, d.stream or "-", d.record_key or "-", d.error_kind, d.message, d.status)
    _console().print(table if letters else "no dead letters")


@dlq.command("show")
@click.argument("pipeline_or_state")
@click.argument("letter_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def dlq_show(pipeline_or_state: str, letter_id: int, as_json: bool) -> None:
    """Show one dead letter: what failed, why, what to do, and the record."""
    try:
        store = _open_store(pipeline_or_state)
        letter = store.dead_letters.get(letter_id)
        store.close()
    except LedgerlinkError as exc:
        _fail(exc)
        return
    if letter is None:
        click.echo(f"error: no dead letter {letter_id}", err=True)
        sys.exit(EXIT_USAGE)
    if as_json:
        click.echo(jsonutil.dumps(letter.to_dict(), indent=2))
        return
    console = _console()
    console.print(f"[bold]dead letter {letter.id}[/bold] ({letter.status}) — {letter.stage} stage, run {letter.run_id}")
    console.print(f"record: {letter.stream or '-'} / {letter.record_key or '-'}")
    console.print(f"error:  {letter.error_type} ({letter.error_kind}): {letter.message}")
    if letter.hint:
        console.print(f"[green]what to do:[/green] {letter.hint}")
    if letter.record is not None:
        console.print_json(jsonutil.dumps(letter.record))


@dlq.command("retry")
@click.argument("pipeline_or_state")
@click.argument("letter_ids", type=int, nargs=-1)
@click.option("--all", "retry_all", is_flag=True, help="Retry every open dead letter.")
def dlq_retry(pipeline_or_state: str, letter_ids: tuple[int, ...], retry_all: bool) -> None:
    """Queue dead letters to go through again on the next sync (after you fixed the cause)."""
    try:
        store = _open_store(pipeline_or_state)
        letters = store.dead_letters.list("open") if retry_all else [store.dead_letters.get(i) for i in letter_ids]
        for i, letter in zip(letter_ids or [d.id for d in letters], letters):
            if letter is None:
                click.echo(f"no dead letter {i}", err=True)
                continue
            what = store.requeue(letter)
            click.echo(f"{letter.id}: {what}")
        store.close()
    except LedgerlinkError as exc:
        _fail(exc)


@dlq.command("discard")
@click.argument("pipeline_or_state")
@click.argument("letter_ids", type=int, nargs=-1, required=True)
def dlq_discard(pipeline_or_state: str, letter_ids: tuple[int, ...]) -> None:
    """Give up on dead letters on purpose (they stay in the history as discarded)."""
    try:
        store = _open_store(pipeline_or_state)
        for i in letter_ids:
            if store.dead_letters.get(i) is None:
                click.echo(f"no dead letter {i}", err=True)
                continue
            store.dead_letters.set_status(i, "discarded")
            click.echo(f"{i}: discarded")
        store.close()
    except LedgerlinkError as exc:
        _fail(exc)


@cli.command()
@click.argument("pipeline_file", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="The findings as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="The findings as CSV (one row each).")
@click.option("--offline", is_flag=True, help="Check only the local state; do not read the ledger back.")
@click.option("--check", "only", multiple=True, help="Run only this check (repeatable).")
def reconcile(pipeline_file: str, as_json: bool, as_csv: bool, offline: bool, only: tuple[str, ...]) -> None:
    """Prove the books: what was not posted, what differs, what is on hold. Exit 5 when anything is off."""
    from ..pipeline import load_pipeline
    from ..reconcile import CHECKS, open_context
    from ..reconcile import reconcile as run_checks

    unknown = [c for c in only if c not in CHECKS]
    if unknown:
        _fail(ConfigError(f"no reconcile check named {', '.join(unknown)}", hint=f"checks: {', '.join(CHECKS)}"))
        return
    try:
        ctx = open_context(load_pipeline(pipeline_file), remote=not offline)
        try:
            report = run_checks(ctx, only or None)
        finally:
            ctx.store.close()
    except LedgerlinkError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps(report.to_dict(), indent=2))
    elif as_csv:
        click.echo(report.to_csv(), nl=False)
    else:
        from rich.table import Table

        if report.ok:
            _console().print(f"[green]{report.pipeline}: everything ties[/green] ({', '.join(report.checks)})")
        else:
            table = Table("check", "what", "finding", "expected", "actual", "what to do")
            for f in report.findings:
                table.add_row(f.check, f.subject, f.message, f.expected or "", f.actual or "", f.hint or "")
            _console().print(table)
        for name, why in report.skipped.items():
            _console().print(f"[dim]{name}: skipped ({why})[/dim]")
    sys.exit(0 if report.ok else 5)


@cli.group()
def revisions() -> None:
    """Posted documents whose source or mapping changed since: held until you apply or discard them."""


def _pipeline_destination(pipeline_file: str) -> Any:
    from ..pipeline import load_pipeline

    pipeline = load_pipeline(pipeline_file)
    return pipeline, host().connector(pipeline.destination.connector, "destination")()


@revisions.command("list")
@click.argument("pipeline_or_state")
@click.option("--json", "as_json", is_flag=True)
def revisions_list(pipeline_or_state: str, as_json: bool) -> None:
    """What is held: each posted document whose new plan differs, with when it was first held."""
    from ..revisions import held_revisions

    try:
        store = _open_store(pipeline_or_state)
        held = held_revisions(store)
        store.close()
    except LedgerlinkError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps([h.to_dict(with_payloads=True) for h in held], indent=2))
        return
    from rich.table import Table

    table = Table("key", "stream", "posted as", "held since")
    for h in held:
        table.add_row(h.key, h.stream, h.destination_id or "-", h.held_at[:19])
    _console().print(table if held else "nothing held: every posted document matches its current plan")


@revisions.command("apply")
@click.argument("pipeline_file", type=click.Path())
@click.argument("keys", nargs=-1, required=True)
def revisions_apply(pipeline_file: str, keys: tuple[str, ...]) -> None:
    """Revise posted documents: queue a reversal and the new version (linked to the old); the next sync posts them."""
    from ..revisions import apply_revision

    try:
        pipeline, destination = _pipeline_destination(pipeline_file)
        store = _open_store(pipeline_file)
        try:
            for key in keys:
                queued = apply_revision(store, destination, key)
                click.echo(f"{key}: queued {', '.join(queued)} (posted by the next `ledgerlink sync`)")
        finally:
            store.close()
    except LedgerlinkError as exc:
        _fail(exc)


@revisions.command("discard")
@click.argument("pipeline_or_state")
@click.argument("keys", nargs=-1, required=True)
def revisions_discard(pipeline_or_state: str, keys: tuple[str, ...]) -> None:
    """Keep what was posted and stop holding these new versions."""
    from ..revisions import discard_revision

    try:
        store = _open_store(pipeline_or_state)
        try:
            for key in keys:
                discard_revision(store, key)
                click.echo(f"{key}: kept as posted")
        finally:
            store.close()
    except LedgerlinkError as exc:
        _fail(exc)


@cli.command()
@click.argument("pipeline_or_state")
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def runs(pipeline_or_state: str, limit: int, as_json: bool) -> None:
    """Run history: when, how long, what was read and written, how it ended."""
    try:
        store = _open_store(pipeline_or_state)
        history = store.runs.list(limit)
        store.close()
    except LedgerlinkError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps(history, indent=2))
        return
    from rich.table import Table

    table = Table("run", "started", "status", "read", "planned", "created", "dead letters", "seconds")
    for r in history:
        c = r["counts"]
        secs = sum(v for v in r["timings"].values() if isinstance(v, (int, float)))
        table.add_row(str(r["id"]), r["started_at"][:19], r["status"] + (" (dry)" if r["dry_run"] else ""),
                      str(c.get("read_total", 0)), str(c.get("planned_new", 0)),
                      str(sum((c.get("created") or {}).values())), str(c.get("dead_letters_open", 0)), f"{secs:.1f}")
    _console().print(table)


@cli.command()
@click.argument("pipeline_or_state")
@click.argument("stream")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True)
def trace(pipeline_or_state: str, stream: str, key: str, as_json: bool) -> None:
    """Follow a staged source row to the documents (and lines) it was posted in."""
    try:
        store = _open_store(pipeline_or_state)
        found = store.trace(stream, key)
        store.close()
    except LedgerlinkError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps(found, indent=2))
        return
    from rich.table import Table

    table = Table("document key", "line", "type", "status", "destination id", "version")
    for t in found:
        table.add_row(t["key"], "-" if t["line"] is None else str(t["line"]), t["stream"], t["status"],
                      t["destination_id"] or "-", t["version"] or "-")
    _console().print(table if found else f"no posting traces back to {stream}/{key}")


# -------------------------------------------------------------------------------------------- sandboxes


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


@cli.command()
@click.argument("name")
@click.option("--port", type=int, help="Port (default: the sandbox's documented port).")
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
    except LedgerlinkError as exc:
        _fail(exc)
        return
    except Exception as exc:  # pydantic validation of options
        click.echo(f"error: sandbox {name} options: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"{name} sandbox on http://{bind}:{port or cls.default_port} (Ctrl-C to stop)", err=True)
    serve(instance, bind, port or cls.default_port)


@cli.command()
@click.option("--orders", default=300, show_default=True, help="Orders the Amazon sandbox is seeded with.")
@click.option("--dir", "workdir", default=".ledgerlink/demo", show_default=True, type=click.Path(),
              help="Where the demo's state file goes (emptied first).")
@click.option("--steps", default=None, help="Run only these steps, comma-separated (e.g. order_to_cash,returns); "
                                             "default: every flow, then reconcile.")
@click.option("--json", "as_json", is_flag=True)
def demo(orders: int, workdir: str, steps: str | None, as_json: bool) -> None:
    """Start the built-in sandboxes and run a step per flow (orders, order to cash, returns, inventory,
    settlements, fulfilment, stores), then reconcile the books; each step prints what it did."""
    from ..demo import print_demo, run_demo

    try:
        wanted = [n.strip() for n in steps.split(",") if n.strip()] if steps else None
        result = run_demo(orders=orders, workdir=Path(workdir), steps=wanted)
    except LedgerlinkError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps(result, indent=2))
    else:
        print_demo(result, _console())
    sys.exit(EXIT_FAILED if result["status"] != "succeeded" else 0)


@cli.command()
@click.argument("pipeline_file", type=click.Path())
@click.option("--host", "bind", default="127.0.0.1", show_default=True)
@click.option("--port", default=8700, show_default=True)
@click.option("--every", default="15m", show_default=True, help="Sync on this schedule (e.g. 30s, 15m, 1h; 0 = only when asked).")
def serve(pipeline_file: str, bind: str, port: int, every: str) -> None:
    """Run a pipeline as a service: scheduled syncs, webhook receivers, /health, /runs and POST /sync."""
    import uvicorn

    from ..pipeline import load_pipeline
    from ..serve import PipelineService, build_app

    try:
        seconds = _duration(every)
        service = PipelineService(load_pipeline(pipeline_file), host(), every=seconds or None)
    except LedgerlinkError as exc:
        _fail(exc)
        return
    service.start()
    try:
        uvicorn.run(build_app(service), host=bind, port=port, log_level="warning")
    finally:
        service.stop()


def _duration(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        return float(text[:-1]) * units[text[-1]] if text and text[-1] in units else float(text)
    except ValueError:
        raise ConfigError(f"--every {text!r}: use e.g. 30s, 15m or 1h") from None


@cli.command(hidden=True)
@click.option("--out", default="specs", show_default=True, type=click.Path())
def specs(out: str) -> None:
    """Regenerate the checked-in specs/ (protocol and connector schemas, default mappings, pipelines)."""
    from ..specgen import write_specs

    for path in write_specs(Path(out)):
        click.echo(path)


from .settlements import settlements as _settlements  # noqa: E402 (needs the helpers above)
cli.add_command(_settlements)


def main() -> None:
    host().add_commands(cli)
    cli(prog_name="ledgerlink")
