"""`ledgerlink users ...`: who may sign in to a workspace's console, and with which role."""

from __future__ import annotations

import sys

import click

from ..errors import LedgerlinkError
from ..console.audit import cli_actor
from ..console.db import open_console_db
from .common import fail, rich_console

_ROLES = click.Choice(["viewer", "bookkeeper", "admin"])
_WORKSPACE = click.option("--workspace", default=".", show_default=True, type=click.Path(),
                          help="The workspace folder (its .ledgerlink/console.db holds the accounts).")


@click.group()
def users() -> None:
    """Console accounts: add, list and remove the people who may sign in (viewer, bookkeeper, admin)."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=_ROLES, required=True, help="viewer reads; bookkeeper also acts on the books; "
              "admin also manages users, tokens and pipelines.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@_WORKSPACE
def users_add(name: str, role: str, password_stdin: bool, workspace: str) -> None:
    """Add a user; the password is prompted for (or read from stdin) and stored only as a slow hash."""
    from ..console import Accounts, AuditLog

    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        db = open_console_db(workspace)
        try:
            Accounts(db).add(name, role, password)
            AuditLog(db).record(cli_actor(), "user added", target=name, detail={"role": role})
        finally:
            db.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    click.echo(f"added {name} ({role})")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@_WORKSPACE
def users_list(as_json: bool, workspace: str) -> None:
    """List users and their roles."""
    from .. import jsonutil
    from ..console import Accounts

    try:
        db = open_console_db(workspace)
        found = Accounts(db).list()
        db.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps([u.to_dict() for u in found], indent=2))
        return
    from rich.table import Table

    table = Table("user", "role")
    for u in found:
        table.add_row(u.name, u.role)
    rich_console().print(table if found else "no users yet: `ledgerlink users add NAME --role admin`")


@users.command("remove")
@click.argument("name")
@_WORKSPACE
def users_remove(name: str, workspace: str) -> None:
    """Remove a user (their sessions end at once)."""
    from ..console import Accounts, AuditLog

    try:
        db = open_console_db(workspace)
        try:
            Accounts(db).remove(name)
            AuditLog(db).record(cli_actor(), "user removed", target=name)
        finally:
            db.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    click.echo(f"removed {name}")
