"""Unit costs per SKU: what a unit of stock cost, and from when.

Three kinds of entry, from a costs file, inline options or the ledger's item cost (`ledgerlink cogs costs`):
- a plain cost (`SKU-1,4.20`): the unit cost, always;
- a cost with an effective date (`SKU-1,4.20,2026-01-01`): a landed-cost history; a movement takes the cost in
  effect on its date;
- a received lot (`SKU-1,4.20,2026-01-01,100`): units received at that cost on that date; a SKU with lots is
  costed first-in-first-out or at the moving average of its lots (`ledgerlink.cogs.valuation`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import ConfigError
from ..money import to_decimal

__all__ = ["CostEntry", "CostBook", "load_costs_file", "parse_costs_text", "costs_from_items", "COST_COLUMNS"]

#: the columns a costs file may have (the `files` source's costs columns plus effective_date and quantity)
COST_COLUMNS = ("sku", "cost", "effective_date", "quantity", "currency", "name")
_ALIASES = {"unit_cost": "cost", "unit cost": "cost", "date": "effective_date", "effective": "effective_date",
            "qty": "quantity", "msku": "sku", "seller-sku": "sku", "seller_sku": "sku"}
_MAX_COST = Decimal(1_000_000_000)
_MAX_ROWS = 1_000_000


@dataclass(frozen=True)
class CostEntry:
    """One unit cost of one SKU: from `effective` on (None: always), for `quantity` received units (None: not a
    lot, a price), and where it was written (`origin`, e.g. `costs.csv:12`) for the journal's memo."""

    sku: str
    unit_cost: Decimal
    effective: date | None = None
    quantity: Decimal | None = None
    currency: str | None = None
    origin: str = ""


@dataclass
class CostBook:
    """Every cost entry, by SKU. Which entries a SKU has decides how it is costed: lots → fifo or moving average;
    dated prices → the one in effect; a plain price → that price."""

    entries: dict[str, list[CostEntry]] = field(default_factory=dict)

    def add(self, entry: CostEntry) -> None:
        self.entries.setdefault(entry.sku, []).append(entry)

    def merged(self, other: "CostBook") -> "CostBook":
        """This book with `other`'s SKUs added; a SKU both name keeps this book's entries (the costs file wins)."""
        out = CostBook({k: list(v) for k, v in self.entries.items()})
        for sku, entries in other.entries.items():
            out.entries.setdefault(sku, list(entries))
        return out

    def lots(self, sku: str) -> list[CostEntry]:
        """The SKU's received lots, oldest first (undated lots first)."""
        return sorted((e for e in self.entries.get(sku, []) if e.quantity is not None),
                      key=lambda e: (e.effective or date.min))

    def price_on(self, sku: str, when: date) -> CostEntry | None:
        """The price (not a lot) in effect on `when`: the latest effective on or before it; an undated price when no
        dated one is in effect yet."""
        prices = [e for e in self.entries.get(sku, []) if e.quantity is None]
        dated = sorted((e for e in prices if e.effective is not None and e.effective <= when),
                       key=lambda e: e.effective or date.min)
        if dated:
            return dated[-1]
        undated = [e for e in prices if e.effective is None]
        return undated[-1] if undated else None

    def knows(self, sku: str) -> bool:
        return bool(self.entries.get(sku))

    def first_dated(self, sku: str) -> date | None:
        dates = [e.effective for e in self.entries.get(sku, []) if e.effective is not None]
        return min(dates) if dates else None

    @classmethod
    def of(cls, entries: Iterable[CostEntry]) -> "CostBook":
        book = cls()
        for e in entries:
            book.add(e)
        return book


