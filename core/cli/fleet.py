"""`ledgerlink fleet`: many tenants on one Postgres, synced by any number of workers (DBOS).

    ledgerlink fleet init --database-url postgresql://…      the fleet's tables (and DBOS's, on first worker)
    ledgerlink fleet add-tenant acme --workspace /data/acme   register a tenant and its pipeline files
    ledgerlink fleet schedule [TENANT] [--every 5m]           a DBOS schedule per pipeline
    ledgerlink fleet worker                                   run syncs; start as many as you like, anywhere
    ledgerlink fleet trigger acme bigcommerce-to-qbo          queue one sync now (vendor webhooks: the console's
                                                              /fleet/webhooks/<receiver>, see docs/concepts/fleet.md)
    ledgerlink fleet status [--json]                          last run, next run, failures, dead letters
    ledgerlink fleet qwc acme bigcommerce-to-qbd --url https://books.example.com
                                                              the .qwc file for a QuickBooks Desktop pipeline,
                                                              pointing the Web Connector at the console's
                                                              /fleet/qbwc/<tenant>/<pipeline>/

Every command takes `--database-url` or LEDGERLINK_FLEET_DATABASE_URL.
"""

from __future__ import annotations

import signal
from pathlib import Path

import click

from .. import jsonutil
from ..errors import LedgerlinkError
from .common import EXIT_FAILED, fail, rich_console

_DB = click.option("--database-url", envvar="LEDGERLINK_FLEET_DATABASE_URL", metavar="URL",
                   help="The fleet's Postgres (or LEDGERLINK_FLEET_DATABASE_URL).")


def _db(url: str | None):  # type: ignore[no-untyped-def]
    from ..fleet import fleet_database

    return fleet_database(url)


def _every(value: str | None) -> float | None:
    from ..fleet import parse_every

    return parse_every(value, where="--every") if value is not None else None


@click.group()
def fleet() -> None:
    """Run many tenants' pipelines on workers that share one Postgres (DBOS)."""


@fleet.command()
@_DB
def init(database_url: str | None) -> None:
    """Create the fleet's tables and DBOS's in the Postgres database (safe to run again)."""
    from ..fleet.engine import init_fleet

    try:
        db = _db(database_url)
        init_fleet(db)
    except LedgerlinkError as exc:
        fail(exc)
        return
    click.echo(f"fleet database ready at {db.where}")


@fleet.command("add-tenant")
@click.argument("name")
@click.option("--workspace", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The tenant's folder: pipeline files, tenant.env (credentials), state.")
@click.option("--every", help="Sync interval for every pipeline (30s, 5m, 1h); default: fleet.yaml, else 15m.")
@click.option("--no-schedule", is_flag=True, help="Register only; schedule later with `fleet schedule`.")
@_DB
def add_tenant(name: str, workspace: Path, every: str | None, no_schedule: bool, database_url: str | None) -> None:
    """Register a tenant (or refresh it after its files changed) and schedule its pipelines."""
    from ..fleet import add_tenant as register
    from ..fleet.engine import apply_schedule

    try:
        db = _db(database_url)
        entries = register(db, name, workspace, _every(every))
        good = [(name, e.name, e.every_s) for e in entries if e.problem is None]
        if good and not no_schedule:
            apply_schedule(db, good)
    except LedgerlinkError as exc:
        fail(exc)
        return
    if not entries:
        click.echo(f"tenant {name}: no pipeline files (*.yaml) in {workspace}", err=True)
    for e in entries:
        if e.problem:
            click.echo(f"tenant {name}: {e.file.name} cannot run: {e.problem}", err=True)
        else:
            click.echo(f"tenant {name}: {e.name} every {e.every_s:g} s")


@fleet.command("remove-tenant")
@click.argument("name")
@_DB
def remove_tenant(name: str, database_url: str | None) -> None:
    """Forget a tenant and stop its schedules (its workspace and state stay on disk)."""
    from ..fleet import remove_tenant as forget
    from ..fleet.engine import drop_schedules

    try:
        db = _db(database_url)
        drop_schedules(db, name)
        gone = forget(db, name)
    except LedgerlinkError as exc:
        fail(exc)
        return
    if not gone:
        fail(LedgerlinkError(f"tenant {name!r} is not registered", hint="`ledgerlink fleet status` lists tenants"))
    click.echo(f"tenant {name} removed (its workspace is left as it was)")


@fleet.command()
@click.argument("tenant", required=False)
@click.option("--every", help="Override every pipeline's interval (30s, 5m, 1h).")
@_DB
def schedule(tenant: str | None, every: str | None, database_url: str | None) -> None:
    """(Re)create each pipeline's DBOS schedule from fleet.yaml, or from --every."""
    from ..fleet import tenant_pipelines
    from ..fleet.engine import apply_schedule

    try:
        db = _db(database_url)
        override = _every(every)
        rows = [(t, p, override or e) for t, p, _f, e, problem in tenant_pipelines(db, tenant) if problem is None]
        done = apply_schedule(db, rows)
    except LedgerlinkError as exc:
        fail(exc)
        return
    for t, p, cron, real in done:
        click.echo(f"{t}/{p}: every {real:g} s ({cron})")


@fleet.command()
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Syncs this worker runs at once (each tenant still runs one at a time fleet-wide).")
@click.option("--worker-id", help="A stable name (default host-pid); a restarted worker with the same name "
                                  "picks its unfinished syncs back up at once.")
@click.option("--lease-seconds", type=click.FloatRange(1, 3600), default=30.0, show_default=True,
              help="How long a pipeline stays locked to a worker that stopped answering.")
@click.option("--max-seconds", type=click.FloatRange(1), help="Stop after this long (for tests and batch jobs).")
@click.option("--drain-seconds", type=click.FloatRange(0, 3600), default=30.0, show_default=True,
              help="On SIGTERM/SIGINT, how long syncs under way may take to finish (one cut off resumes elsewhere).")
@click.option("--slice-seconds", type=click.FloatRange(60), default=900.0, show_default=True,
              help="A sync running this long (a big back-fill) stops after its batch and queues its rest behind "
                   "the other tenants' syncs.")
@click.option("--wait-in-run-seconds", "wait_in_run_s", type=click.FloatRange(0), default=10.0, show_default=True,
              help="How long a sync waits in process for a report Amazon prepares; then it saves the wait, frees "
                   "its slot and a sync is queued (DBOS delayed enqueue) for the time to look again.")
@_DB
def worker(concurrency: int, worker_id: str | None, lease_seconds: float, max_seconds: float | None,
           drain_seconds: float, slice_seconds: float, wait_in_run_s: float, database_url: str | None) -> None:
    """Run syncs from the fleet's queue until stopped (SIGTERM or SIGINT: each sync under way commits its
    batch and queues its rest for any worker)."""
    from ..fleet.engine import Worker

    try:
        w = Worker(_db(database_url), worker_id=worker_id, concurrency=concurrency, lease_ttl_s=lease_seconds,
                   drain_s=drain_seconds, slice_s=slice_seconds, wait_in_run_s=wait_in_run_s)
    except LedgerlinkError as exc:
        fail(exc)
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: w.stop.set())
    click.echo(f"fleet worker {w.id} on {w.db.where}", err=True)
    try:
        w.run(max_seconds=max_seconds)
    except LedgerlinkError as exc:
        fail(exc)
    click.echo(f"fleet worker {w.id} stopped after {w.synced} sync(s)", err=True)


