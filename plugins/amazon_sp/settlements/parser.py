"""Amazon settlement flat files → header, summary and rows, read by column NAME, with every problem located.

Two formats, told apart by their header:

- Flat File V2 (`GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2`): one amount per row, in `amount`, described by
  `amount-type` and `amount-description` (23 documented columns; real files add `promotion-id`).
- The older V1 flat file (`GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE`, deprecated by Amazon in March 2026, still
  what years of history are in): nine amount columns, several of which one row may fill.

The first data row is the settlement's summary (settlement-id, start, end, deposit date, total-amount,
currency); every other row is a detail row. Nothing here guesses: a row that cannot be read is kept and
its problem recorded as a `SettlementFileError` (origin, line, column, message), and only a file that is
not a settlement flat file at all (or is empty) raises. Amounts are `Decimal`; each file's decimal mark is
learnt from its own unambiguous amounts (EU reports print `1.234,56` and `-12,30`).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any, Iterable, Iterator

from ledgerlink import quantize

__all__ = [
    "SettlementFileError", "SettlementRow", "ParsedSettlement", "parse_settlement", "decode_settlement_bytes",
    "V2_AMOUNT_COLUMNS", "V1_AMOUNT_COLUMNS", "V2_COLUMNS", "V1_COLUMNS", "FLAT_FILE_V2", "FLAT_FILE_V1",
    "SUMMARY_COLUMNS", "REPORT_TYPE_V2", "REPORT_TYPE_V1",
]

FLAT_FILE_V2 = "flat_file_v2"
FLAT_FILE_V1 = "flat_file_v1"
REPORT_TYPE_V2 = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
REPORT_TYPE_V1 = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE"

#: the summary row's own columns (empty on every detail row)
SUMMARY_COLUMNS = ("settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount",
                   "currency")
#: Amazon's documented V2 columns (real files may add `promotion-id`; columns are read by name anyway)
V2_COLUMNS = (*SUMMARY_COLUMNS, "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id",
              "marketplace-name", "amount-type", "amount-description", "amount", "fulfillment-id", "posted-date",
              "posted-date-time", "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku",
              "quantity-purchased", "promotion-id")
V2_AMOUNT_COLUMNS = ("amount",)
#: V1 amount columns → the V2 `amount-type` they correspond to, and the column that describes them
V1_AMOUNT_COLUMNS: dict[str, tuple[str, str | None]] = {
    "shipment-fee-amount": ("ShipmentFees", "shipment-fee-type"),
    "order-fee-amount": ("OrderFees", "order-fee-type"),
    "price-amount": ("ItemPrice", "price-type"),
    "item-related-fee-amount": ("ItemFees", "item-related-fee-type"),
    "misc-fee-amount": ("MiscFees", None),
    "other-fee-amount": ("OtherFees", "other-fee-reason-description"),
    "promotion-amount": ("Promotion", "promotion-type"),
    "direct-payment-amount": ("DirectPayment", "direct-payment-type"),
    "other-amount": ("other-transaction", None),
}
V1_COLUMNS = (*SUMMARY_COLUMNS, "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id",
              "marketplace-name", "shipment-fee-type", "shipment-fee-amount", "order-fee-type", "order-fee-amount",
              "fulfillment-id", "posted-date", "order-item-code", "merchant-order-item-id",
              "merchant-adjustment-item-id", "sku", "quantity-purchased", "price-type", "price-amount",
              "item-related-fee-type", "item-related-fee-amount", "misc-fee-amount", "other-fee-amount",
              "other-fee-reason-description", "promotion-id", "promotion-type", "promotion-amount",
              "direct-payment-type", "direct-payment-amount", "other-amount")
_REQUIRED = ("settlement-id", "total-amount", "currency", "transaction-type")

# An amount with a decimal point (optional "," thousands) or a decimal comma (optional "." thousands).
_DOT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
_PLAIN = re.compile(r"^[+-]?\d+$")
_filled = itemgetter(1)  # (column, value) pairs with a value


class SettlementFileError(Exception):
    """One problem in a settlement file, located: the file (or report), the line, the column."""

    def __init__(self, origin: str, line: int | None, column: str | None, message: str):
        self.origin, self.line, self.column, self.message = origin, line, column, message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.origin
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"origin": self.origin, "line": self.line, "column": self.column, "message": self.message}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SettlementFileError":
        return cls(str(data.get("origin") or "?"), data.get("line"), data.get("column"), str(data.get("message")))


@dataclass
class SettlementRow:
    """One detail row: its line in the file and its non-empty values by column name (stripped)."""

    line: int
    values: dict[str, str]


@dataclass
class ParsedSettlement:
    """A settlement file read by header name. `amounts` holds each row's parsed amounts (column → Decimal),
    in the order of `rows`; `errors` every problem found (the rows with problems are still in `rows`)."""

    origin: str
    format: str
    columns: list[str]
    summary_line: int
    summary: dict[str, str]
    rows: list[SettlementRow] = field(default_factory=list)
    amounts: list[dict[str, Decimal]] = field(default_factory=list)
    errors: list[SettlementFileError] = field(default_factory=list)
    total: Decimal | None = None
    decimal_mark: str = "."
    digest: str = ""

    @property
    def settlement_id(self) -> str:
        return self.summary.get("settlement-id", "")

    @property
    def currency(self) -> str:
        return self.summary.get("currency", "")

    def rows_total(self) -> Decimal:
        """The sum of every amount column of every detail row (what `total-amount` must equal)."""
        return sum((a for amounts in self.amounts for a in amounts.values()), Decimal(0))

    def content_hash(self) -> str:
        """A fingerprint of what the file says (not where it came from, nor its line endings, column order or
        padding): two copies of one settlement have the same hash; a different content for the same id does not."""
        return self.digest


def decode_settlement_bytes(data: bytes) -> str:
    """Amazon writes UTF-8 (with or without a BOM); older EU downloads are Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a report's rows are read or built: 100,000 rows make a few
    hundred thousand dicts, none in a reference cycle, and the collector, run every 700 of them over everything
    still alive, took about a third of parsing and normalising a 100,000-row settlement. Put back as it was."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def parse_settlement(text: str, origin: str) -> ParsedSettlement:
    """Read one settlement flat file. Raises `SettlementFileError` only when the file is not a settlement flat
    file at all (empty, another report, XML, comma-separated, no summary row); every other problem is recorded
    in `errors` with its line and column, and its row kept."""
    with collector_paused():
        return _parse(text, origin)


