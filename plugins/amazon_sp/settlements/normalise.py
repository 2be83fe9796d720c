"""A staged `settlements` record → the canonical `Settlement`, or a `RecordError` that holds it back.

A settlement is all or nothing: one unreadable row, a header total that differs from the sum of the rows
(to the cent), a format error or a conflicting duplicate, and the whole settlement is a dead letter whose
message names the file (or report) and the line. Posting part of a payout would put the bank out of step.

Every amount becomes a `SettlementLine` that keeps its row (the line number in the file): one per V2 row,
one per filled amount column of a V1 row, V1 columns named with the V2 `amount-type` they correspond to
(`price-amount` → `ItemPrice`, …) and `amount_column` saying which column it was.
"""

from __future__ import annotations

import functools

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from ledgerlink import EARLIEST_DATE, LATEST_DATE, Fee, Money, RecordError, Settlement, SettlementLine, quantize

from .parser import FLAT_FILE_V1, V1_AMOUNT_COLUMNS, SettlementFileError, collector_paused

__all__ = ["normalise_settlement", "parse_report_time", "FEE_AMOUNT_TYPES", "FEE_TRANSACTION_TYPES",
           "PREVIOUS_RESERVE", "CURRENT_RESERVE"]

STREAM = "settlements"
PREVIOUS_RESERVE = "Previous Reserve Amount Balance"
CURRENT_RESERVE = "Current Reserve Amount"
#: amount types whose lines are fees (`Settlement.fees` is a convenience view of `lines`)
FEE_AMOUNT_TYPES = frozenset({"ItemFees", "ShipmentFees", "OrderFees", "MiscFees", "OtherFees", "Cost of Advertising"})
FEE_TRANSACTION_TYPES = frozenset({"ServiceFee", "Storage Fee", "Subscription Fee", "Inbound Transportation Fee",
                                   "FBAFees", "Cost of Advertising", "StorageRenewalBilling", "RemovalComplete",
                                   "DisposalComplete", "Long-Term Storage Fee"})
_ZONES = {"UTC": 0, "GMT": 0, "Z": 0, "PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "CST": -6, "CDT": -5, "EST": -5,
          "EDT": -4, "BST": 1, "CET": 1, "CEST": 2, "JST": 9}
_ZONE = re.compile(r"^(.*?)\s*\b([A-Z]{1,4})$")
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y", "%Y/%m/%d %H:%M:%S",
            "%Y/%m/%d")
_SLASH = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


#: more units than one settlement row can hold: a damaged cell
_MAX_QUANTITY = Decimal(10_000_000)


@functools.lru_cache(maxsize=8192)  # a report repeats its dates: 100,000 rows hold a few thousand distinct ones
def parse_report_time(text: str) -> datetime:
    """A date as settlement reports print them: ISO 8601 with an offset (`2025-08-14T22:07:18+00:00`),
    `2026-01-05 14:03:00 UTC`, EU `05.01.2026 14:03:00 UTC`, or the V2 `posted-date` `01/05/26` (month first, as
    Amazon's changelog documents, unless the first number cannot be a month). Without a zone: UTC."""
    value = text.strip()
    if value.endswith(" UTC") and value[:4].isdigit():  # the V2 files' own form, `2026-01-05 14:03:00 UTC`
        try:
            return datetime.fromisoformat(value[:-4]).replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    except ValueError:
        pass
    offset = 0
    match = _ZONE.match(value)
    if match and match.group(2) in _ZONES:
        value, offset = match.group(1), _ZONES[match.group(2)]
    zone = timezone(timedelta(hours=offset))
    slash = _SLASH.match(value)
    if slash:
        first, second, year = int(slash.group(1)), int(slash.group(2)), int(slash.group(3))
        month, day = (second, first) if first > 12 else (first, second)
        year += 2000 if year < 100 else 0
        hour, minute, sec = (int(slash.group(i) or 0) for i in (4, 5, 6))
        return datetime(year, month, day, hour, minute, sec, tzinfo=zone)
    for fmt in _FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date")


def _fail(record: dict[str, Any], error: SettlementFileError, more: int = 0, hint: str | None = None) -> RecordError:
    key = str(record.get("settlement_id") or record.get("origin") or "?")
    extra = f" (and {more} more problem{'s' if more > 1 else ''} in this settlement)" if more else ""
    return RecordError(f"{error}{extra}; nothing of this settlement is posted", stream=STREAM, key=key,
                       field=error.column, hint=hint or "fix or re-download the file (or report), then `ledgerlink "
                                                       "dlq retry`; the rest of the run is unaffected")


def normalise_settlement(record: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Settlement]:
    """One staged settlement → one canonical Settlement whose lines sum to its total, exactly."""
    with collector_paused():  # a line (and its dict) per row: see `collector_paused`
        return _normalise(record)


