"""The source's streams: one per QuickBooks entity, read incrementally by `Metadata.LastUpdatedTime`.

Records are QBO's own objects plus two fields ledgerlink adds: `ledgerlink_updated_at` (the object's
`MetaData.LastUpdatedTime` in UTC, `2026-11-22T17:15:03Z`: the cursor, which staging compares as text, so every
value must be in one zone) and `ledgerlink_deleted` (true on the `{"Id", "status": "Deleted"}` stubs change
data capture reports for deleted transactions, so staging replaces the object that was deleted).

How a stream reads:

- First run, or the last one more than 29 days ago (CDC looks back 30), or `change_data_capture: false`:
  `select * from X where Metadata.LastUpdatedTime >= '<cursor>' orderby Metadata.LastUpdatedTime
  startposition N maxresults 1000`, paged by time (each full page restarts at its last time stamp, skipping
  what it already read there; `startposition` only advances through one time stamp shared by a whole page), so
  an object updated during the read moves behind the cursor instead of shifting an unread one out of reach.
  Name lists also ask for `Active in (true, false)`: QBO hides inactive objects from queries otherwise.
- Later runs: `/cdc?entities=X&changedSince=<cursor>` (deletions included). When CDC answers its maximum of
  1000 objects it may have left some out: the deletions it did report are kept and the rest is read by query.
- Items: QuickBooks moves `QtyOnHand` with every sale and adjustment without touching the item's
  LastUpdatedTime (the sandbox models this), so inventory items are read in full on every run as well.

After a complete read the cursor moves up to the server's time of the first answer less `SETTLE` (5 minutes),
even when nothing changed, so a quiet stream stays inside CDC's window; the overlap re-reads at most five
minutes of changes, which staging keeps once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, ClassVar, Generator, Iterator

from ledgerlink import CHECKPOINT, Checkpoint, Stream, protocol

from .client import NAME_LIST_ENTITIES, QboApi, escape
from .config import QboSourceConfig
from .stream_schemas import stream_schema

__all__ = ["QboStream", "ItemsStream", "STREAMS", "CURSOR", "DELETED", "CDC_MAX_OBJECTS", "CDC_WINDOW", "SETTLE",
           "utc_text"]

log = logging.getLogger("ledgerlink.qbo.source")

CURSOR = "ledgerlink_updated_at"
DELETED = "ledgerlink_deleted"
#: Intuit: CDC answers at most 1000 objects and looks back at most 30 days (a day's margin for clocks)
CDC_MAX_OBJECTS = 1000
CDC_WINDOW = timedelta(days=29)
#: how far behind the server's clock a completed read leaves the cursor (changes still being committed)
SETTLE = timedelta(minutes=5)


def utc_text(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _updated(obj: dict[str, Any]) -> str | None:
    when = _instant((obj.get("MetaData") or {}).get("LastUpdatedTime"))
    return utc_text(when) if when else None


class QboStream(Stream):
    """One QuickBooks entity as a stream. Subclasses set `name` and `entity`."""

    entity: ClassVar[str]
    primary_key: ClassVar[str] = "Id"
    cursor_field: ClassVar[str] = CURSOR
    json_schema: ClassVar[dict[str, Any]] = {
        "type": "object", "additionalProperties": True, "required": ["Id"],
        "properties": {
            "Id": {"type": "string"},
            "SyncToken": {"type": "string"},
            "MetaData": {"type": "object", "properties": {"CreateTime": {"type": "string", "format": "date-time"},
                                                          "LastUpdatedTime": {"type": "string",
                                                                              "format": "date-time"}}},
            CURSOR: {"type": ["string", "null"], "format": "date-time",
                     "description": "MetaData.LastUpdatedTime in UTC (added by ledgerlink; the cursor)"},
            DELETED: {"type": "boolean",
                      "description": "true when QuickBooks reported the object deleted (added by ledgerlink)"},
        }}

    def __init__(self, config: QboSourceConfig, api: QboApi, *, now: Callable[[], datetime] | None = None):
        super().__init__(config)
        self.config: QboSourceConfig = config
        self.api = api
        self._now = now or (lambda: datetime.now(timezone.utc))

    # ------------------------------------------------------------------------------------------ reading

    def read_records(self, state: dict[str, Any]) -> Iterator[dict[str, Any] | Checkpoint | protocol.Message]:
        self.state = dict(state)
        since = _instant(self.state.get(CURSOR))
        complete = False
        if since is not None and self.config.change_data_capture and self._now() - since < CDC_WINDOW:
            complete = yield from self._read_changes(since)
        if not complete:
            yield from self._read_by_query(since or self.config.start_date)
        yield from self._read_extra()

    def _read_changes(self, since: datetime) -> Generator[dict[str, Any] | Checkpoint, None, bool]:
        """One CDC call. True when it said everything; False when it hit its cap and queries must follow
        (its deletions are yielded all the same: a query cannot see a deleted object)."""
        changes, server_time = self.api.changes([self.entity], since)
        rows = changes.get(self.entity, [])
        capped = len(rows) >= CDC_MAX_OBJECTS
        if capped:
            log.warning("qbo: change data capture answered its %d-object maximum for %s; reading it by query "
                        "(deletions beyond those reported are not seen)", CDC_MAX_OBJECTS, self.entity)
        for obj in rows:
            deleted = str(obj.get("status", "")).lower() == "deleted"
            if capped and not deleted:
                continue  # the query below reads it again, in order
            record = self._record(obj)
            if not capped:  # capped: the query's checkpoints must not run ahead of what it has read
                self.observe(record)
            yield record
        if capped:
            return False
        self._settle(server_time)
        yield CHECKPOINT
        return True

    def _read_by_query(self, since: datetime) -> Iterator[dict[str, Any] | Checkpoint]:
        """Pages ordered by LastUpdatedTime, each starting at the last time stamp of the one before."""
        size = self.config.page_size
        at, position, first_time = since, 1, None
        seen: set[str] = set()  # Ids already read at the time stamp `at`
        active = " and Active in (true, false)" if self.entity in NAME_LIST_ENTITIES else ""
        while True:
            statement = (f"select * from {self.entity} where Metadata.LastUpdatedTime >= "
                         f"{escape(at.astimezone(timezone.utc).isoformat())}{active} "
                         f"orderby Metadata.LastUpdatedTime startposition {position} maxresults {size}")
            rows, server_time = self.api.query_page(statement)
            first_time = first_time or server_time
            for obj in rows:
                record = self._record(obj)
                if record[CURSOR] == utc_text(at) and str(record.get("Id")) in seen:
                    continue
                self.observe(record)
                yield record
            if len(rows) < size:
                break
            last = _instant(rows[-1].get("MetaData", {}).get("LastUpdatedTime"))
            if last is not None and utc_text(last) > utc_text(at):
                at, position = last, 1
                seen = {str(r.get("Id")) for r in rows if _updated(r) == utc_text(last)}
            else:  # a whole page at one time stamp: step through it
                position += len(rows)
                seen |= {str(r.get("Id")) for r in rows}
            yield CHECKPOINT
        self._settle(first_time)
        yield CHECKPOINT

    # ------------------------------------------------------------------------------------- override point

    def _read_extra(self) -> Iterator[dict[str, Any] | Checkpoint]:
        """What a stream reads in full on every run besides its changes (nothing by default)."""
        return iter(())

    # ---------------------------------------------------------------------------------------------- helpers

    @staticmethod
    def _record(obj: dict[str, Any]) -> dict[str, Any]:
        """QBO's object with the cursor and the deleted flag added. One without an Id or an update time is
        passed on all the same: the runtime dead-letters a record it cannot key, and stages one without a
        cursor over whatever it had."""
        return {**obj, CURSOR: _updated(obj), DELETED: str(obj.get("status", "")).lower() == "deleted"}

    def _settle(self, server_time: str | None) -> None:
        """Everything up to the server's time less SETTLE has been read: the cursor may move up to there (not
        by our own clock, which may run ahead of Intuit's)."""
        when = _instant(server_time)
        if when is None:
            return
        settled = utc_text(when - SETTLE)  # SETTLE read at call time: tests set it to zero
        if settled > str(self.state.get(CURSOR) or ""):
            self.state[CURSOR] = settled


