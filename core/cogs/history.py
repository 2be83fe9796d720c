"""The unit movements already costed, so FIFO lots and moving averages run on across settlements.

A settlement's movements are valued after every movement dated before them (of any settlement), never after
one dated later: re-planning a settlement (a revision, a retry) values it the same, and a settlement that
arrives late values only itself and what follows it. The history is a table of the pipeline's state file
(`cogs_movements`); without a state file (a plan in a test, a dry run) it lives for the run in the plan's cache.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ..posting.run_cache import once_per_run
from .valuation import Movement

__all__ = ["MovementHistory", "history_for"]

_TABLE = """CREATE TABLE IF NOT EXISTS cogs_movements (
    settlement_key VARCHAR NOT NULL, seq INTEGER NOT NULL, sku VARCHAR NOT NULL, on_date DATE NOT NULL,
    quantity VARCHAR NOT NULL, kind VARCHAR NOT NULL, ref VARCHAR NOT NULL, PRIMARY KEY (settlement_key, seq))"""


class MovementHistory:
    """Movements by settlement key: those of the others (to value against), and this one's (replaced)."""

    def __init__(self, db: Any = None):
        self.db = db
        self.memory: dict[str, list[Movement]] = {}
        if db is not None:
            db.execute(_TABLE)

    def others(self, settlement_key: str) -> list[tuple[str, int, Movement]]:
        """(settlement key, position, movement) of every other settlement, in no particular order."""
        if self.db is None:
            return [(k, i, m) for k, ms in self.memory.items() if k != settlement_key for i, m in enumerate(ms)]
        rows = self.db.fetchall("SELECT settlement_key, seq, sku, on_date, quantity, kind, ref FROM cogs_movements "
                                "WHERE settlement_key <> ?", [settlement_key])
        return [(k, seq, Movement(sku=sku, on=on if isinstance(on, date) else date.fromisoformat(str(on)),
                                  quantity=Decimal(q), kind=kind, ref=ref))
                for k, seq, sku, on, q, kind, ref in rows]

    def record(self, settlement_key: str, movements: list[Movement]) -> None:
        """This settlement's movements, replacing what it had."""
        if self.db is None:
            self.memory[settlement_key] = list(movements)
            return
        self.db.execute("DELETE FROM cogs_movements WHERE settlement_key = ?", [settlement_key])
        if movements:
            self.db.execute("INSERT INTO cogs_movements VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(movements)),
                            [v for i, m in enumerate(movements)
                             for v in (settlement_key, i, m.sku, m.on, str(m.quantity), m.kind, m.ref)])


def history_for(ctx: object) -> MovementHistory:
    """The history of this pipeline's state file (the plan context's `store`), once per run."""
    store = getattr(ctx, "store", None)
    return once_per_run(ctx, "cogs:history", lambda: MovementHistory(store.db if store is not None else None))
