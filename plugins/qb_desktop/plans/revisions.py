"""Revising a posted QuickBooks Desktop journal entry: a reversal and the new version, never an edit.

As for QuickBooks Online (see `ledgerlink_qbo.plans.revisions`): the reversal swaps JournalDebitLine and
JournalCreditLine and keeps the original's date; both documents get keys of their own, RefNumbers within 11
characters, and a Memo whose first lines name the posted document they reverse or replace.
"""

from __future__ import annotations

import copy
from typing import Any

from ledgerlink import PlannedWrite, PostedDocument

from .orders import MEMO_PREFIX, REF_NUMBER_MAX

__all__ = ["revise"]

_MEMO_MAX = 4095


def _ref(number: str, suffix: str) -> str:
    tail = f"-{suffix}"
    return number[:REF_NUMBER_MAX - len(tail)] + tail


def _memo(key: str, link: str, old_memo: str) -> str:
    rest = "\n".join(old_memo.splitlines()[1:])
    return (f"{MEMO_PREFIX}{key}\n{link}" + (f"\n{rest}" if rest else ""))[:_MEMO_MAX]


def revise(posted: PostedDocument, new_data: dict[str, Any], number: int) -> list[PlannedWrite]:
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