@fleet.command()
@click.argument("tenant")
@click.argument("pipeline")
@_DB
def trigger(tenant: str, pipeline: str, database_url: str | None) -> None:
    """Queue one sync of a tenant's pipeline now (by hand or from a script; vendor webhooks go to the console's
    /fleet/webhooks/…); prints its workflow id."""
    from ..fleet.engine import enqueue_sync

    try:
        click.echo(enqueue_sync(_db(database_url), tenant, pipeline))
    except LedgerlinkError as exc:
        fail(exc)


@fleet.command()
@click.argument("tenant", required=False)
@click.option("--json", "as_json", is_flag=True)
@_DB
def status(tenant: str | None, as_json: bool, database_url: str | None) -> None:
    """Per tenant: each pipeline's last run, next run, failures in a row, dead letters, and what is wrong.
    Exits 1 when a tenant has a problem."""
    from ..fleet import fleet_status, workers_status

    try:
        db = _db(database_url)
        tenants = fleet_status(db, tenant)
        workers = workers_status(db)
    except LedgerlinkError as exc:
        fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps({"tenants": [t.to_dict() for t in tenants], "workers": workers}, indent=2))
    else:
        from rich.table import Table

        table = Table("tenant", "pipeline", "last run", "status", "next run", "failures", "dead letters",
                      "web connector", "problem")
        for t in tenants:
            for p in t.pipelines or []:
                table.add_row(t.tenant, p.pipeline, (p.last_run_at or "never")[:19], p.waiting or p.last_status or "",
                              (p.next_run_at or "")[:19], str(p.failures), str(p.dead_letters), _vendor(p),
                              (p.problem or "")[:120])
            if not t.pipelines:
                table.add_row(t.tenant, "", "", "", "", "", "", "", "no pipeline files")
        rich_console().print(table)
        click.echo(f"{len(workers)} worker(s) seen: " + ", ".join(w["worker"] for w in workers))
    if any(not t.ok for t in tenants):
        raise SystemExit(EXIT_FAILED)


def _vendor(p) -> str:  # type: ignore[no-untyped-def]
    """Writes waiting for the Web Connector and its last contact ("" for a pipeline without such a session)."""
    if p.waiting_writes is None and p.last_contact_at is None:
        return ""
    waiting = f"{p.waiting_writes} waiting" if p.waiting_writes is not None else "waiting: not counted yet"
    seen = f"last contact {p.last_contact_at[:19]} ({p.last_contact})" if p.last_contact_at else "never called"
    return f"{waiting}; {seen}"


@fleet.command()
@click.argument("tenant")
@click.argument("pipeline")
@click.option("--url", required=True, metavar="URL",
              help="The console serving the fleet, as the Web Connector reaches it (https; http only for localhost).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file (default: stdout).")
@_DB
def qwc(tenant: str, pipeline: str, url: str, out: Path | None, database_url: str | None) -> None:
    """The .qwc file to open in the QuickBooks Web Connector for a tenant's QuickBooks Desktop pipeline: its
    AppURL is the console's /fleet/qbwc/TENANT/PIPELINE/ endpoint."""
    from ..fleet.sessions import endpoint_file

    try:
        file = endpoint_file(_db(database_url), tenant, pipeline, "qwc", url)
    except LedgerlinkError as exc:
        fail(exc)
        return
    if out is None:
        click.echo(file.content, nl=False)
        return
    out.write_text(file.content, encoding="utf-8")
    click.echo(f"wrote {out}: open it in the QuickBooks Web Connector (Add an application) and type the "
               "pipeline's Web Connector password", err=True)
