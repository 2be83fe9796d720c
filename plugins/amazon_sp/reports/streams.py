"""The report streams: each reads one report type through the engine (`engine.ReportsEngine`) into records.

A stream reads its report type window by window (at most `report_window_days` each). Every row of a window's
document is parsed before the first is yielded, and STATE moves only after the whole window: a truncated
document or a crash stages nothing half-read, and a resumed run starts again at the first unread window.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Iterator

from ledgerlink import CHECKPOINT, Checkpoint, HttpClient, PermanentError, Stream, protocol

from ..timestamps import SETTLE_DELAY, format_time, parse_time
from ..stream_schemas import stream_schema
from .engine import ReportsEngine, parse_table

__all__ = ["ReportStream", "FbaCustomerReturnsStream", "FbaInventoryLedgerStream", "FbaReimbursementsStream",
           "AllOrdersReportStream", "FbaShipmentsStream", "engine_for"]

class ReportStream(Stream):
    """A report type read in date windows from `start_date` (or the saved `dataEndTime`) to now.

    State is `{"dataEndTime": <end of the last window read>}`; `lookback_minutes` re-reads before it (FBA
    reports are updated daily, so late rows appear in windows already read; primary keys deduplicate)."""

    report_type: ClassVar[str]
    state_field: ClassVar[str] = "dataEndTime"
    #: report options sent with createReport
    report_options: ClassVar[dict[str, str]] = {}

    def __init__(self, config: Any, client: HttpClient, *, engine: ReportsEngine | None = None,
                 now: datetime | None = None):
        super().__init__(config)
        self.client = client
        self.engine = engine or engine_for(config, client)
        self._now = now

    @classmethod
    def airbyte_stream(cls) -> protocol.Stream:
        """Incremental by the report's date window (the state), whatever the rows' own date columns say."""
        stream = super().airbyte_stream()
        stream.supported_sync_modes = [protocol.SyncMode.full_refresh, protocol.SyncMode.incremental]
        stream.source_defined_cursor = True
        stream.is_resumable = True
        return stream

    def observe(self, record: dict[str, Any]) -> None:
        """Rows do not move the state: a completed window does."""

    def windows(self, state: dict[str, Any]) -> Iterator[tuple[datetime, datetime]]:
        start = getattr(self.config, "start_date")
        saved = state.get(self.state_field)
        if saved:
            lookback = timedelta(minutes=getattr(self.config, "lookback_minutes", 0) or 0)
            start = max(parse_time(str(saved)) - lookback, start)
        end = ((self._now or datetime.now(timezone.utc)) - SETTLE_DELAY).replace(microsecond=0)
        step = timedelta(days=getattr(self.config, "report_window_days", 30))
        after = start.astimezone(timezone.utc).replace(microsecond=0)
        while after < end:
            before = min(after + step, end)
            yield after, before
            after = before

    def rows(self, text: str) -> list[dict[str, Any]]:
        try:
            return parse_table(text, source=f"{self.report_type} document")
        except ValueError as exc:
            raise PermanentError(f"{self.name}: {exc}", operation="parseReport", code="UnreadableReport",
                                 hint="the report's rows do not fit its header; report it with the document") from None

    def records(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows → records (the rows themselves, by default)."""
        return rows

    def read_records(self, state: dict[str, Any]) -> Iterator[dict[str, Any] | Checkpoint | protocol.Message]:
        self.state = dict(state)
        markets = list(getattr(self.config, "marketplace_ids"))
        try:
            for start, end in self.windows(state):
                text = self.engine.run(self.report_type, marketplace_ids=markets, start=start, end=end,
                                       options=dict(self.report_options) or None)
                records = self.records(self.rows(text)) if text.strip() else []  # all parsed before any is yielded
                yield from records
                self.state = {self.state_field: format_time(end)}
                yield CHECKPOINT
        finally:
            self.engine.close()  # the download client; the next stream opens its own


class FbaCustomerReturnsStream(ReportStream):
    """FBA customer returns (`GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA`): one row per returned unit batch,
    with `detailed-disposition` (SELLABLE, CUSTOMER_DAMAGED, …) that a later flow joins to refunds."""

    name: ClassVar[str] = "fba_customer_returns"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("fba_customer_returns")
    report_type: ClassVar[str] = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA"
    primary_key: ClassVar[list[str]] = ["order-id", "sku", "license-plate-number", "return-date"]


