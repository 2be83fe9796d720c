"""The ledger's lists kept by a destination that cannot be read on demand (QuickBooks Desktop answers only when its
Web Connector polls): a public convention between such a destination and the designer's pick-lists.

The designer asks by putting a `LEDGER_LISTS_WANTED` entry in the destination's reference cache; at its next chance
the destination reads its lists and keeps each one whole under `LEDGER_LISTS` (name: the list, e.g. `TaxCode`;
value: the JSON array of its active names), replacing the last, so a name made inactive drops out; then it forgets
the wish."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterable

__all__ = ["LEDGER_LISTS", "LEDGER_LISTS_WANTED", "want_ledger_lists", "ledger_lists_wanted", "keep_ledger_list",
           "kept_ledger_list"]

#: reference-cache kind of a kept list (name: Account, Item, TaxCode, PaymentMethod, Class, Department)
LEDGER_LISTS = "ledger-lists"
#: reference-cache kind of the designer's wish for fresh lists (name "*")
LEDGER_LISTS_WANTED = "ledger-lists:wanted"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def want_ledger_lists(references: Any) -> None:
    """Ask the destination for fresh lists at its next chance."""
    references.put(LEDGER_LISTS_WANTED, "*", _now())


def ledger_lists_wanted(references: Any) -> bool:
    return bool(references.get(LEDGER_LISTS_WANTED, "*"))


def keep_ledger_list(references: Any, kind: str, names: Iterable[str]) -> None:
    """Keep one whole list (replacing the last one read)."""
    clean = sorted({n.strip() for n in names if isinstance(n, str) and n.strip()}, key=str.casefold)
    references.put(LEDGER_LISTS, kind, json.dumps(clean, ensure_ascii=False), _now())


def kept_ledger_list(value: str | None) -> list[str]:
    """The names of a kept list's stored value (nothing for a value that is not one)."""
    try:
        names: Any = json.loads(value or "[]")
    except ValueError:
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []
