"""What the review tests share: the state of a pipeline read back, and what the fake remote holds."""

from __future__ import annotations

from typing import Any

import fakes

from ledgerlink.store import Store


def remote_receipts() -> set[str]:
    """Doc numbers of the receipts the fake destination holds."""
    return set(fakes.REMOTE.get("Receipt", {}))


def posted_keys(state: Any, stream: str) -> set[str]:
    store = Store(state)
    try:
        return {k for (k,) in store.db.fetchall("SELECT key FROM results WHERE stream = ?", [stream])}
    finally:
        store.close()


def with_store(state: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
    """Open the state file, run `func(store, …)`, close it (a sync opens it again afterwards)."""
    store = Store(state)
    try:
        return func(store, *args, **kwargs)
    finally:
        store.close()
