"""File rows → the canonical model: a 3PL's shipment rows → Shipment, a cost file's rows → Product with cost.

Every problem names the file, the line and the file's own column, with a hint; the row becomes a dead
letter and nothing else is lost. A shipment is the rows of one order with one tracking number (the runtime
hands each row its order's rows through a join on the order column): every row of the group yields the same
Shipment, so staging order does not matter and an appended row revises it. A group with a bad row waits:
its good rows yield nothing until the bad one is fixed, so a shipment is never posted short. The same package
in a second file (a re-sent or cumulative export) is the same shipment, not twice the units.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

from ledgerlink import EARLIEST_DATE, LATEST_DATE, Money, Normaliser, Product, RecordError, Shipment, ShipmentLine, SourceRef, to_decimal

from .config import FileStreamConfig

__all__ = ["normalisers_for", "SOURCE"]

SOURCE = "files"

#: the most units one file line may ship, and the dates a ship date may carry: beyond them it is a typo or a
#: value in the wrong column, refused with the column's name rather than sent to a channel that refuses it
MAX_QUANTITY = Decimal(1_000_000)
MAX_COST = Decimal(1_000_000_000)
EARLIEST, LATEST = EARLIEST_DATE, LATEST_DATE

NormaliseFn = Callable[[dict[str, Any], dict[str, list[dict[str, Any]]]], list[Any]]


class _Rows:
    """Reads canonical fields from one row through the stream's column mapping, naming file/line/column."""

    def __init__(self, spec: FileStreamConfig, row: dict[str, Any]):
        self.spec, self.row = spec, row
        self.file, self.line = str(row.get("_file")), row.get("_line")

    @property
    def where(self) -> str:
        """The key a dead letter names: `exports/3pl.csv, line 7`."""
        return f"{self.file}, line {self.line}"

    def error(self, message: str, column: str | None = None, hint: str | None = None) -> RecordError:
        return RecordError(message, stream=self.spec.name, key=self.where, field=column, hint=hint)

    def has(self, field: str) -> bool:
        return self.spec.column(field) in self.row

    def text(self, field: str, *, required: bool = False) -> str | None:
        column = self.spec.column(field)
        value = self.row.get(column)
        text = None if value is None else str(value).strip()
        if required and not text:
            if column not in self.row:
                headers = [k for k in self.row if not k.startswith("_")]
                raise self.error(f"no column {column!r} for {field}", column, hint=(
                    f"the file's columns are {', '.join(map(repr, headers))}; map one with "
                    f"`columns: {{{field}: <column>}}` in the stream's config"))
            raise self.error(f"{field} is empty", column, hint=f"fill in {column!r} on this line of the file")
        return text or None

    def check_readable(self) -> None:
        problem = self.row.get("_error")
        if problem:
            problem = str(problem).removeprefix(self.where + ": ")
            raise RecordError(problem, stream=self.spec.name, key=self.where,
                              hint="fix or remove this line in the file; the next sync reads the file again")


# ------------------------------------------------------------------------------------------------ shipments


def _quantity(r: _Rows) -> Decimal:
    if not r.has("quantity"):
        return Decimal(1)  # a file without a quantity column ships one of each line
    column = r.spec.column("quantity")
    text = r.text("quantity", required=True)
    try:
        qty = to_decimal(text, field=column)
    except (TypeError, ValueError, ArithmeticError):
        qty = None
    if qty is None or not qty.is_finite():
        raise r.error(f"quantity {text!r} is not a number", column, hint="write the units shipped, e.g. 2")
    if qty > MAX_QUANTITY:
        raise r.error(f"quantity {text} is more than {MAX_QUANTITY:,} units on one line", column,
                      hint="write the units shipped, e.g. 2 (a date or a tracking number in the wrong column?)")
    if qty <= 0:
        raise r.error(f"quantity {text} is {'negative' if qty < 0 else 'zero'}", column,
                      hint="a shipment line ships one unit or more; correct the line or remove it")
    return qty


