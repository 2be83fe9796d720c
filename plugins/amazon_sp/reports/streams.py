"""The report streams: each reads one report type through the engine (`engine.ReportsEngine`) into records.

A stream reads its report type window by window (at most `report_window_days` each). Every row of a window's
document is parsed before the first is yielded, and STATE moves only after the whole window: a truncated
document or a crash stages nothing half-read, and a resumed run starts again at the first unread window.

A report requested is saved in the STATE at once (`pendingReport`: its id, type, window, when requested), so it
is never requested twice for one window: a run that may not wait for it any longer (`wait_in_run_budget`, a
fleet worker's) ends the stream `waiting` until the time to look again, and the next run asks Amazon about that
report (getReport) instead of creating another.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Generator, Iterator

from ledgerlink import (CHECKPOINT, Checkpoint, HttpClient, PermanentError, Stream, protocol, wait_in_run_budget,
                        waiting_state)

from ..timestamps import SETTLE_DELAY, format_time, parse_time
from ..stream_schemas import stream_schema
from .engine import ReportsEngine, parse_table

log = logging.getLogger("ledgerlink.amazon_sp.reports")

#: the STATE key of the report requested and not yet read: {"reportId", "reportType", "dataStartTime",
#: "dataEndTime", "requestedAt", "pollSeconds", "fatal", "cancelled"}; `reportId` null with `createAfter`: a
#: FATAL or CANCELLED report is to be requested again after its cooldown
PENDING = "pendingReport"

__all__ = ["ReportStream", "FbaCustomerReturnsStream", "FbaInventoryLedgerStream", "FbaReimbursementsStream",
           "AllOrdersReportStream", "FbaShipmentsStream", "engine_for"]

class ReportStream(Stream):
    """A report type read in date windows from `start_date` (or the saved `dataEndTime`) to now.

    State is `{"dataEndTime": <end of the last window read>}`, with `pendingReport` and `waiting` while a report
    is awaited; `lookback_minutes` re-reads before it (FBA reports are updated daily, so late rows appear in
    windows already read; primary keys deduplicate)."""

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
        """The windows to read: the awaited report's first (its window exactly), then on to now, unless less than
        `report_min_window_minutes` of new time has passed since the last window read."""
        start = getattr(self.config, "start_date")
        saved = state.get(self.state_field)
        pending = _pending(state)
        new_from = start
        if pending is not None:
            first = (parse_time(pending["dataStartTime"]), parse_time(pending["dataEndTime"]))
            yield first
            start = new_from = first[1]
        elif saved:
            lookback = timedelta(minutes=getattr(self.config, "lookback_minutes", 0) or 0)
            new_from = max(parse_time(str(saved)), start)
            start = max(parse_time(str(saved)) - lookback, start)
        end = ((self._now or datetime.now(timezone.utc)) - SETTLE_DELAY).replace(microsecond=0)
        if end - new_from < timedelta(minutes=float(getattr(self.config, "report_min_window_minutes", 0) or 0)):
            return
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
        pending = _pending(state)
        try:
            for start, end in self.windows(state):
                text = yield from self._report_text(start, end, markets, pending)
                pending = None
                if text is None:
                    return  # waiting: the STATE just committed says for which report and until when
                records = self.records(self.rows(text)) if text.strip() else []  # all parsed before any is yielded
                yield from records
                self.state = {self.state_field: format_time(end)}
                yield CHECKPOINT
        finally:
            self.engine.close()  # the download client; the next stream opens its own

    def _budget(self) -> float:
        """Seconds this run may wait for one report: the engine's `max_wait`, or less if the sync says so."""
        asked = wait_in_run_budget()
        return self.engine.max_wait if asked is None else min(asked, self.engine.max_wait)

    def _report_text(self, start: datetime, end: datetime, markets: list[str],
                     pending: dict[str, Any] | None) -> Generator[Checkpoint, None, str | None]:
        """The window's report text, or None when this run may wait no longer (the STATE then says so).

        The report (`pending`, if one was requested by an earlier run) is asked about at once; a new one is
        saved in the STATE as soon as Amazon gives its id. FATAL is requested again after the cooldown up to
        `fatal_attempts` in all, then raises; CANCELLED reads as empty, as `ReportsEngine.run` does."""
        engine, budget, began = self.engine, self._budget(), _now()
        base = {k: v for k, v in self.state.items() if k not in (PENDING, "waiting")}
        wanted = {"reportType": self.report_type, "dataStartTime": format_time(start), "dataEndTime": format_time(end)}
        p: dict[str, Any] = ({**pending, **wanted} if pending is not None
                             else {**wanted, "reportId": None, "fatal": 0, "cancelled": 0})
        while True:
            left = budget - (_now() - began).total_seconds()
            at_once = p.get("reportId") is not None
            if not at_once:
                gap = (parse_time(p["createAfter"]) - _now()).total_seconds() if p.get("createAfter") else 0.0
                if gap > max(left, 0.0):  # the cooldown after a FATAL report outlasts this run's wait
                    yield from self._wait(base, p, f"a new {self.report_type} report (cooldown after "
                                          f"{'FATAL' if p.get('fatal') else 'CANCELLED'})", parse_time(p["createAfter"]))
                    return None
                if gap > 0:
                    engine.sleep(gap)
                p.pop("createAfter", None)
                p["reportId"] = engine.create(self.report_type, marketplace_ids=markets, start=start, end=end,
                                              options=dict(self.report_options) or None)
                p["requestedAt"], p["pollSeconds"] = format_time(_now()), engine.poll_interval
                # committed before the first poll: whatever happens next, this window's report is not asked twice
                yield from self._wait(base, p, self._what(p, "IN_QUEUE"), _now())
                left = budget - (_now() - began).total_seconds()
            interval = float(p.get("pollSeconds") or 0) or None  # (a state read back holds Decimals)
            polled = engine.poll(p["reportId"], budget=max(left, 0.0), interval=interval, at_once=at_once)
            report, status = polled.report, polled.report["processingStatus"]
            if not polled.done:
                p["pollSeconds"] = polled.next_interval
                look_again = max(polled.next_interval, float(getattr(self.config, "report_look_again_seconds", 60)))
                yield from self._wait(base, p, self._what(p, status), _now() + timedelta(seconds=look_again))
                log.info("%s: report %s still %s; the next run asks again (no new report)", self.name,
                         p["reportId"], status)
                return None
            if status == "DONE":
                document_id = report.get("reportDocumentId")
                try:
                    return engine.document_text(document_id) if document_id else ""
                except PermanentError:
                    self.state = base  # an unreadable document: the next run requests the window again
                    yield CHECKPOINT
                    raise
            cooldown = _now() + timedelta(seconds=engine.cooldown)
            if status == "CANCELLED":
                p["cancelled"] = int(p.get("cancelled") or 0) + 1
                if p["cancelled"] >= engine.cancelled_attempts:
                    log.info("%s report %s was CANCELLED (no data for its window, or cancelled by someone): read as "
                             "empty", self.report_type, p["reportId"])
                    return ""
                log.warning("%s report %s was CANCELLED; asking again after %.0fs", self.report_type, p["reportId"],
                            engine.cooldown)
            else:  # FATAL
                p["fatal"] = int(p.get("fatal") or 0) + 1
                reason = engine.error_reason(report)
                if p["fatal"] >= engine.fatal_attempts:
                    failed = p["reportId"]
                    self.state = base  # given up: the next run requests the window afresh, as before
                    yield CHECKPOINT
                    raise PermanentError(
                        f"{self.report_type} report {failed} for {p['dataStartTime']}..{p['dataEndTime']} ended "
                        f"FATAL ({p['fatal']} attempt{'s' if p['fatal'] > 1 else ''})" + (f": {reason}" if reason else ""),
                        operation="getReport", code="FATAL", remote_message=reason or None,
                        hint="Amazon could not produce the report; check the date range and marketplaces, or ask "
                             "Amazon support about the report id")
                log.warning("%s report %s ended FATAL%s; creating it again after %.0fs", self.report_type,
                            p["reportId"], f" ({reason})" if reason else "", engine.cooldown)
            p["reportId"], p["createAfter"] = None, format_time(cooldown)

    def _what(self, p: dict[str, Any], status: str) -> str:
        return f"Amazon report {p['reportId']} ({self.report_type}, {status})"

    def _wait(self, base: dict[str, Any], p: dict[str, Any], what: str,
              until: datetime) -> Iterator[Checkpoint]:
        """Save the awaited report and what the stream waits for; the runtime commits this STATE at once."""
        self.state = {**base, PENDING: dict(p), "waiting": waiting_state(what, until)}
        yield CHECKPOINT


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


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _pending(state: dict[str, Any]) -> dict[str, Any] | None:
    """The report an earlier run requested and did not read, if the state holds a usable one."""
    value = state.get(PENDING) if isinstance(state, dict) else None
    if not isinstance(value, dict) or not value.get("dataStartTime") or not value.get("dataEndTime"):
        return None
    try:
        parse_time(str(value["dataStartTime"])), parse_time(str(value["dataEndTime"]))
    except ValueError:
        return None
    return value


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