class ItemsStream(QboStream):
    """Items, and every inventory item in full each run (QtyOnHand moves without a new LastUpdatedTime)."""

    name: ClassVar[str] = "items"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("items", QboStream.json_schema)
    entity: ClassVar[str] = "Item"

    def _read_extra(self) -> Iterator[dict[str, Any] | Checkpoint]:
        size, position = self.config.page_size, 1
        while True:
            rows, _ = self.api.query_page(f"select * from Item where Type = 'Inventory' and Active in (true, false) "
                                          f"orderby Id startposition {position} maxresults {size}")
            for obj in rows:
                yield self._record(obj)  # not observed: these say nothing about what else changed meanwhile
            yield CHECKPOINT
            if len(rows) < size:
                return
            position += len(rows)


class CustomersStream(QboStream):
    name: ClassVar[str] = "customers"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("customers", QboStream.json_schema)
    entity: ClassVar[str] = "Customer"


class AccountsStream(QboStream):
    name: ClassVar[str] = "accounts"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("accounts", QboStream.json_schema)
    entity: ClassVar[str] = "Account"


class SalesReceiptsStream(QboStream):
    name: ClassVar[str] = "sales_receipts"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("sales_receipts", QboStream.json_schema)
    entity: ClassVar[str] = "SalesReceipt"