class FbaInventoryLedgerStream(ReportStream):
    """FBA inventory ledger, detailed view (`GET_LEDGER_DETAIL_VIEW_DATA`): every movement of stock in and
    out of Amazon's fulfilment centres. Rows carry no id: the key is the movement's own columns."""

    name: ClassVar[str] = "fba_inventory_ledger"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("fba_inventory_ledger")
    report_type: ClassVar[str] = "GET_LEDGER_DETAIL_VIEW_DATA"
    primary_key: ClassVar[list[str]] = ["Date", "FNSKU", "MSKU", "EventType", "ReferenceID", "FulfillmentCenter",
                                        "Disposition", "Reason", "Country", "Quantity"]


class FbaReimbursementsStream(ReportStream):
    """FBA reimbursements (`GET_FBA_REIMBURSEMENTS_DATA`): cash and inventory Amazon paid back for lost,
    damaged or unreturned units. One row per reimbursement id and SKU."""

    name: ClassVar[str] = "fba_reimbursements"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("fba_reimbursements")
    report_type: ClassVar[str] = "GET_FBA_REIMBURSEMENTS_DATA"
    primary_key: ClassVar[list[str]] = ["reimbursement-id", "sku"]


class AllOrdersReportStream(ReportStream):
    """Every order updated in a window (`GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL`), for back-fill:
    one report of 30 days carries what getOrders + getOrderItems need 1 + N/100 + N calls for.

    The report has one row per order item; a record is one order: `amazon-order-id`, `last-updated-date` and
    its `rows`, unchanged, so an order's items are staged (and replaced) together."""

    name: ClassVar[str] = "all_orders_report"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("all_orders_report")
    report_type: ClassVar[str] = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
    primary_key: ClassVar[str] = "amazon-order-id"
    cursor_field: ClassVar[str] = "last-updated-date"

    def read_records(self, state: dict[str, Any]) -> Iterator[dict[str, Any] | Checkpoint | protocol.Message]:
        """Only with `backfill: reports`: otherwise getOrders reads the history, and a default read (or a
        pipeline's default streams) must not create an all-orders report on every run."""
        if getattr(self.config, "backfill", "api") != "reports":
            self.state = dict(state)
            yield protocol.log("WARN", "all_orders_report: skipped, the config's backfill is 'api' (set backfill: "
                                       "reports to back-fill orders from the all-orders report)")
            return
        yield from super().read_records(state)

    def records(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        orders: dict[str, dict[str, Any]] = {}
        for row in rows:
            order_id = row.get("amazon-order-id") or ""
            order = orders.setdefault(order_id, {"amazon-order-id": order_id, "last-updated-date": "", "rows": []})
            order["rows"].append(row)
            order["last-updated-date"] = max(order["last-updated-date"], row.get("last-updated-date") or "")
        return list(orders.values())


def engine_for(config: Any, client: HttpClient) -> ReportsEngine:
    """The engine with the config's polling and retry settings."""
    return ReportsEngine(
        client, poll_interval=getattr(config, "report_poll_seconds", 0.2),
        max_wait=60.0 * getattr(config, "report_max_wait_minutes", 120.0),
        fatal_attempts=getattr(config, "report_fatal_attempts", 3),
        cooldown=getattr(config, "report_retry_cooldown_seconds", 60.0))



class FbaShipmentsStream(ReportStream):
    """What Amazon shipped for FBA orders (`GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL`), with carrier and
    tracking. The report has one row per shipped item; a record is one shipment: `shipment-id`, its order and
    its `rows`, so a shipment's items are staged together."""

    name: ClassVar[str] = "fba_shipments"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("fba_shipments")
    report_type: ClassVar[str] = "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL"
    primary_key: ClassVar[str] = "shipment-id"

    def records(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        shipments: dict[str, dict[str, Any]] = {}
        for row in rows:
            shipment_id = row.get("shipment-id") or ""
            shipment = shipments.setdefault(shipment_id, {"shipment-id": shipment_id,
                                                          "amazon-order-id": row.get("amazon-order-id") or "",
                                                          "rows": []})
            shipment["rows"].append(row)
        return list(shipments.values())