def _shipped_at(r: _Rows) -> datetime | None:
    text = r.text("shipped_at")
    if text is None:
        return None
    column = r.spec.column("shipped_at")
    try:
        when = (datetime.strptime(text, r.spec.date_format) if r.spec.date_format
                else datetime.fromisoformat(text.replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        raise r.error(f"cannot read {text!r} as a date", column, hint=(
            f"expected {r.spec.date_format!r}" if r.spec.date_format else
            "write ISO 8601 (2024-05-01 or 2024-05-01T14:30:00Z), or set `date_format` (e.g. %m/%d/%Y)")) from None
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    if not EARLIEST <= when < LATEST:
        raise r.error(f"date {text!r} is not plausible (before 1970 or after 2099)", column, hint=(
            "write the day the package shipped" + (f" as {r.spec.date_format!r}" if r.spec.date_format else
                                                   ", e.g. 2024-05-01")))
    return when


def _line_of(r: _Rows) -> tuple[str, str, ShipmentLine, datetime | None, str | None]:
    """(order id, tracking number, line, shipped at, carrier) of one good row; raises for a bad one."""
    r.check_readable()
    order_id = r.text("order_id", required=True)
    tracking = r.text("tracking_number", required=True)
    sku = r.text("sku", required=True)
    line = ShipmentLine(sku=sku, line_id=r.text("line_id") if r.has("line_id") else None, quantity=_quantity(r))
    return str(order_id), str(tracking), line, _shipped_at(r), r.text("carrier") if r.has("carrier") else None


def _row_order(row: dict[str, Any]) -> tuple[str, int]:
    return str(row.get("_file")), int(row.get("_line") or 0)


def _ref(spec: FileStreamConfig, row: dict[str, Any]) -> SourceRef:
    """The staged row's key, made as staging makes it (the key columns joined by `/`), for the audit trail."""
    return SourceRef(stream=spec.name, key="/".join(str(row.get(c)) for c in spec.key_columns))


def shipment_normaliser(spec: FileStreamConfig) -> NormaliseFn:
    def normalise(row: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Shipment]:
        if row.get("_removed"):
            return []
        order_id, tracking, *_ = _line_of(_Rows(spec, row))  # this row's own problem is its dead letter
        rows = {_row_order(row): row}
        for other in related.get(spec.name) or []:
            if not other.get("_error") and not other.get("_removed") \
                    and _Rows(spec, other).text("tracking_number") == tracking:
                rows.setdefault(_row_order(other), other)
        by_file: dict[str, dict[tuple[str | None, str | None], ShipmentLine]] = {}
        shipped_at: datetime | None = None
        carrier: str | None = None
        for key in sorted(rows):
            try:
                _, _, line, when, name = _line_of(_Rows(spec, rows[key]))
            except RecordError:
                return []  # a bad row of this shipment: its dead letter says why; the shipment posts once fixed
            shipped_at, carrier = shipped_at or when, carrier or name
            in_file = by_file.setdefault(key[0], {})
            k = (line.sku, line.line_id)
            in_file[k] = line if k not in in_file else in_file[k].model_copy(
                update={"quantity": in_file[k].quantity + line.quantity})
        # one file's rows add up (a row per unit is common); another file naming the same package is the 3PL
        # sending it again (a cumulative or re-sent export), not more units in the box
        lines: dict[tuple[str | None, str | None], ShipmentLine] = {}
        for in_file in by_file.values():
            for k, line in in_file.items():
                if k not in lines or line.quantity > lines[k].quantity:
                    lines[k] = line
        # the shipment's own rows (not the order's other packages): whichever row yields it, the same trail
        return [Shipment(source=SOURCE, shipment_id=f"{order_id}/{tracking}", order_id=order_id, carrier=carrier,
                         tracking_number=tracking, shipped_at=shipped_at, lines=list(lines.values()),
                         source_refs=[_ref(spec, rows[k]) for k in sorted(rows)])]

    return normalise


# ------------------------------------------------------------------------------------------------ costs


def cost_normaliser(spec: FileStreamConfig) -> NormaliseFn:
    def normalise(row: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Product]:
        if row.get("_removed"):
            return []  # a cost line removed from the file leaves the product's cost as it was
        r = _Rows(spec, row)
        r.check_readable()
        sku = r.text("sku", required=True)
        column = spec.column("cost")
        text = r.text("cost", required=True)
        try:
            cost = to_decimal(text, field=column)
        except (TypeError, ValueError, ArithmeticError):
            raise r.error(f"cost {text!r} is not a number", column,
                          hint="write the unit cost as a number, e.g. 12.50 (no currency symbol)") from None
        if cost > MAX_COST:
            raise r.error(f"cost {text} is more than {MAX_COST:,} a unit", column,
                          hint="write the unit cost, e.g. 12.50 (a value from another column?)")
        if cost < 0:
            raise r.error(f"cost {text} is negative", column, hint="a unit cost is zero or more")
        currency = (r.text("currency") if r.has("currency") else None) or spec.default_currency
        if not currency:
            raise r.error("no currency for the cost", spec.column("currency"), hint=(
                "add a currency column (map it with `columns: {currency: <column>}`) or set `default_currency`"))
        if len(currency) != 3 or not currency.isalpha():
            raise r.error(f"currency {currency!r} is not an ISO 4217 code", spec.column("currency"),
                          hint="write a three-letter code, e.g. USD")
        money = Money.of(cost, currency)
        name = (r.text("name") if r.has("name") else None) or str(sku)
        return [Product(source=SOURCE, sku=str(sku), name=name, cost=money)]

    return normalise


# ------------------------------------------------------------------------------------------------ rows only


def rows_normaliser(spec: FileStreamConfig) -> NormaliseFn:
    """A stream that is only staged (for look-ups) still reports its unreadable rows as dead letters."""
    def normalise(row: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Any]:
        if not row.get("_removed"):
            _Rows(spec, row).check_readable()
        return []

    return normalise


def normalisers_for(streams: list[FileStreamConfig]) -> list[Normaliser]:
    out = []
    for spec in streams:
        if spec.normalise == "shipments":
            # a self-join on the order column: each row sees its order's other rows
            column = spec.column("order_id")
            out.append(Normaliser(stream=spec.name, function=shipment_normaliser(spec),
                                  join={spec.name: (column, column)}))
        elif spec.normalise == "costs":
            out.append(Normaliser(stream=spec.name, function=cost_normaliser(spec)))
        else:
            out.append(Normaliser(stream=spec.name, function=rows_normaliser(spec)))
    return out