class InvoicesStream(QboStream):
    name: ClassVar[str] = "invoices"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("invoices", QboStream.json_schema)
    entity: ClassVar[str] = "Invoice"


class PaymentsStream(QboStream):
    name: ClassVar[str] = "payments"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("payments", QboStream.json_schema)
    entity: ClassVar[str] = "Payment"


class CreditMemosStream(QboStream):
    name: ClassVar[str] = "credit_memos"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("credit_memos", QboStream.json_schema)
    entity: ClassVar[str] = "CreditMemo"


class RefundReceiptsStream(QboStream):
    name: ClassVar[str] = "refund_receipts"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("refund_receipts", QboStream.json_schema)
    entity: ClassVar[str] = "RefundReceipt"


class JournalEntriesStream(QboStream):
    name: ClassVar[str] = "journal_entries"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("journal_entries", QboStream.json_schema)
    entity: ClassVar[str] = "JournalEntry"


class DepositsStream(QboStream):
    name: ClassVar[str] = "deposits"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("deposits", QboStream.json_schema)
    entity: ClassVar[str] = "Deposit"


class TaxCodesStream(QboStream):
    """Sales tax codes (a US company on automated sales tax has the pseudo codes TAX and NON only)."""

    name: ClassVar[str] = "tax_codes"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("tax_codes", QboStream.json_schema)
    entity: ClassVar[str] = "TaxCode"


class PaymentMethodsStream(QboStream):
    name: ClassVar[str] = "payment_methods"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("payment_methods", QboStream.json_schema)
    entity: ClassVar[str] = "PaymentMethod"


class ClassesStream(QboStream):
    name: ClassVar[str] = "classes"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("classes", QboStream.json_schema)
    entity: ClassVar[str] = "Class"


class DepartmentsStream(QboStream):
    """Departments: what QuickBooks Online's screens call locations."""

    name: ClassVar[str] = "departments"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("departments", QboStream.json_schema)
    entity: ClassVar[str] = "Department"


#: in reading order, names before documents (stream names as Airbyte's source-quickbooks has them)
STREAMS: list[type[QboStream]] = [
    CustomersStream, ItemsStream, AccountsStream, TaxCodesStream, PaymentMethodsStream, ClassesStream,
    DepartmentsStream, SalesReceiptsStream, InvoicesStream, PaymentsStream, CreditMemosStream,
    RefundReceiptsStream, JournalEntriesStream, DepositsStream,
]
