"""`ledgerlink settlements ...`: the audit trail of a payout, from the report's rows to the ledger's document
lines and back (`show`), and the shipped account map to start a company's own from (`accounts`)."""

from __future__ import annotations

import sys
from importlib import resources
from typing import Any

import click

from .. import jsonutil
from ..errors import LedgerlinkError
from ..settlements.trail import document_lines, settlement_trail
from .common import EXIT_DEAD_LETTERS, EXIT_USAGE, fail, open_store, rich_console, served

__all__ = ["settlements", "settlement_trail", "document_lines"]


@click.group()
def settlements() -> None:
    """Settlements (payouts): the trail from report rows to ledger documents, and the account map."""


@settlements.command("show")
@click.argument("pipeline_or_state")
@click.argument("settlement_id")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
def show(pipeline_or_state: str, settlement_id: str, as_json: bool) -> None:
    """Show how settlement SETTLEMENT_ID was posted: documents, their lines with the report rows each sums,
    and each row with the document line it went to (or why the settlement is on hold)."""
    try:
        if (client := served(pipeline_or_state)) is not None:
            trail = client.settlement(settlement_id) or {"settlement_id": settlement_id, "documents": [], "rows": {},
                                                         "on_hold": [], "report_rows": {}}
        else:
            store = open_store(pipeline_or_state)
            trail = settlement_trail(store, settlement_id)
            store.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps(trail, indent=2))
    else:
        _print(trail, rich_console())
    if not trail["documents"] and not trail["on_hold"]:
        click.echo(f"error: settlement {settlement_id} has not been planned by this pipeline", err=True)
        sys.exit(EXIT_USAGE)
    if trail["on_hold"]:
        sys.exit(EXIT_DEAD_LETTERS)


def _print(trail: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    console.print(f"[bold]settlement {trail['settlement_id']}[/bold]: {len(trail['documents'])} document(s)")
    for letter in trail["on_hold"]:
        console.print(f"[red]on hold[/red] (dead letter {letter.get('id')}): {letter.get('message')}")
        if letter.get("hint"):
            console.print(f"[green]what to do:[/green] {letter['hint']}")
    for doc in trail["documents"]:
        console.print(f"\n{doc['stream']} [bold]{doc['number'] or '-'}[/bold] {doc['date'] or ''} → "
                      f"{doc['destination']} id {doc['destination_id'] or '(not yet written)'} ({doc['status']})")
        console.print(f"key {doc['key']}")
        table = Table("line", "debit", "credit", "account", "rows")
        for n, line in enumerate(doc["lines"]):
            amount = str(line["amount"])
            debit, credit = (amount, "") if line["posting"] == "Debit" else ("", amount)
            rows = line.get("rows") or []
            table.add_row(str(n), debit, credit, str(line["account"]), _ranges(rows))
        console.print(table)
    if trail["rows"]:
        back = Table("report row", "what the report says", "document", "line")
        report = trail.get("report_rows") or {}
        for row, targets in sorted(trail["rows"].items(), key=lambda kv: (len(kv[0]), kv[0])):
            said = " | ".join(report.get(row, {}).values())
            for t in targets:
                back.add_row(row, said, t["document"], str(t["line"]))
        console.print("\nrows → documents")
        console.print(back)


def _ranges(rows: list[Any]) -> str:
    numbers = sorted({r for r in rows if isinstance(r, int)})
    from ..settlements import row_ranges

    return row_ranges(numbers) if numbers else ""


@settlements.command("accounts")
def accounts() -> None:
    """Print the shipped role → account map: save it, rename the accounts to your chart of accounts, and name
    the file in the pipeline (destination.options.settlements.accounts)."""
    click.echo(resources.files("ledgerlink.settlements").joinpath("default_accounts.yaml").read_text(), nl=False)
