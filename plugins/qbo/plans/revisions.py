"""Revising a posted QuickBooks Online journal entry: a reversal and the new version, never an edit.

The reversal swaps every line's PostingType and keeps the original's date, so the period it was posted in is
corrected; the new version carries the new plan. Both are new documents with keys of their own, and the first
lines of their PrivateNotes say which posted document (by QuickBooks Id and ledgerlink key) they reverse or
replace. Other document types are not revised here (a receipt is voided by hand in QuickBooks).
"""

from __future__ import annotations

import copy
from typing import Any

from ledgerlink import PlannedWrite, PostedDocument

from .orders import DOC_NUMBER_MAX, NOTE_PREFIX

__all__ = ["revise", "suffixed"]

_NOTE_MAX = 4000


def suffixed(number: str, suffix: str, limit: int = DOC_NUMBER_MAX) -> str:
    """`number-suffix` within `limit` characters (the end of a long number gives way)."""
    tail = f"-{suffix}"
    return number[:limit - len(tail)] + tail


def _note(key: str, link: str, old_note: str) -> str:
    rest = "\n".join(old_note.splitlines()[1:])
    return f"{NOTE_PREFIX}{key}\n{link}" + (f"\n{rest}" if rest else "")


def revise(posted: PostedDocument, new_data: dict[str, Any], number: int) -> list[PlannedWrite]:
    """The reversal of `posted` and its new version (revision `number`), the latter after the former."""
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