def _normalise(record: dict[str, Any]) -> list[Settlement]:
    origin = str(record.get("origin") or "?")
    errors = [SettlementFileError.from_dict(e) for e in record.get("errors") or []]
    if errors:
        hint = record.get("hint")
        raise _fail(record, errors[0], len(errors) - 1, hint)
    summary = record.get("summary") or {}
    summary_line = int(record.get("summary_line") or 0)
    settlement_id = str(record.get("settlement_id") or "")
    currency = str(summary.get("currency") or "").upper()
    mark = str(record.get("decimal_mark") or ".")

    def located(line: int | None, column: str | None, message: str) -> RecordError:
        return _fail(record, SettlementFileError(origin, line, column, message))

    def amount(text: str, line: int, column: str) -> Decimal:
        plain = text.replace(".", "").replace(",", ".") if mark == "," else text.replace(",", "")
        try:
            return Decimal(plain)
        except InvalidOperation:
            raise located(line, column, f"{text!r} is not an amount") from None

    # amounts and dates repeat (every fee of a kind, every row of an order): one object per distinct text
    # (Money is frozen, datetimes immutable), which makes a 100,000-row settlement several times cheaper
    monies: dict[str, Money] = {}
    times: dict[str, datetime] = {}

    def money(text: str, line: int, column: str) -> Money:
        found = monies.get(text)
        if found is None:
            found = monies[text] = Money(amount=amount(text, line, column), currency=currency)
        return found

    def when(values: dict[str, str], line: int, *columns: str) -> datetime | None:
        for column in columns:
            text = values.get(column)
            if text:
                found = times.get(text)
                if found is None:
                    try:
                        found = parse_report_time(text)
                    except ValueError:
                        raise located(line, column, f"{text!r} is not a date") from None
                    if not EARLIEST_DATE <= found < LATEST_DATE:  # a year-1 or year-9999 date is a damaged file
                        raise located(line, column, f"{text!r} is not a plausible date (before 1970 or after 2099)")
                    times[text] = found
                return found
        return None

    try:
        Money.zero(currency)
    except ValueError:
        raise located(summary_line, "currency", f"{currency!r} is not a currency code") from None
    total = amount(str(summary.get("total-amount") or ""), summary_line, "total-amount")
    starts = when(summary, summary_line, "settlement-start-date")
    ends = when(summary, summary_line, "settlement-end-date")
    if starts is None or ends is None:
        column = "settlement-start-date" if starts is None else "settlement-end-date"
        raise located(summary_line, column, "missing from the summary row")
    if ends < starts:
        raise located(summary_line, "settlement-end-date",
                      f"settlement {settlement_id or '?'} ends ({summary['settlement-end-date']}) before it starts "
                      f"({summary['settlement-start-date']})")
    deposit = when(summary, summary_line, "deposit-date")

    v1 = record.get("format") == FLAT_FILE_V1
    # one fields set for every line (and one for every fee) of this settlement: each holds every field, so the
    # only change pydantic makes to it (adding an assigned field's name) changes nothing; 130,000 fewer sets
    # for the collector to walk (and ~200 bytes each) at 100,000 rows
    line_fields, fee_fields = set(_LINE_FIELDS), set(_FEE_FIELDS)
    lines: list[SettlementLine] = []
    append = lines.append
    quantities: dict[tuple[str, str], Decimal] = {}
    counted: dict[str, Decimal] = {}  # quantity texts already read (valid ones only: a bad one raises each time)
    for row in record.get("rows") or []:
        number, values = int(row["line"]), row.get("values") or {}
        get = values.get
        text = get("quantity-purchased")
        if not text:
            quantity = None
        elif type(text) is not str:  # not what the parser stages: read (and refused) as the reference does
            quantity = _quantity(values, number, located)
        else:
            quantity = counted.get(text)
            if quantity is None:
                quantity = counted[text] = _quantity(values, number, located)
        if v1 and quantity is not None and get("order-item-code"):
            quantities[(get("order-id", ""), values["order-item-code"])] = quantity
        text = get("posted-date-time") or get("posted-date")
        posted = times.get(text) if text else None
        if posted is None and text:
            posted = when(values, number, "posted-date-time", "posted-date")
        transaction_type = get("transaction-type", "")
        order_id, sku = get("order-id"), get("sku")
        if v1:
            for column, (amount_type, described_by) in V1_AMOUNT_COLUMNS.items():
                if column in values:
                    append(_line(
                        number, transaction_type, amount_type, get(described_by) if described_by else None,
                        money(values[column], number, column), order_id, sku, posted, values, quantity, column,
                        line_fields))
        else:
            append(_line(number, transaction_type, get("amount-type"), get("amount-description"),
                         money(get("amount", ""), number, "amount"), order_id, sku, posted, values, quantity,
                         "amount", line_fields))
    if quantities:  # V1 gives an item's quantity on a row of its own, without amounts: carry it to the item's lines
        for line in lines:
            if line.quantity is None and line.order_item_code:
                line.quantity = quantities.get((line.order_id or "", line.order_item_code))

    rows_total = sum((line.amount.amount for line in lines), Decimal(0))
    if quantize(rows_total, currency) != quantize(total, currency):
        raise _fail(record, SettlementFileError(
            origin, summary_line, "total-amount",
            f"the header's total-amount {total} {currency} differs from the sum of the {len(record.get('rows') or [])}"
            f" rows, {rows_total} {currency} (by {quantize(total - rows_total, currency)}): the file is incomplete "
            "or altered"))

    # built from the lines' already typed values (texts, a Money, the row number): validating them again per
    # fee was a tenth of normalising a 100,000-row settlement
    fee_words: dict[tuple[Any, ...], bool] = {}  # a report repeats a few dozen (type, kind, description)s
    fees = []
    for line in lines:
        words = (line.amount_type, line.transaction_type, line.amount_description)
        is_fee = fee_words.get(words)
        if is_fee is None:
            is_fee = fee_words[words] = _is_fee(line)
        if is_fee:
            fees.append(_fee(line, fee_fields))
    return [Settlement(
        source="amazon_sp", settlement_id=settlement_id, starts_at=starts, ends_at=ends, deposit_at=deposit,
        total=Money(amount=total, currency=currency), lines=lines, fees=fees, currency=currency,
        previous_reserve=_reserve(lines, PREVIOUS_RESERVE, currency),
        current_reserve=_reserve(lines, CURRENT_RESERVE, currency),
        format=record.get("format"), origin=origin, report_id=record.get("report_id"), summary_row=summary_line,
        row_count=len(record.get("rows") or []))]