def _header(names: list[str], where: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, raw in enumerate(names):
        name = raw.strip().lower().lstrip("\ufeff")
        name = _ALIASES.get(name, name.replace(" ", "_").replace("-", "_"))
        if name in COST_COLUMNS and name not in out:
            out[name] = i
    for needed in ("sku", "cost"):
        if needed not in out:
            raise ConfigError(f"{where}: the costs file has no {needed!r} column (header: {', '.join(names)})",
                              where="destination.options.cogs.costs",
                              hint="the first line names the columns: sku,cost[,effective_date][,quantity][,currency]")
    return out


def parse_costs_text(text: str, where: str) -> CostBook:
    """A costs file's text → CostBook; a ConfigError naming `file:line`, the column and what to write instead."""
    sample = text[:4096]
    dialect = "excel-tab" if sample.count("\t") > sample.count(",") else "excel"
    reader = csv.reader(io.StringIO(text), dialect=dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise ConfigError(f"{where} is empty", where="destination.options.cogs.costs",
                          hint="write a header line sku,cost then one line per SKU") from None
    cols = _header(header, where)
    book = CostBook()
    for n, row in enumerate(reader, start=2):
        if n > _MAX_ROWS:
            raise ConfigError(f"{where} has more than {_MAX_ROWS:,} lines", where="destination.options.cogs.costs")
        if not any(c.strip() for c in row):
            continue

        def cell(name: str) -> str:
            i = cols.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        def bad(column: str, what: str, hint: str) -> ConfigError:
            return ConfigError(f"{where}:{n}: {column} {what}", where="destination.options.cogs.costs", hint=hint)

        sku = cell("sku")
        if not sku:
            raise bad("sku", "is empty", "every line names the SKU it costs")
        text_cost = cell("cost").lstrip("$£€")
        try:
            cost = to_decimal(text_cost, field="cost")
        except (TypeError, ValueError, ArithmeticError):
            raise bad("cost", f"{cell('cost')!r} is not a number", "write the unit cost, e.g. 12.50") from None
        if cost < 0 or cost > _MAX_COST:
            raise bad("cost", f"{text_cost} is out of range", f"a unit cost is from 0 to {_MAX_COST:,}")
        effective = None
        if cell("effective_date"):
            try:
                effective = date.fromisoformat(cell("effective_date")[:10])
            except ValueError:
                raise bad("effective_date", f"{cell('effective_date')!r} is not a date",
                          "write the date as YYYY-MM-DD") from None
        quantity = None
        if cell("quantity"):
            try:
                quantity = to_decimal(cell("quantity"), field="quantity")
            except (TypeError, ValueError, ArithmeticError):
                raise bad("quantity", f"{cell('quantity')!r} is not a number",
                          "write the units received in the lot, or leave it empty for a price") from None
            if quantity <= 0:
                raise bad("quantity", f"{quantity} is not a positive number of units",
                          "a lot receives one unit or more")
        book.add(CostEntry(sku=sku, unit_cost=cost, effective=effective, quantity=quantity,
                           currency=cell("currency").upper() or None, origin=f"{Path(where).name}:{n}"))
    return book


def load_costs_file(path: Path) -> CostBook:
    """The costs file at `path` (CSV or TSV, UTF-8)."""
    if not path.exists():
        raise ConfigError(f"costs file {path} does not exist", where="destination.options.cogs.costs",
                          hint="write sku,cost lines to it, or run `ledgerlink cogs costs PIPELINE` to take the "
                               "item costs from QuickBooks")
    return parse_costs_text(path.read_text(encoding="utf-8-sig"), str(path))


def costs_from_items(records: Iterable[Mapping[str, Any]]) -> CostBook:
    """The ledger's own item costs: QuickBooks Online `Item` (Sku or Name, PurchaseCost) or QuickBooks Desktop
    `ItemInventoryRet` (Name/FullName, AverageCost or PurchaseCost). An item without a cost is left out, so its
    SKU is held, never costed at zero."""
    book = CostBook()
    for rec in records:
        sku = str(rec.get("Sku") or rec.get("Name") or rec.get("FullName") or "").strip()
        raw = rec.get("AverageCost") if rec.get("AverageCost") not in (None, "") else rec.get("PurchaseCost")
        if not sku or raw in (None, ""):
            continue
        try:
            cost = to_decimal(str(raw) if isinstance(raw, float) else raw, field="PurchaseCost")
        except (TypeError, ValueError, ArithmeticError):
            continue
        if cost > 0:
            book.add(CostEntry(sku=sku, unit_cost=cost, origin=f"ledger item {sku}"))
    return book
