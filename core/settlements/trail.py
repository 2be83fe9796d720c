"""The audit trail of one settlement (payout) in a pipeline's state file: its documents, each document line with
the report rows it sums, each row with the line it went to, and the dead letter holding it if it is on hold.
`ledgerlink settlements show` prints it; the console API serves it."""

from __future__ import annotations

from typing import Any

from .. import jsonutil

__all__ = ["settlement_trail", "document_lines"]


def document_lines(stream: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    """A planned journal's lines in document order, whichever ledger's shape: QBO `Line[]` or qbXML
    `JournalDebitLine`/`JournalCreditLine` (debits first, as the planner numbers them)."""
    out = []
    if "JournalEntryAdd" in data:
        body = data["JournalEntryAdd"]
        for side, posting in (("JournalDebitLine", "Debit"), ("JournalCreditLine", "Credit")):
            for line in body.get(side) or []:
                out.append({"posting": posting, "amount": line.get("Amount"),
                            "account": (line.get("AccountRef") or {}).get("FullName"), "description": line.get("Memo")})
        return out
    for line in data.get("Line") or []:
        detail = line.get("JournalEntryLineDetail") or {}
        ref = detail.get("AccountRef") or {}
        out.append({"posting": detail.get("PostingType"), "amount": line.get("Amount"),
                    "account": ref.get("name") or ref.get("value"), "description": line.get("Description")})
    return out


def _header(data: dict[str, Any]) -> dict[str, Any]:
    body = data.get("JournalEntryAdd") or data
    return {"number": body.get("DocNumber") or body.get("RefNumber"), "date": body.get("TxnDate")}


def settlement_trail(store: Any, settlement_id: str) -> dict[str, Any]:
    """Everything the state file knows about one settlement: its documents (planned payload, status, the id the
    ledger gave it), each document line with the report rows it sums, each row with the line it went to, and the
    dead letter holding it if it is on hold."""
    suffix = f"/settlement/{settlement_id}"
    docs = store.db.fetchall(
        "SELECT key, destination, stream, data, status FROM outbox WHERE natural_key LIKE ? ORDER BY key",
        [f"%{suffix}"])
    documents, rows = [], {}
    for key, destination, stream, data, status in docs:
        payload = jsonutil.loads(data) if isinstance(data, (str, bytes)) else data
        result = store.db.fetchone("SELECT destination_id, version FROM results WHERE key = ?", [key])
        audit = store.db.fetchall("SELECT line, source_stream, source_key FROM audit WHERE outbox_key = ? "
                                  "ORDER BY line", [key])
        lines = document_lines(stream, payload)
        sources = []
        for line, source_stream, source_key in audit:
            if line is None:  # the document's own source (the staged report)
                sources.append(f"{source_stream}/{source_key}")
                continue
            row = str(source_key).rsplit("/", 1)[-1]
            if 0 <= line < len(lines):
                lines[line].setdefault("rows", []).append(int(row) if row.isdigit() else row)
            rows.setdefault(row, []).append({"document": key, "line": line})
        documents.append({"key": key, "destination": destination, "stream": stream, "status": status,
                          "destination_id": result[0] if result else None, **_header(payload), "sources": sources,
                          "lines": lines})
    letters = [d.to_dict() for d in store.dead_letters.list(status="open")
               if (d.record_key or "").endswith(suffix)]
    sources = {src for doc in documents for src in doc["sources"]}
    if not sources:
        sources = {f"{d.get('stream') or 'settlements'}/{settlement_id}" for d in letters}
    return {"settlement_id": settlement_id, "documents": documents, "rows": rows, "on_hold": letters,
            "report_rows": _report_rows(store, sources)}


#: the report columns that say what a row is (Flat File V2, then V1's amount columns)
_ROW_WORDS = ("transaction-type", "order-id", "amount-type", "amount-description", "amount")
_V1_AMOUNTS = ("price-type", "price-amount", "item-related-fee-type", "item-related-fee-amount", "promotion-type",
               "promotion-amount", "shipment-fee-type", "shipment-fee-amount", "order-fee-amount", "misc-fee-amount",
               "other-fee-reason-description", "other-fee-amount", "direct-payment-amount", "other-amount")


def _report_rows(store: Any, sources: set[str]) -> dict[str, dict[str, str]]:
    """The staged report's own rows (when the source staged them as `rows: [{line, values}]`), by row number:
    what each row said, so the trail starts where the bookkeeper's file does."""
    out: dict[str, dict[str, str]] = {}
    for source in sorted(sources):
        stream, _, key = source.partition("/")
        try:
            record = store.raw.get(stream, key)
        except Exception:  # a stream name the state file does not know: nothing staged to show
            record = None
        for row in (record or {}).get("rows") or []:
            if isinstance(row, dict) and isinstance(row.get("values"), dict):
                values = row["values"]
                out[str(row.get("line"))] = {k: str(values[k]) for k in (*_ROW_WORDS, *_V1_AMOUNTS) if values.get(k)}
    return out
