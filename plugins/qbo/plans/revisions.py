"""Revising a posted QuickBooks Online document: it is voided or reversed, and the new version posted; never an edit.

A journal entry's reversal swaps every line's PostingType and keeps the original's date, so the period it was
posted in is corrected. A sales receipt or an invoice is voided (QuickBooks keeps it, at zero, with its number);
a credit memo or a refund receipt, which QuickBooks does not void, is reversed by its mirror image (an invoice, a
sales receipt) with the same lines. The new version carries the new plan. Every new document has a key of its
own, and the first lines of its PrivateNote say which posted document (by QuickBooks Id and ledgerlink key) it
voids, reverses or replaces; the void names the version that replaces what it voids.
"""

from __future__ import annotations

import copy
from typing import Any

from ledgerlink import PlannedWrite, PostedDocument

from .orders import DOC_NUMBER_MAX, NOTE_PREFIX

__all__ = ["revise", "suffixed", "REVISABLE"]

_NOTE_MAX = 4000
#: what revises a posted document of each type: void it, or reverse it with its mirror image
_VOIDED = ("SalesReceipt", "Invoice")
_MIRROR = {"CreditMemo": "Invoice", "RefundReceipt": "SalesReceipt"}
REVISABLE = ("JournalEntry", *_VOIDED, *_MIRROR)
#: a mirror copies what the two documents share (not the refund's own fields, e.g. PaymentRefNum)
_MIRRORED = ("CustomerRef", "CurrencyRef", "ExchangeRate", "ClassRef", "DepartmentRef", "ApplyTaxAfterDiscount",
             "TxnDate", "Line", "TxnTaxDetail", "GlobalTaxCalculation", "BillEmail")


def suffixed(number: str, suffix: str, limit: int = DOC_NUMBER_MAX) -> str:
    """`number-suffix` within `limit` characters (the end of a long number gives way)."""
    tail = f"-{suffix}"
    return number[:limit - len(tail)] + tail


def _note(key: str, link: str, old_note: str) -> str:
    rest = "\n".join(old_note.splitlines()[1:])
    return f"{NOTE_PREFIX}{key}\n{link}" + (f"\n{rest}" if rest else "")


def revise(posted: PostedDocument, new_data: dict[str, Any], number: int) -> list[PlannedWrite]:
    """The void or reversal of `posted` and its new version (revision `number`), the latter after the former."""
    if posted.stream in _VOIDED or posted.stream in _MIRROR:
        return _revise_document(posted, new_data, number)
    if posted.stream != "JournalEntry":
        raise NotImplementedError
    old_id = posted.destination_id or "unknown"
    reversal_key, version_key = f"{posted.key}~reversal-{number}", f"{posted.key}~v{number + 1}"
    reversal = copy.deepcopy(posted.data)
    for line in reversal.get("Line") or []:
        detail = line.get("JournalEntryLineDetail") or {}
        detail["PostingType"] = "Credit" if detail.get("PostingType") == "Debit" else "Debit"
    reversal["DocNumber"] = suffixed(str(posted.data.get("DocNumber") or old_id), f"R{number}")
    reversal["PrivateNote"] = _note(reversal_key, f"reverses JournalEntry {old_id} ({posted.key})",
                                    str(posted.data.get("PrivateNote") or ""))[:_NOTE_MAX]
    version = copy.deepcopy(new_data)
    version["DocNumber"] = suffixed(str(new_data.get("DocNumber") or old_id), f"V{number + 1}")
    version["PrivateNote"] = _note(version_key, f"replaces JournalEntry {old_id} ({posted.key}), reversed by "
                                                f"{reversal_key}", str(new_data.get("PrivateNote") or ""))[:_NOTE_MAX]
    return [PlannedWrite("JournalEntry", reversal_key, reversal, natural_key=posted.natural_key),
            PlannedWrite("JournalEntry", version_key, version, depends_on=[reversal_key],
                         natural_key=posted.natural_key)]


def _revise_document(posted: PostedDocument, new_data: dict[str, Any], number: int) -> list[PlannedWrite]:
    """A receipt, invoice, credit memo or refund receipt: voided (or reversed by its mirror), then the new
    version, a document of the same type with its own key and a number ending in -V<n>."""
    from .links import VOID_STREAM

    old_id = posted.destination_id or "unknown"
    version_key = f"{posted.key}~v{number + 1}"
    old_number = str(posted.data.get("DocNumber") or old_id)
    if posted.stream in _VOIDED:
        undo_key = f"{posted.key}~void-{number}"
        undo = PlannedWrite(VOID_STREAM, undo_key, {
            "targets": [{"TxnType": posted.stream, "key": posted.key, "DocNumber": posted.data.get("DocNumber"),
                         "TxnDate": posted.data.get("TxnDate")}],
            "mode": "void", "date": posted.data.get("TxnDate"),
            "reason": f"revised: replaced by {version_key}"}, natural_key=posted.natural_key)
        how = f"voided by {undo_key}"
    else:
        undo_key = f"{posted.key}~reversal-{number}"
        mirror = {k: copy.deepcopy(v) for k, v in posted.data.items() if k in _MIRRORED}
        mirror["DocNumber"] = suffixed(old_number, f"R{number}")
        mirror["PrivateNote"] = _note(undo_key, f"reverses {posted.stream} {old_id} ({posted.key}), replaced by "
                                                f"{version_key}", str(posted.data.get("PrivateNote") or ""))[:_NOTE_MAX]
        if _MIRROR[posted.stream] == "SalesReceipt":
            for field in ("DepositToAccountRef", "PaymentMethodRef"):
                if posted.data.get(field) is not None:
                    mirror[field] = copy.deepcopy(posted.data[field])
        undo = PlannedWrite(_MIRROR[posted.stream], undo_key, mirror, natural_key=posted.natural_key)
        how = f"reversed by {undo_key}"
    version = copy.deepcopy(new_data)
    version["DocNumber"] = suffixed(str(new_data.get("DocNumber") or old_number), f"V{number + 1}")
    version["PrivateNote"] = _note(version_key, f"replaces {posted.stream} {old_id} ({posted.key}), {how}",
                                   str(new_data.get("PrivateNote") or ""))[:_NOTE_MAX]
    return [undo, PlannedWrite(posted.stream, version_key, version, depends_on=[undo_key],
                               natural_key=posted.natural_key)]
