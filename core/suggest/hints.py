"""Top suggestions written into a dead letter's hint: a held settlement names the likeliest role for each row
no rule knows, a SKU missing from the item map the likeliest items, so the fix is one confirmation away.
Never raises: a hint is help, and failing to make one must not change what is held or why."""

from __future__ import annotations

import logging
from typing import Iterable

__all__ = ["role_hint", "item_hint"]

log = logging.getLogger("ledgerlink.suggest")


def role_hint(unknown: Iterable[tuple[str, str, str]], limit: int = 2, rows: int = 5) -> str:
    """' suggested: …' for up to `rows` unknown (transaction type, amount type, description) rows, or ''."""
    try:
        from .roles import RoleSuggester, role_subject

        suggester = RoleSuggester()
        parts = []
        for tt, at, desc in list(unknown)[:rows]:
            found = suggester.suggest(tt or None, at or None, desc or None, limit)
            if found:
                parts.append(f"{role_subject(tt, at, desc)} → " + " or ".join(s.short() for s in found))
        return (" Suggested (confirm with `ledgerlink suggest PIPELINE --kind roles`): " + "; ".join(parts)) if parts else ""
    except Exception:  # noqa: BLE001 - see the module docstring
        log.debug("no role suggestions for the hold", exc_info=True)
        return ""


def item_hint(sku: str, items: Iterable[str], limit: int = 3) -> str:
    """' Likely: …' naming the closest of `items` (ledger item names known to the pipeline) to `sku`, or ''."""
    try:
        from .items import ItemSuggester, LedgerItem

        found = ItemSuggester([LedgerItem(name) for name in set(items)]).suggest(sku, limit=limit)
        return (" Likely: " + "; ".join(s.short() for s in found) + ".") if found else ""
    except Exception:  # noqa: BLE001 - see the module docstring
        log.debug("no item suggestions for %s", sku, exc_info=True)
        return ""
