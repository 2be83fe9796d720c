"""Reading posted documents back from QuickBooks Online, for `ledgerlink reconcile`.

A document is recognised as ledgerlink's by the first line of its PrivateNote (`NOTE_PREFIX` + key), the same
mark the pre-post look-up searches. The total a payload implies is worked out as QuickBooks does (item lines,
less discounts, plus the tax given), so an edit made in QuickBooks after posting shows up as a difference.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable, Iterator

from ledgerlink import LedgerDocument, LedgerlinkError, PostedDocument

from .client import QboApi
from .plans.orders import NOTE_PREFIX

__all__ = ["READ_BACK_STREAMS", "expected_total", "key_of", "read_back"]

#: documents whose totals QuickBooks reports as TotalAmt (inventory adjustments have none)
READ_BACK_STREAMS = frozenset({"SalesReceipt", "Invoice", "CreditMemo", "RefundReceipt", "Payment", "Deposit",
                               "JournalEntry"})
_SALES_FORMS = ("SalesReceipt", "Invoice", "CreditMemo", "RefundReceipt")
_PAGE = 1000


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def expected_total(stream: str, payload: dict[str, Any]) -> Decimal | None:
    """The TotalAmt QuickBooks gives a document created from `payload` (None where it cannot be told)."""
    if payload.get("TotalAmt") is not None and stream in ("Payment",):
        return _dec(payload["TotalAmt"])
    lines = [ln for ln in payload.get("Line") or [] if isinstance(ln, dict)]
    if stream in _SALES_FORMS:
        subtotal = sum((_dec(ln.get("Amount")) for ln in lines if ln.get("DetailType") == "SalesItemLineDetail"),
                       Decimal(0))
        discount = Decimal(0)
        for ln in lines:
            if ln.get("DetailType") != "DiscountLineDetail":
                continue
            detail = ln.get("DiscountLineDetail") or {}
            if detail.get("PercentBased") and detail.get("DiscountPercent") is not None:
                discount += (subtotal * _dec(detail["DiscountPercent"]) / 100).quantize(Decimal("0.01"))
            else:
                discount += _dec(ln.get("Amount"))
        tax = _dec((payload.get("TxnTaxDetail") or {}).get("TotalTax"))
        return subtotal - discount + tax
    if stream == "JournalEntry":
        return sum((_dec(ln.get("Amount")) for ln in lines
                    if (ln.get("JournalEntryLineDetail") or {}).get("PostingType") == "Debit"), Decimal(0))
    if stream == "Deposit":
        return sum((_dec(ln.get("Amount")) for ln in lines), Decimal(0))
    return None


def key_of(document: dict[str, Any]) -> str | None:
    """The ledgerlink key on a document's PrivateNote, if it has one."""
    note = str(document.get("PrivateNote") or "")
    first = note.splitlines()[0] if note else ""
    if not first.startswith(NOTE_PREFIX):
        return None
    return first[len(NOTE_PREFIX):].strip() or None


def read_back(api: QboApi, posted: Iterable[PostedDocument]) -> Iterator[LedgerDocument]:
    """Every document of the posted streams dated on or after the earliest posted one: those ledgerlink posted
    (found by Id, so a changed note does not hide them) and any other carrying a ledgerlink key."""
    by_stream: dict[str, list[PostedDocument]] = {}
    for doc in posted:
        if doc.stream in READ_BACK_STREAMS:
            by_stream.setdefault(doc.stream, []).append(doc)
    for stream, docs in sorted(by_stream.items()):
        planned = {d.destination_id: d for d in docs if d.destination_id}
        dates = sorted(str(d.data.get("TxnDate")) for d in docs if d.data.get("TxnDate"))
        where = f" WHERE TxnDate >= '{dates[0]}'" if dates else ""
        seen: set[str] = set()
        start = 1
        while True:
            rows = api.query(f"SELECT * FROM {stream}{where} ORDERBY Id STARTPOSITION {start} MAXRESULTS {_PAGE}")
            for row in rows:
                seen.add(str(row.get("Id")))
                yield _ledger_document(stream, row, planned.get(str(row.get("Id"))))
            if len(rows) < _PAGE:
                break
            start += _PAGE
        for missing_id in sorted(set(planned) - seen):  # dated before the window (a TxnDate edited): by Id
            try:
                row = api.read(stream, missing_id)
            except LedgerlinkError:  # deleted there (610 Object Not Found): reconcile reports it missing
                continue
            if row.get("status") != "Deleted":
                yield _ledger_document(stream, row, planned[missing_id])


def _ledger_document(stream: str, row: dict[str, Any], posted: PostedDocument | None) -> LedgerDocument:
    key = posted.key if posted is not None else key_of(row)
    expected = expected_total(stream, posted.data) if posted is not None else None
    total = row.get("TotalAmt")
    return LedgerDocument(stream=stream, destination_id=str(row.get("Id")), key=key,
                          total=None if total is None else _dec(total), expected_total=expected)