def _parse(text: str, origin: str) -> ParsedSettlement:
    lines = text.lstrip("\ufeff").splitlines()
    header_at = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_at is None:
        raise SettlementFileError(origin, None, None, "the file is empty")
    columns = _header(lines[header_at], origin, header_at + 1)
    fmt = FLAT_FILE_V2 if "amount" in columns else FLAT_FILE_V1
    amount_columns = V2_AMOUNT_COLUMNS if fmt == FLAT_FILE_V2 else tuple(c for c in V1_AMOUNT_COLUMNS if c in columns)
    width = len(columns)
    errors: list[SettlementFileError] = []
    rows: list[tuple[int, dict[str, str]]] = []
    last_row = next(i for i in range(len(lines) - 1, -1, -1) if lines[i].strip())
    # the fingerprint reads every row in the same (sorted) column order, so a copy whose columns were
    # reordered, or whose lines end in CRLF, is still the same settlement
    canonical = itemgetter(*sorted(range(width), key=columns.__getitem__)) if width > 1 else (lambda c: (c[0],))
    digest = hashlib.sha256(("\t".join(sorted(columns)) + "\n").encode())
    fingerprinted: list[str] = []  # every row's canonical text, hashed at once (the same bytes as row by row)
    for index in range(header_at + 1, len(lines)):
        raw = lines[index]
        if not raw or raw.isspace():  # what `not raw.strip()` says, without a copy of every line
            continue  # blank lines (Amazon ends some files with one) are not rows
        number = index + 1
        cells = list(map(str.strip, raw.split("\t")))
        if len(cells) < width:
            errors.append(SettlementFileError(origin, number, columns[len(cells) - 1] if cells else None,
                                              f"the row has {len(cells)} of the header's {width} columns"
                                              + (": the file looks truncated" if index == last_row else "")))
            padded = cells + [""] * (width - len(cells))
        else:
            padded = cells
            if len(cells) > width and any(cells[width:]):
                errors.append(SettlementFileError(origin, number, None,
                                                  f"the row has {len(cells)} columns, the header {width}: values "
                                                  "beyond the last named column"))
                padded = cells[:width] + ["\t".join(cells[width:])]
        fingerprinted.append("\t".join(canonical(padded)))
        rows.append((number, dict(filter(_filled, zip(columns, cells)))))
    if fingerprinted:
        fingerprinted.append("")
        digest.update("\n".join(fingerprinted).encode())
    summary_at = next((i for i, (_, values) in enumerate(rows) if values.get("total-amount")
                       or values.get("settlement-start-date")), None)
    if summary_at is None:
        raise SettlementFileError(origin, rows[0][0] if rows else header_at + 1, "total-amount",
                                  "no summary row (the row with settlement-id, dates, total-amount and currency): "
                                  "the file is truncated or is not a settlement report")
    summary_line, summary = rows.pop(summary_at)
    if summary_at:
        for number, _ in rows[:summary_at]:
            errors.append(SettlementFileError(origin, number, "total-amount",
                                              "a detail row before the summary row"))
    parsed = ParsedSettlement(origin=origin, format=fmt, columns=columns, summary_line=summary_line,
                              summary={k: v for k, v in summary.items() if k in SUMMARY_COLUMNS},
                              digest=digest.hexdigest()[:32])
    for column in ("settlement-id", "currency", "total-amount"):
        if not summary.get(column):
            errors.append(SettlementFileError(origin, summary_line, column, "missing from the summary row"))
    extra = {k: v for k, v in summary.items() if k not in SUMMARY_COLUMNS}
    if extra:  # a summary row is never also a detail row: those values would fall out of every total
        errors.append(SettlementFileError(origin, summary_line, next(iter(extra)),
                                          "the summary row also carries detail values"))
    mark = _decimal_mark([summary.get("total-amount", "")]
                         + [v.get(c, "") for _, v in rows for c in amount_columns])
    parsed.decimal_mark = mark
    parsed.total = _amount(summary.get("total-amount", ""), mark, origin, summary_line, "total-amount", errors)
    settlement_id = parsed.settlement_id
    read: dict[str, Decimal] = {}  # amounts already read (a report repeats its fees and prices)
    for number, values in rows:
        amounts: dict[str, Decimal] = {}
        for column in amount_columns:
            text_value = values.get(column)
            if text_value is None:
                continue
            value = read.get(text_value)
            if value is None:
                value = _amount(text_value, mark, origin, number, column, errors)
                if value is None:
                    continue
                read[text_value] = value
            amounts[column] = value
        if fmt == FLAT_FILE_V2 and "amount" not in values:
            errors.append(SettlementFileError(origin, number, "amount", "the row has no amount"))
        row_id = values.get("settlement-id")
        if row_id and settlement_id and row_id != settlement_id:
            errors.append(SettlementFileError(origin, number, "settlement-id",
                                              f"the row belongs to settlement {row_id}, the file to {settlement_id}"))
        for column in ("settlement-start-date", "settlement-end-date", "deposit-date", "total-amount"):
            if column in values:
                errors.append(SettlementFileError(origin, number, column,
                                                  "a second summary row (one file holds one settlement)"))
        parsed.rows.append(SettlementRow(number, values))
        parsed.amounts.append(amounts)
    if not errors and parsed.total is not None:
        _tie(parsed, errors)
    parsed.errors = sorted(errors, key=lambda e: (e.line or 0))
    return parsed