_new = object.__new__
_set = object.__setattr__
#: every line is given every field (None where the row has no value), so every line's fields set is all of them
_LINE_FIELDS = frozenset(SettlementLine.model_fields)
_FEE_FIELDS = frozenset(Fee.model_fields)


def _line(row: int, transaction_type: str, amount_type: str | None, amount_description: str | None, amount: Money,
          order_id: str | None, sku: str | None, posted_at: datetime | None, values: dict[str, str],
          quantity: Decimal | None, amount_column: str, fields_set: set[str] | None = None) -> SettlementLine:
    """A SettlementLine from values this module has already parsed and typed (row int, amount a Money built by
    `money`, dates by `parse_report_time`, quantity a Decimal): what `SettlementLine.model_construct` makes of
    them (fields in declared order, every field given), built directly, since a 100,000-row settlement would
    otherwise spend seconds re-checking what was just checked (`tests/perf_settle/` holds the two together).
    `fields_set`: the set of every field name this line shares with its settlement's other lines (see
    `_normalise`); a set of its own without it."""
    get = values.get
    line = _new(SettlementLine)
    _set(line, "__dict__", {
        "row": row, "transaction_type": transaction_type, "amount_type": amount_type,
        "amount_description": amount_description, "amount": amount, "order_id": order_id, "sku": sku,
        "posted_at": posted_at, "marketplace": get("marketplace-name"), "merchant_order_id": get("merchant-order-id"),
        "adjustment_id": get("adjustment-id"), "shipment_id": get("shipment-id"),
        "fulfillment_id": get("fulfillment-id"), "order_item_code": get("order-item-code"),
        "merchant_order_item_id": get("merchant-order-item-id"),
        "merchant_adjustment_item_id": get("merchant-adjustment-item-id"), "promotion_id": get("promotion-id"),
        "quantity": quantity, "amount_column": amount_column})
    _set(line, "__pydantic_fields_set__", set(_LINE_FIELDS) if fields_set is None else fields_set)
    _set(line, "__pydantic_extra__", None)
    _set(line, "__pydantic_private__", None)
    return line


def _fee(line: SettlementLine, fields_set: set[str] | None = None) -> Fee:
    """The fee of a fee line, as `Fee.model_construct` makes it from the line's typed values (every field given;
    `fields_set` as `_line`'s)."""
    fee = _new(Fee)
    _set(fee, "__dict__", {"fee_type": line.amount_description or line.transaction_type, "amount": line.amount,
                           "order_id": line.order_id, "sku": line.sku, "description": line.transaction_type,
                           "row": line.row})
    _set(fee, "__pydantic_fields_set__", set(_FEE_FIELDS) if fields_set is None else fields_set)
    _set(fee, "__pydantic_extra__", None)
    _set(fee, "__pydantic_private__", None)
    return fee


def _quantity(values: dict[str, str], line: int, located: Any) -> Decimal | None:
    text = values.get("quantity-purchased")
    if not text:
        return None
    try:
        quantity = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise located(line, "quantity-purchased", f"{text!r} is not a quantity") from None
    if not quantity.is_finite() or quantity.copy_abs() > _MAX_QUANTITY:
        raise located(line, "quantity-purchased", f"{text!r} is not a quantity (at most {_MAX_QUANTITY:,} units)")
    return quantity


def _is_fee(line: SettlementLine) -> bool:
    if line.amount_type in FEE_AMOUNT_TYPES or line.transaction_type in FEE_TRANSACTION_TYPES:
        return True
    return line.amount_type == "other-transaction" and "fee" in (line.amount_description or "").lower()


def _reserve(lines: list[SettlementLine], description: str, currency: str) -> Money | None:
    found = [line.amount.amount for line in lines
             if line.amount_description == description or line.transaction_type == description]
    return Money(amount=sum(found, Decimal(0)), currency=currency) if found else None
