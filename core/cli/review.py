"""`ledgerlink review ...`: documents waiting for approval before they post (the pipeline option `review`)."""

from __future__ import annotations

import getpass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

import click

from .. import jsonutil
from ..errors import ConfigError, LedgerlinkError
from .common import fail, open_store, rich_console, served


class _Amount(click.ParamType):
    """An amount as Decimal (never float): 12, 12.50."""

    name = "amount"

    def convert(self, value: Any, param: Any, ctx: Any) -> Decimal:
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            self.fail(f"{value!r} is not an amount (e.g. 12.50)", param, ctx)
        if not amount.is_finite():
            self.fail(f"{value!r} is not an amount (e.g. 12.50)", param, ctx)
        return amount


_DAY = click.DateTime(formats=["%Y-%m-%d"])


def _filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The filters list, approve and reject share."""
    options = [
        click.option("--kind", help="Only this document type (SalesReceipt, Invoice, JournalEntry…)."),
        click.option("--from", "date_from", type=_DAY, help="Documents dated on or after this day (YYYY-MM-DD)."),
        click.option("--to", "date_to", type=_DAY, help="Documents dated on or before this day (YYYY-MM-DD)."),
        click.option("--customer", help="Customer name containing this text."),
        click.option("--min", "min_total", type=_Amount(), help="Total at least this amount."),
        click.option("--max", "max_total", type=_Amount(), help="Total at most this amount."),
        click.option("--text", help="Key, order id or anything in the document containing this text."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


_FILTER_NAMES = ("kind", "date_from", "date_to", "customer", "min_total", "max_total", "text")


def _filter(status: str = "awaiting", **given: Any) -> Any:
    from ..review import ReviewFilter

    values = {k: given.get(k) for k in _FILTER_NAMES}
    for k in ("date_from", "date_to"):
        if values[k] is not None:
            values[k] = values[k].date()
    return ReviewFilter(status=status, **values)  # type: ignore[arg-type]


def _default_by() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name (a container): still say it came from the CLI
        return "cli"


@click.group()
def review() -> None:
    """Documents awaiting approval before they post: list, show, approve, reject."""


@review.command("list")
@click.argument("pipeline_or_state")
@_filter_options
@click.option("--status", type=click.Choice(["awaiting", "approved", "rejected"]), default="awaiting",
              show_default=True, help="Which decisions to list.")
@click.option("--json", "as_json", is_flag=True)
def review_list(pipeline_or_state: str, status: str, as_json: bool, **filters: Any) -> None:
    """What awaits approval (or was approved or rejected), oldest first, with customer, date and total."""
    from ..review import review_items

    try:
        where = _filter(status, **filters)
        if (client := served(pipeline_or_state)) is not None:
            items = client.get("/review", params={**_query(filters), "status": status, "limit": 10000})["items"]
        else:
            store = open_store(pipeline_or_state)
            try:
                items = _plain([i.to_dict() for i in review_items(store, where)])
            finally:
                store.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps(items, indent=2))
        return
    from rich.table import Table

    table = Table("key", "type", "date", "customer", "total", "lines",
                  *(("decided by", "reason") if status != "awaiting" else ()))
    for i in items:
        s = i["summary"]
        total = "-" if s["total"] is None else f"{s['total']} {s['currency'] or ''}".strip()
        table.add_row(i["key"], i["kind"], s["date"] or "-", s["customer"] or "-", total, str(len(s["lines"])),
                      *((i["decided_by"] or "-", i["reason"] or "") if status != "awaiting" else ()))
    empty = "nothing awaits approval" if status == "awaiting" else f"nothing {status}"
    rich_console().print(table if items else empty)


@review.command("show")
@click.argument("pipeline_or_state")
@click.argument("document")
@click.option("--json", "as_json", is_flag=True)
def review_show(pipeline_or_state: str, document: str, as_json: bool) -> None:
    """One document as the ledger will receive it, beside the source rows it came from."""
    from ..review import review_document

    try:
        if (client := served(pipeline_or_state)) is not None:
            doc = client.get(f"/review/{document}")
        else:
            store = open_store(pipeline_or_state)
            try:
                doc = _plain(review_document(store, document).to_dict())
            finally:
                store.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    if as_json:
        click.echo(jsonutil.dumps(doc, indent=2))
        return
    from rich.table import Table

    console = rich_console()
    i, s = doc["item"], doc["item"]["summary"]
    decided = f" by {i['decided_by']} at {i['decided_at'][:19]}" if i["decided_by"] and i["decided_at"] else ""
    console.print(f"[bold]{i['kind']} {s['number'] or i['natural_key'] or i['key']}[/bold] — {i['status']}{decided}"
                  + (f" ({i['reason']})" if i["reason"] else ""))
    console.print(f"customer: {s['customer'] or '-'}   date: {s['date'] or '-'}   currency: {s['currency'] or '-'}")
    lines = Table("description", "item", "qty", "amount", "account", "tax")
    for ln in s["lines"]:
        lines.add_row(ln["description"] or "-", ln["item"] or "-", "" if ln["quantity"] is None else str(ln["quantity"]),
                      "" if ln["amount"] is None else str(ln["amount"]), ln["account"] or "-", ln["tax_code"] or "-")
    console.print(lines)
    console.print(f"tax: {'-' if s['tax'] is None else s['tax']}   total: {'-' if s['total'] is None else s['total']}   "
                  f"accounts: {', '.join(s['accounts']) or '-'}")
    for ref in doc["references"]:
        console.print(f"with {ref['kind']} {ref['key'].split(':', 1)[-1]} ({ref['status']})")
    console.print("[bold]payload[/bold] (as the ledger receives it):")
    console.print_json(jsonutil.dumps(doc["payload"]))
    console.print("[bold]source rows[/bold]:")
    for row in doc["source_rows"]:
        where = "document" if row["line"] is None else f"line {row['line']}"
        console.print(f"{row['stream']} {row['key']} → {where}")
        if row["record"] is not None:
            console.print_json(jsonutil.dumps(row["record"]))


def _plain(value: Any) -> Any:
    """As the API sends it (Decimals and dates as JSON), so both paths print the same."""
    return jsonutil.loads(jsonutil.dumps(value))


def _query(filters: dict[str, Any]) -> dict[str, str]:
    """The filter options as the API's names and text (days as YYYY-MM-DD, amounts exact)."""
    out = {}
    for name in _FILTER_NAMES:
        value = filters.get(name)
        if value is not None:
            out[name] = value.date().isoformat() if name in ("date_from", "date_to") else str(value)
    return out


