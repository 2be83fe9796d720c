"""`ledgerlink tokens ...`: API tokens for scripts (shown once, stored hashed), each with a role."""

from __future__ import annotations

import click

from ..errors import LedgerlinkError
from ..console.audit import cli_actor
from ..console.db import open_console_db
from .common import fail, rich_console

_ROLES = click.Choice(["viewer", "bookkeeper", "admin"])
_WORKSPACE = click.option("--workspace", default=".", show_default=True, type=click.Path(),
                          help="The workspace folder (its .ledgerlink/console.db holds the tokens).")


@click.group()
def tokens() -> None:
    """API tokens for scripts and other machines: create (shown once), list, revoke."""


@tokens.command("create")
@click.argument("name")
@click.option("--role", type=_ROLES, required=True)
@_WORKSPACE
def tokens_create(name: str, role: str, workspace: str) -> None:
    """Create a token; it is printed once, on stdout — store it now (send it as `Authorization: Bearer TOKEN`)."""
    from ..console import AuditLog, Tokens

    try:
        db = open_console_db(workspace)
        try:
            token, secret = Tokens(db).create(name, role)
            AuditLog(db).record(cli_actor(), "token created", target=f"{token.id} ({name})", detail={"role": role})
        finally:
            db.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    click.echo(f"token {token.id} ({name}, {role}) — shown once, store it now:", err=True)
    click.echo(secret)


@tokens.command("list")
@click.option("--json", "as_json", is_flag=True)
@_WORKSPACE
def tokens_list(as_json: bool, workspace: str) -> None:
    """List active tokens (never their secrets)."""
    from .. import jsonutil
    from ..console import Tokens

    try:
        db = open_console_db(workspace)
        found = Tokens(db).list()
        db.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps([t.to_dict() for t in found], indent=2))
        return
    from datetime import datetime, timezone

    from rich.table import Table

    def when(ts: float | None) -> str:
        return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M") if ts else "never"

    table = Table("id", "name", "role", "created", "last used")
    for t in found:
        table.add_row(t.id, t.name, t.role, when(t.created_at), when(t.last_used_at))
    rich_console().print(table if found else "no active tokens")


@tokens.command("revoke")
@click.argument("token_id")
@_WORKSPACE
def tokens_revoke(token_id: str, workspace: str) -> None:
    """Revoke a token by id (or name): it stops working at once."""
    from ..console import AuditLog, Tokens

    try:
        db = open_console_db(workspace)
        try:
            token = Tokens(db).revoke(token_id)
            AuditLog(db).record(cli_actor(), "token revoked", target=f"{token.id} ({token.name})")
        finally:
            db.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    click.echo(f"revoked {token.id} ({token.name})")
