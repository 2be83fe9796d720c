"""Revising a posted QuickBooks Desktop document: a reversal or a void, and the new version, never an edit.

As for QuickBooks Online (see `ledgerlink_qbo.plans.revisions`): a journal entry's reversal swaps
JournalDebitLine and JournalCreditLine and keeps the original's date; a sales receipt, invoice or credit memo is
voided (`TxnVoid`: QuickBooks keeps it, at zero, with its RefNumber, and marks its Memo "VOID:"). Every new
document gets a key of its own, a RefNumber within 11 characters, and a Memo whose first lines name the posted
document it reverses, voids or replaces; the void's key names the version that replaces what it voids.
"""

from __future__ import annotations

import copy
from typing import Any

from ledgerlink import PlannedWrite, PostedDocument

from .orders import MEMO_PREFIX, REF_NUMBER_MAX

__all__ = ["revise", "REVISABLE"]

_MEMO_MAX = 4095
#: documents QuickBooks Desktop voids (a refund cheque, item 5's option, is a Check: voided the same way)
_VOIDED = ("SalesReceipt", "Invoice", "CreditMemo", "Check")
REVISABLE = ("JournalEntry", *_VOIDED)


def _ref(number: str, suffix: str) -> str:
    tail = f"-{suffix}"
    return number[:REF_NUMBER_MAX - len(tail)] + tail


def _memo(key: str, link: str, old_memo: str) -> str:
    rest = "\n".join(old_memo.splitlines()[1:])
    return (f"{MEMO_PREFIX}{key}\n{link}" + (f"\n{rest}" if rest else ""))[:_MEMO_MAX]


def revise(posted: PostedDocument, new_data: dict[str, Any], number: int) -> list[PlannedWrite]:
    """The reversal or void of `posted` and its new version (revision `number`), the latter after the former."""
    if posted.stream in _VOIDED:
        return _void_and_replace(posted, new_data, number)
    add = posted.data.get("JournalEntryAdd")
    new_add = new_data.get("JournalEntryAdd")
    if posted.stream != "JournalEntry" or not isinstance(add, dict) or not isinstance(new_add, dict):
        raise NotImplementedError
    old_id = posted.destination_id or "unknown"
    reversal_key, version_key = f"{posted.key}~reversal-{number}", f"{posted.key}~v{number + 1}"
    reversal = copy.deepcopy(add)
    reversal["JournalDebitLine"], reversal["JournalCreditLine"] = (add.get("JournalCreditLine") or [],
                                                                   add.get("JournalDebitLine") or [])
    reversal["RefNumber"] = _ref(str(add.get("RefNumber") or ""), f"R{number}")
    reversal["Memo"] = _memo(reversal_key, f"reverses TxnID {old_id}", str(add.get("Memo") or ""))
    version = copy.deepcopy(new_add)
    version["RefNumber"] = _ref(str(new_add.get("RefNumber") or ""), f"V{number + 1}")
    version["Memo"] = _memo(version_key, f"replaces TxnID {old_id}", str(new_add.get("Memo") or ""))
    return [PlannedWrite("JournalEntry", reversal_key, {"JournalEntryAdd": reversal}, natural_key=posted.natural_key),
            PlannedWrite("JournalEntry", version_key, {"JournalEntryAdd": version}, depends_on=[reversal_key],
                         natural_key=posted.natural_key)]


def _void_and_replace(posted: PostedDocument, new_data: dict[str, Any], number: int) -> list[PlannedWrite]:
    kind = f"{posted.stream}Add"
    new_add = new_data.get(kind)
    if not isinstance(posted.data.get(kind), dict) or not isinstance(new_add, dict) or not posted.destination_id:
        raise NotImplementedError
    old_id = posted.destination_id
    void_key, version_key = f"{posted.key}~void-{number}", f"{posted.key}~v{number + 1}"
    void = {"TxnVoid": {"TxnVoidType": posted.stream, "TxnID": old_id}}
    version = copy.deepcopy(new_add)
    old_ref = str(posted.data[kind].get("RefNumber") or "")
    version["RefNumber"] = _ref(str(new_add.get("RefNumber") or old_ref), f"V{number + 1}")
    version["Memo"] = _memo(version_key, f"replaces {posted.stream} TxnID {old_id} ({posted.key}), voided by "
                                         f"{void_key}", str(new_add.get("Memo") or ""))
    private = {k: copy.deepcopy(v) for k, v in new_data.items() if k.startswith("_")}
    return [PlannedWrite("Void", void_key, void, natural_key=posted.natural_key),
            PlannedWrite(posted.stream, version_key, {kind: version, **private}, depends_on=[void_key],
                         natural_key=posted.natural_key)]