def _decide_served(client: Any, action: str, ids: tuple[str, ...], all_: bool, filters: dict[str, Any],
                   by: str, **extra: Any) -> Any:
    """Approve or reject through `serve`'s API (serve queues the sync that posts approved documents)."""
    from ..console.client import RemoteRecord

    body: dict[str, Any] = {"keys": list(ids)} if ids else _query(filters) or {"all": True}
    body["by"] = by
    body.update({k: v for k, v in extra.items() if v is not None})
    return RemoteRecord(**client.post(f"/review/{action}", body))


def _decide(action: str, pipeline_or_state: str, ids: tuple[str, ...], all_: bool, filters: dict[str, Any],
            by: str, **extra: Any) -> Any:
    from ..review import approve, reject

    given = any(filters.get(k) is not None for k in _FILTER_NAMES)
    if ids and (all_ or given):
        raise ConfigError("give document ids, or --all / a filter, not both")
    if not ids and not all_ and not given:
        raise ConfigError(f"say what to {action}: document ids, a filter (--kind, --customer…) or --all",
                          hint="`ledgerlink review list` shows what awaits approval")
    selection: dict[str, Any] = {"keys": list(ids)} if ids else {"where": _filter(**filters)}
    if (client := served(pipeline_or_state)) is not None:
        return None, _decide_served(client, action, ids, all_, filters, by, **extra)
    store = open_store(pipeline_or_state)
    decide = approve if action == "approve" else reject
    return store, decide(store, by, **selection, **extra)


def _report(decision: Any, as_json: bool, posted: dict[str, Any] | None = None) -> None:
    if as_json:
        click.echo(jsonutil.dumps({**decision.to_dict(), **({"posted": posted} if posted is not None else {})},
                                  indent=2))
        return
    for key in decision.keys:
        click.echo(f"{key}: {decision.decision} by {decision.by}")
    for key, why in decision.skipped.items():
        click.echo(f"{key}: left as it is ({why})")
    if not decision.keys and not decision.skipped:
        click.echo(f"nothing matched: no document {decision.decision}")
    if posted is not None:
        created = sum((posted.get("created") or {}).values())
        click.echo(f"posted now: {created} created, {posted.get('awaiting_approval', 0)} still awaiting approval"
                   + (f"; error: {posted['write_error']}" if posted.get("write_error") else ""))
    elif decision.decision == "approved" and decision.keys and getattr(decision, "sync_queued", False):
        click.echo("`ledgerlink serve` holds this pipeline: it posts them with the sync it has queued now")
    elif decision.decision == "approved" and decision.keys:
        click.echo("they post with the next `ledgerlink sync` (or approve with --post to post them now)")


@review.command("approve")
@click.argument("pipeline_or_state")
@click.argument("ids", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every document awaiting approval (with filters: every match).")
@_filter_options
@click.option("--by", default=_default_by, show_default="cli:<your login>", help="Who approves (recorded).")
@click.option("--post", is_flag=True, help="Post the approved documents now (the write step alone).")
@click.option("--json", "as_json", is_flag=True)
def review_approve(pipeline_or_state: str, ids: tuple[str, ...], all_: bool, by: str, post: bool, as_json: bool,
                   **filters: Any) -> None:
    """Approve documents (ids, a filter, or --all): they post on the next sync, or now with --post."""
    posted = None
    try:
        if post and pipeline_or_state.endswith(".duckdb"):
            raise ConfigError("--post needs the pipeline file (it writes to the destination), not its state file")
        store, decision = _decide("approve", pipeline_or_state, ids, all_, filters, by)
        try:
            if post and store is not None:
                from ..pipeline import load_pipeline
                from ..review import post_approved

                posted = post_approved(load_pipeline(pipeline_or_state), store)
        finally:
            if store is not None:
                store.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    _report(decision, as_json, posted)


@review.command("reject")
@click.argument("pipeline_or_state")
@click.argument("ids", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every document awaiting approval (with filters: every match).")
@_filter_options
@click.option("--by", default=_default_by, show_default="cli:<your login>", help="Who rejects (recorded).")
@click.option("--reason", help="Why (recorded and shown by reconcile).")
@click.option("--json", "as_json", is_flag=True)
def review_reject(pipeline_or_state: str, ids: tuple[str, ...], all_: bool, by: str, reason: str | None,
                  as_json: bool, **filters: Any) -> None:
    """Reject documents (ids, a filter, or --all): they never post unless a change of their source re-plans them."""
    try:
        store, decision = _decide("reject", pipeline_or_state, ids, all_, filters, by, reason=reason)
        if store is not None:
            store.close()
    except LedgerlinkError as exc:
        fail(exc)
        return
    _report(decision, as_json)