def _tie(parsed: ParsedSettlement, errors: list[SettlementFileError]) -> None:
    """The header's total-amount must equal the sum of the rows to the cent: otherwise rows are missing (a
    download cut at a line end) or the file was altered, and posting it would put the books off the bank."""
    total, rows_total = parsed.total or Decimal(0), parsed.rows_total()
    try:
        differs = quantize(total, parsed.currency) != quantize(rows_total, parsed.currency)
    except InvalidOperation:  # pragma: no cover - amounts are bounded by the pattern
        differs = total != rows_total
    if differs:
        currency = parsed.currency
        errors.append(SettlementFileError(
            parsed.origin, parsed.summary_line, "total-amount",
            f"the header's total-amount {total} {currency} differs from the sum of the {len(parsed.rows)} rows, "
            f"{rows_total} {currency} (by {total - rows_total}): the file is incomplete or altered"))


def _header(line: str, origin: str, number: int) -> list[str]:
    text = line.strip()
    if text.startswith("<"):
        raise SettlementFileError(origin, number, None,
                                  "this is XML (the XML settlement report?), not a settlement flat file; download "
                                  f"{REPORT_TYPE_V2} instead")
    columns = [c.strip().lower() for c in line.rstrip("\r\n").split("\t")]
    if len(columns) == 1 and "," in text:
        raise SettlementFileError(origin, number, None,
                                  "comma-separated; Amazon's settlement flat files are tab-separated (was the file "
                                  "re-saved from a spreadsheet?)")
    missing = [c for c in _REQUIRED if c not in columns]
    amounts_v1 = [c for c in V1_AMOUNT_COLUMNS if c in columns]
    if missing or ("amount" not in columns and not amounts_v1):
        lacking = missing + ([] if ("amount" in columns or amounts_v1) else ["amount"])
        raise SettlementFileError(origin, number, lacking[0],
                                  f"not a settlement flat file: the header has no {', '.join(lacking)} column "
                                  f"(expected {REPORT_TYPE_V2} or {REPORT_TYPE_V1}, tab-separated)")
    if "amount" in columns and amounts_v1:
        raise SettlementFileError(origin, number, amounts_v1[0],
                                  "the header mixes the V2 `amount` column with V1 amount columns")
    seen: set[str] = set()
    for c in columns:
        if c and c in seen:
            raise SettlementFileError(origin, number, c, "the column appears twice in the header")
        seen.add(c)
    return columns


