"""Account balances of a QuickBooks Desktop company, read through the Web Connector for `ledgerlink reconcile`.

QuickBooks Desktop cannot be asked on demand: a Web Connector session that posted a journal or a deposit (what
moves the clearing and reserve accounts) ends with an `AccountQuery`, and the bridge keeps each account's
`Balance` in the pipeline's reference cache, debit-positive, with the time it was read. Reconcile's
clearing_residual and reserve_balance read them there (`QuickBooksDesktopDestination.account_balance`): the
balances as of the Web Connector's last such session.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["BALANCE", "BALANCES_READ_AT", "DEBIT_NATURAL", "save_balances", "read_balance", "BALANCE_STREAMS"]

#: reference-cache kind: account FullName (lower case) → its balance, debits positive
BALANCE = "qbd:balance"
#: reference-cache kind and name of the time the balances were read
BALANCES_READ_AT = "qbd:balances_read_at"
#: account types QuickBooks shows debit-positive (assets, expenses); the others it shows credit-positive
DEBIT_NATURAL = frozenset({"Bank", "AccountsReceivable", "OtherCurrentAsset", "FixedAsset", "OtherAsset", "Expense",
                           "OtherExpense", "CostOfGoodsSold"})
#: a session that posted one of these reads the balances at its end
BALANCE_STREAMS = frozenset({"JournalEntry", "Deposit"})


def save_balances(references: Any, rets: list[dict[str, Any]]) -> int:
    """Keep the `AccountRet`s' balances (debit-positive); returns how many were kept. An account whose Balance
    is not a number is left as it was."""
    kept = 0
    for ret in rets:
        if ret.get("_type") != "AccountRet":
            continue
        name = str(ret.get("FullName") or ret.get("Name") or "")
        try:
            shown = Decimal(str(ret.get("Balance")))
        except (InvalidOperation, ValueError):
            continue
        if not name or not shown.is_finite():
            continue
        debit = shown if ret.get("AccountType") in DEBIT_NATURAL else -shown
        references.put(BALANCE, name.lower(), str(debit))
        kept += 1
    references.put(BALANCES_READ_AT, "at", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    return kept


def read_balance(references: Any, name: str) -> Decimal | None:
    """An account's balance as the last session read it (debits positive); None when never read."""
    value = references.get(BALANCE, name.lower()) if references is not None else None
    return Decimal(value) if value else None
