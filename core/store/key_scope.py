"""How a state file's idempotency keys are formed, recorded in `ll_meta` so it never changes under posted work.

`store`: natural keys name the store (`bigcommerce@abc123/order/100`), so two stores whose ids overlap can
post into one company. `legacy`: `bigcommerce/order/100`, as state files written before keys named the store;
their documents carry those keys in QuickBooks, so switching would post every one of them again.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from .database import Database

__all__ = ["KeyScope", "KEY_SCOPES", "settle_key_scope", "recorded_key_scope"]

KEY_SCOPES = ("store", "legacy")


@dataclass(frozen=True)
class KeyScope:
    """The store a pipeline's objects come from, and whether their keys name it."""

    store: str | None
    scope: str

    @property
    def in_key(self) -> bool:
        return self.scope == "store"


def _meta(db: Database, key: str) -> str | None:
    row = db.fetchone("SELECT value FROM ll_meta WHERE key = ?", [key])
    return None if row is None else row[0]


def _planned(db: Database) -> int:
    return int(db.fetchone("SELECT count(*) FROM outbox")[0])


def recorded_key_scope(db: Database, store: str | None) -> KeyScope:
    """The scope a state file recorded (read-only, for `reconcile`); a file from before scopes is legacy when it
    planned anything."""
    scope = _meta(db, "key_scope") or ("legacy" if _planned(db) else "store")
    return KeyScope(store, scope)


def settle_key_scope(db: Database, store: str | None, requested: str | None) -> KeyScope:
    """Decide and record the key scope of the run about to plan. Unrecorded: a state file that already
    planned writes predates scoped keys and stays `legacy`; a new one is `store`. The pipeline's
    `source.key_scope` may choose, but not against writes already planned the other way; nor may a state
    file that planned one store's writes take another store's records."""
    if requested is not None and requested not in KEY_SCOPES:
        raise ConfigError(f"key_scope {requested!r} is not one of {', '.join(KEY_SCOPES)}", where="source.key_scope")
    recorded = _meta(db, "key_scope")
    planned = _planned(db)
    current = recorded or ("legacy" if planned else None)
    if requested and current and requested != current and planned:
        raise ConfigError(
            f"this state file planned {planned} writes with {current} keys; {requested} keys would post them again",
            where="source.key_scope",
            hint=f"remove source.key_scope (or set it to {current}); to start over with {requested} keys, give the "
                 "pipeline a new state file and a company that has none of these documents")
    scope = requested or current or "store"
    recorded_store = _meta(db, "key_store")
    if planned and recorded_store is not None and recorded_store != (store or ""):
        raise ConfigError(
            f"this state file holds the writes of store {recorded_store or '(none)'!r}, not {store or '(none)'!r}",
            where="source.config",
            hint="give each store its own pipeline and state file (state: ...); several may post into one company")
    db.execute("INSERT OR REPLACE INTO ll_meta VALUES ('key_scope', ?)", [scope])
    db.execute("INSERT OR REPLACE INTO ll_meta VALUES ('key_store', ?)", [store or ""])
    return KeyScope(store, scope)