def _decimal_mark(texts: Iterable[str]) -> str:
    """`,` when any amount can only be read with a decimal comma (`12,30`, `1.234,56`), else `.`."""
    for text in texts:
        if not text or _PLAIN.match(text):
            continue
        dot, comma = bool(_DOT.match(text)), bool(_COMMA.match(text))
        if comma and not dot:
            return ","
        if dot and not comma:
            return "."
    return "."


def _amount(text: str, mark: str, origin: str, line: int, column: str,
            errors: list[SettlementFileError]) -> Decimal | None:
    """One amount in the file's decimal mark; anything else is an error at (line, column)."""
    if not text:
        return None
    pattern = _COMMA if mark == "," else _DOT
    if pattern.match(text):
        plain = text.replace(".", "").replace(",", ".") if mark == "," else text.replace(",", "")
        try:
            return Decimal(plain)
        except InvalidOperation:  # pragma: no cover - the pattern admits only digits
            pass
    other = _DOT if mark == "," else _COMMA
    why = (f"uses a decimal {'point' if mark == ',' else 'comma'}, the rest of the file a decimal "
           f"{'comma' if mark == ',' else 'point'}") if other.match(text) else "is not an amount"
    errors.append(SettlementFileError(origin, line, column, f"{text!r} {why}"))
    return None
