"""The baseline: what each side last said about each SKU, and what both last agreed on, in a small SQLite file.

Both directions read and write it (channel → QuickBooks and QuickBooks → channel are two pipelines with two
DuckDB state files, often two processes), so it is its own file, named in the inventory options, and every
update is one short `BEGIN IMMEDIATE` transaction. Scope separates stores that share SKUs (None: one store).
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Iterator

from .decide import OTHER, Side, SkuState

__all__ = ["Baseline", "open_baseline"]

_SCHEMA = """CREATE TABLE IF NOT EXISTS stock (
    scope TEXT NOT NULL, sku TEXT NOT NULL, agreed TEXT, channel TEXT, quickbooks TEXT, channel_at TEXT,
    quickbooks_at TEXT, fba INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL, PRIMARY KEY (scope, sku))"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize() if value == value.to_integral_value()
                                              else value, "f")


class Baseline:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        self._con.execute("PRAGMA synchronous=NORMAL")  # a lost last update is re-learnt on the next read
        self._con.execute(_SCHEMA)

    def close(self) -> None:
        self._con.close()

    def get(self, sku: str, scope: str | None = None) -> SkuState:
        row = self._con.execute("SELECT agreed, channel, quickbooks, channel_at, quickbooks_at, fba FROM stock "
                                "WHERE scope = ? AND sku = ?", [scope or "", sku]).fetchone()
        return _state(row)

    def all(self, scope: str | None = None) -> Iterator[tuple[str, SkuState]]:
        for row in self._con.execute("SELECT sku, agreed, channel, quickbooks, channel_at, quickbooks_at, fba "
                                     "FROM stock WHERE scope = ? ORDER BY sku", [scope or ""]).fetchall():
            yield row[0], _state(row[1:])

    def has_seen(self, side: Side) -> bool:
        """Has any level of `side` been recorded (does a pipeline reading that side share this baseline)?"""
        return self._con.execute(f"SELECT 1 FROM stock WHERE {side} IS NOT NULL LIMIT 1").fetchone() is not None

    def observe(self, side: Side, sku: str, value: Decimal, *, scope: str | None = None,
                fba: bool = False) -> SkuState:
        """`side` says `value` now (read from it, or just written to it). When the other side was last seen at
        the same value, both agree. Returns the SKU's state after it."""
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                state = self.get(sku, scope)
                other = OTHER[side]
                at = getattr(state, f"{side}_at")
                if state.seen(side) != value or at is None:
                    at = _now()
                agreed = value if state.seen(other) == value else state.agreed
                values = {"channel": state.channel, "quickbooks": state.quickbooks,
                          "channel_at": state.channel_at, "quickbooks_at": state.quickbooks_at}
                values[side], values[f"{side}_at"] = value, at
                self._con.execute(
                    "INSERT OR REPLACE INTO stock VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [scope or "", sku, _text(agreed), _text(values["channel"]), _text(values["quickbooks"]),
                     values["channel_at"], values["quickbooks_at"], int(state.fba or fba), _now()])
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
        return self.get(sku, scope)


def _state(row: tuple | None) -> SkuState:
    if row is None:
        return SkuState()
    agreed, channel, quickbooks, channel_at, quickbooks_at, fba = row
    return SkuState(_dec(agreed), _dec(channel), _dec(quickbooks), channel_at, quickbooks_at, bool(fba))


_OPEN: dict[Path, Baseline] = {}
_OPEN_LOCK = threading.Lock()


def open_baseline(path: Path) -> Baseline:
    """One connection per file per process (plan and write of a run share it)."""
    path = Path(path).resolve()
    with _OPEN_LOCK:
        found = _OPEN.get(path)
        if found is None or not found.path.exists():
            found = _OPEN[path] = Baseline(path)
        return found
