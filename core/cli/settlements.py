"""`ledgerlink settlements ...`: the audit trail of a payout, from the report's rows to the ledger's document
lines and back (`show`), and the shipped account map to start a company's own from (`accounts`)."""

from __future__ import annotations

import sys
from importlib import resources
from typing import Any

import click

from .. import jsonutil
from ..errors import LedgerlinkError
from ..settlements.trail import SETTLEMENT_KEY_MARK, document_lines, held_settlement_id, settlement_trail
from .common import EXIT_DEAD_LETTERS, EXIT_USAGE, fail, open_store, rich_console, served

__all__ = ["settlements", "settlement_trail", "document_lines", "settlement_list", "held_settlement_id"]



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


def settlement_list(store: Any) -> list[dict[str, Any]]:
    """Every settlement the state file knows, newest period first: its id, period, total and where it stands —
    `posted` (every document written), `planned` (documents waiting for the next sync) or `held` (an open dead
    letter says why; `ledgerlink settlements show` prints it)."""
    found: dict[str, dict[str, Any]] = {}

    def entry(sid: str) -> dict[str, Any]:
        return found.setdefault(sid, {"settlement_id": sid, "start": None, "end": None, "total": None,
                                      "currency": None, "status": None, "documents": 0, "dead_letter": None})

    for natural_key, status, sources in store.db.fetchall(
            "SELECT o.natural_key, o.status, list(DISTINCT a.source_stream || chr(0) || a.source_key) "
            "FROM outbox o LEFT JOIN audit a ON a.outbox_key = o.key AND a.line IS NULL "
            "WHERE o.natural_key LIKE ? GROUP BY o.key, o.natural_key, o.status", [f"%{SETTLEMENT_KEY_MARK}%"]):
        item = entry(natural_key.rsplit(SETTLEMENT_KEY_MARK, 1)[1].split("/", 1)[0])
        item["documents"] += 1
        done = status == "done"
        item["status"] = "posted" if done and item["status"] in (None, "posted") else "planned"
        for source in sources or []:
            if source:
                stream, _, key = source.partition(chr(0))
                _fill_from_report(store, item, stream, key)
    for letter in store.dead_letters.list(status="open"):
        sid = held_settlement_id(letter)
        if sid is None:
            continue
        item = entry(sid)
        item["status"], item["dead_letter"] = "held", letter.id
        _fill_from_canonical(item, letter.record)
        if item["total"] is None and letter.stream:
            _fill_from_report(store, item, letter.stream, sid)
    return sorted(found.values(), key=lambda i: (str(i["end"] or ""), i["settlement_id"]), reverse=True)


def _fill_from_report(store: Any, item: dict[str, Any], stream: str, key: str) -> None:
    """Period and total from a staged settlement report's summary row (read alone: the rows may be 100,000)."""
    if item["total"] is not None or not store.raw.exists(stream):
        return
    from ..store.raw import table_name

    row = store.db.fetchone(f"SELECT json_extract_string(data, '$.summary') FROM {table_name(stream)} WHERE pk = ?",
                            [key])
    summary = jsonutil.loads(row[0]) if row and row[0] else None
    if isinstance(summary, dict):
        item.update(start=_day(summary.get("settlement-start-date")), end=_day(summary.get("settlement-end-date")),
                    total=summary.get("total-amount"), currency=summary.get("currency"))


def _fill_from_canonical(item: dict[str, Any], record: Any) -> None:
    """Period and total from a held settlement's canonical object (what planning was given)."""
    if not isinstance(record, dict):
        return
    total = record.get("total")
    item.update(start=_day(record.get("starts_at")) or item["start"], end=_day(record.get("ends_at")) or item["end"])
    if isinstance(total, dict) and total.get("amount") is not None:
        item.update(total=str(total["amount"]), currency=total.get("currency") or record.get("currency"))


def _day(value: Any) -> str | None:
    return str(value)[:10] if value else None


@settlements.command("list")
@click.argument("pipeline_or_state")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
def list_settlements(pipeline_or_state: str, as_json: bool) -> None:
    """List the settlements this pipeline knows: id, period, total and status (posted, planned or held)."""
    try:
        store = open_store(pipeline_or_state)
        try:
            items = settlement_list(store)
        finally:
            store.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps(items, indent=2))
        return
    if not items:
        click.echo(f"no settlements in {pipeline_or_state} yet")
        return
    from rich.table import Table

    table = Table("settlement", "period", "total", "status", "documents")
    for i in items:
        period = f"{i['start'] or '?'} – {i['end'] or '?'}" if i["start"] or i["end"] else "-"
        total = f"{i['total']} {i['currency'] or ''}".strip() if i["total"] is not None else "-"
        status = i["status"] + (f" (dead letter {i['dead_letter']})" if i["dead_letter"] else "")
        table.add_row(i["settlement_id"], period, total, status, str(i["documents"]))
    rich_console().print(table)
    if any(i["status"] == "held" for i in items):
        click.echo(f"why a settlement is held: ledgerlink settlements show {pipeline_or_state} ID")


@settlements.command("accounts")
def accounts() -> None:
    """Print the shipped role → account map: save it, rename the accounts to your chart of accounts, and name
    the file in the pipeline (destination.options.settlements.accounts)."""
    click.echo(resources.files("ledgerlink.settlements").joinpath("default_accounts.yaml").read_text(), nl=False)
