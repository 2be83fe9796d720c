"""Amazon's Reports API (2021-06-30): one engine for every report type, and the report streams built on it.

The engine walks a report's life: createReport → poll getReport (IN_QUEUE, IN_PROGRESS → DONE, CANCELLED,
FATAL) → getReportDocument → download the presigned URL (it expires after 5 minutes; one fresh
getReportDocument if it has) → gunzip → decode. Report documents are parsed by header name, never by column
position: Amazon adds, renames and reorders columns without notice.

A stream reads its report type window by window (at most `report_window_days` each). Every row of a window's
document is parsed before the first is yielded, and STATE moves only after the whole window: a truncated
document or a crash stages nothing half-read, and a resumed run starts again at the first unread window.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import re
import time
import zlib
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, ClassVar, Iterable, Iterator

import httpx
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from ledgerlink import (
    CHECKPOINT, Address, Checkpoint, Customer, HttpClient, Money, Normaliser, Order, OrderLine, PermanentError,
    RecordError, RemoteError, Shipment, ShipmentLine, SourceRef, Stream, TransientError, protocol, to_decimal,
)

from .client import read_json
from .marketplaces import prices_include_tax
from .normalise import MARKETPLACE_CURRENCY, PAID_STATUSES
from .returns_normalise import normalise_customer_return

__all__ = [
    "ReportsEngine", "parse_table", "parse_xml", "ReportStream", "FbaCustomerReturnsStream",
    "FbaInventoryLedgerStream", "FbaReimbursementsStream", "AllOrdersReportStream", "normalise_all_orders",
    "FbaShipmentsStream", "normalise_fba_shipment",
    "STREAM_CLASSES", "NORMALISERS", "streams", "REPORTS_PATH", "DOCUMENTS_PATH",
]

log = logging.getLogger("ledgerlink.amazon_sp.reports")

REPORTS_PATH = "/reports/2021-06-30/reports"
DOCUMENTS_PATH = "/reports/2021-06-30/documents/{reportDocumentId}"
#: processing has ended in these statuses; IN_QUEUE and IN_PROGRESS mean "ask again later"
TERMINAL = frozenset({"DONE", "CANCELLED", "FATAL"})
_STATUSES = TERMINAL | {"IN_QUEUE", "IN_PROGRESS"}
#: Amazon refuses a dataEndTime in the future; reports also lag a little behind the present
_SETTLE = timedelta(minutes=2)


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _body(response: httpx.Response, operation: str) -> dict[str, Any]:
    """A Reports API reply as a dict; anything else (malformed JSON, a list) is a clear permanent error."""
    try:
        body = read_json(response)
    except ValueError as exc:
        raise PermanentError(f"{operation}: the reply is not JSON ({exc})", operation=operation, code="MalformedJson",
                             status=response.status_code, remote_message=response.text[:300]) from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise PermanentError(f"{operation}: expected a JSON object, got {type(body).__name__}", operation=operation,
                             code="MalformedJson", status=response.status_code, remote_message=response.text[:300])
    return body


# ------------------------------------------------------------------------------------------------ the engine


class ReportsEngine:
    """createReport → getReport → getReportDocument → download, for any report type.

    `poll_interval` is the first wait before asking getReport again; it grows by half each time up to
    `max_poll_interval` (a short report is seen soon, a long one is asked about once a minute; getReport's
    plan, 2/s with a burst of 15, allows far more). `max_wait` bounds the total wait for one report. A FATAL
    report is created again after `cooldown` seconds, up to `fatal_attempts` times in all; a CANCELLED one
    is, per Amazon, either cancelled by someone or had no data: by default (`cancelled_attempts=1`) it
    reads as an empty document. Documents are downloaded without SP-API credentials (the URL is
    presigned; `download` is the plain client to use, for tests and proxies).
    """

    def __init__(self, client: HttpClient, *, poll_interval: float = 0.2, max_wait: float = 7200.0,
                 sleep: Callable[[float], None] = time.sleep, fatal_attempts: int = 3, cooldown: float = 60.0,
                 cancelled_attempts: int = 1, download: httpx.Client | None = None,
                 max_poll_interval: float = 60.0):
        self.client = client
        self.poll_interval, self.max_wait, self.sleep = poll_interval, max_wait, sleep
        self.max_poll_interval = max(poll_interval, max_poll_interval)
        self.fatal_attempts, self.cooldown, self.cancelled_attempts = max(1, fatal_attempts), cooldown, max(
            1, cancelled_attempts)
        self._download = download
        self.stats = {"createReport": 0, "getReport": 0, "getReportDocument": 0, "getReports": 0, "downloads": 0}

    # ---------------------------------------------------------------- public interface

    def list_reports(self, report_types: list[str], *, created_since: datetime,
                     marketplace_ids: list[str] | None = None,
                     processing_statuses: Iterable[str] = ("DONE",)) -> Iterator[dict[str, Any]]:
        """getReports, following nextToken (sent alone, as Amazon requires). Yields Amazon's Report objects."""
        params: dict[str, Any] = {"reportTypes": ",".join(report_types), "createdSince": _iso(created_since),
                                  "pageSize": 100}
        statuses = list(processing_statuses)
        if statuses:
            params["processingStatuses"] = ",".join(statuses)
        if marketplace_ids:
            params["marketplaceIds"] = ",".join(marketplace_ids)
        while True:
            self.stats["getReports"] += 1
            body = _body(self.client.get(REPORTS_PATH, operation="getReports", params=params), "getReports")
            yield from body.get("reports") or []
            token = body.get("nextToken")
            if not token:
                return
            params = {"nextToken": token}

    def document_text(self, report_document_id: str) -> str:
        """getReportDocument, download (re-fetching the URL once if it expired), gunzip, decode."""
        document = self._document(report_document_id)
        response = self._fetch(document["url"])
        if response is None:  # the URL expired between getReportDocument and the download: ask for a new one
            log.info("report document %s: URL expired, asking getReportDocument again", report_document_id)
            document = self._document(report_document_id)
            response = self._fetch(document["url"])
            if response is None:
                raise PermanentError(
                    f"report document {report_document_id}: the download URL had expired twice in a row",
                    operation="downloadReportDocument", code="ExpiredUrl", status=403,
                    hint="the presigned URL lives 5 minutes; check this machine's clock and network speed")
        data = _decompress(report_document_id, document, response.content)
        return _decode(data, response.headers.get("content-type", ""))

    def run(self, report_type: str, *, marketplace_ids: list[str], start: datetime | None, end: datetime | None,
            options: dict[str, str] | None = None) -> str:
        """One report's text: create, wait, download. FATAL is retried after a cooldown; a FATAL that
        persists raises, naming the report and quoting Amazon's error document."""
        fatal = cancelled = 0
        while True:
            report_id = self.create(report_type, marketplace_ids=marketplace_ids, start=start, end=end,
                                    options=options)
            report = self.wait(report_id)
            status = report["processingStatus"]
            if status == "DONE":
                document_id = report.get("reportDocumentId")
                return self.document_text(document_id) if document_id else ""
            if status == "CANCELLED":
                cancelled += 1
                if cancelled >= self.cancelled_attempts:
                    log.info("%s report %s was CANCELLED (no data for its window, or cancelled by someone): read "
                             "as empty", report_type, report_id)
                    return ""
                log.warning("%s report %s was CANCELLED; asking again in %.0fs", report_type, report_id,
                            self.cooldown)
            else:  # FATAL
                fatal += 1
                reason = self._error_document(report)
                if fatal >= self.fatal_attempts:
                    window = f" for {_iso(start) if start else '…'}..{_iso(end) if end else 'now'}"
                    raise PermanentError(
                        f"{report_type} report {report_id}{window} ended FATAL ({fatal} attempt"
                        f"{'s' if fatal > 1 else ''})" + (f": {reason}" if reason else ""),
                        operation="getReport", code="FATAL", remote_message=reason or None,
                        hint="Amazon could not produce the report; check the date range and marketplaces, or "
                             "ask Amazon support about the report id")
                log.warning("%s report %s ended FATAL%s; creating it again in %.0fs", report_type, report_id,
                            f" ({reason})" if reason else "", self.cooldown)
            self.sleep(self.cooldown)

    # ---------------------------------------------------------------- steps

    def create(self, report_type: str, *, marketplace_ids: list[str], start: datetime | None = None,
               end: datetime | None = None, options: dict[str, str] | None = None) -> str:
        """createReport; returns the new report's id."""
        spec: dict[str, Any] = {"reportType": report_type, "marketplaceIds": list(marketplace_ids)}
        if start is not None:
            spec["dataStartTime"] = _iso(start)
        if end is not None:
            spec["dataEndTime"] = _iso(end)
        if options:
            spec["reportOptions"] = {str(k): str(v) for k, v in options.items()}
        self.stats["createReport"] += 1
        try:
            response = self.client.post(REPORTS_PATH, operation="createReport", json=spec)
        except PermanentError as exc:
            exc.hint = exc.hint or (f"Amazon refused to create a {report_type} report: check the report type "
                                    "(settlement reports cannot be created), marketplaces and dates")
            raise
        body = _body(response, "createReport")
        if not body.get("reportId"):
            raise PermanentError(f"createReport for {report_type} answered without a reportId",
                                 operation="createReport", remote_message=response.text[:300])
        return str(body["reportId"])

    def report(self, report_id: str) -> dict[str, Any]:
        """getReport: Amazon's Report object."""
        self.stats["getReport"] += 1
        body = _body(self.client.get(f"{REPORTS_PATH}/{report_id}", operation="getReport"), "getReport")
        status = body.get("processingStatus")
        if status not in _STATUSES:
            raise PermanentError(f"report {report_id}: unknown processingStatus {status!r}", operation="getReport",
                                 code="UnknownStatus", hint=f"expected one of {', '.join(sorted(_STATUSES))}")
        return body

    def wait(self, report_id: str) -> dict[str, Any]:
        """Poll getReport until processing ends; the terminal Report object."""
        waited, interval = 0.0, self.poll_interval
        while True:
            self.sleep(interval)
            waited += interval
            report = self.report(report_id)
            if report["processingStatus"] in TERMINAL:
                return report
            if waited >= self.max_wait:
                raise TransientError(
                    f"report {report_id} ({report.get('reportType')}) still {report['processingStatus']} after "
                    f"{waited:.0f}s", operation="getReport", code=report["processingStatus"],
                    hint="Amazon is slow to produce it; the next run asks again (or raise report_max_wait_minutes)")
            interval = min(interval * 1.5, self.max_poll_interval)

    def cancel(self, report_id: str) -> None:
        """cancelReport (only a report still IN_QUEUE can be cancelled)."""
        self.client.request("DELETE", f"{REPORTS_PATH}/{report_id}", operation="cancelReport")

    def _document(self, report_document_id: str) -> dict[str, Any]:
        self.stats["getReportDocument"] += 1
        path = DOCUMENTS_PATH.format(reportDocumentId=report_document_id)
        body = _body(self.client.get(path, operation="getReportDocument"), "getReportDocument")
        if not body.get("url"):
            raise PermanentError(f"report document {report_document_id}: getReportDocument gave no url",
                                 operation="getReportDocument", remote_message=str(body)[:300])
        return body

    def close(self) -> None:
        """Close the download client (the SP-API client belongs to the caller)."""
        if self._download is not None:
            self._download.close()
            self._download = None

    def _downloader(self) -> httpx.Client:
        if self._download is None:
            self._download = httpx.Client(timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=True)
        return self._download

    def _fetch(self, url: str, attempts: int = 3) -> httpx.Response | None:
        """GET a presigned URL. None when it has expired (S3 answers 403, or 400 for a malformed expiry)."""
        for attempt in range(1, attempts + 1):
            self.stats["downloads"] += 1
            try:
                response = self._downloader().get(url)
            except httpx.TransportError as exc:
                if attempt == attempts:
                    raise TransientError(f"downloadReportDocument: {type(exc).__name__}",
                                         operation="downloadReportDocument") from None
                self.sleep(0.5 * attempt)
                continue
            if response.status_code == 200:
                return response
            if response.status_code == 403 or (response.status_code == 400 and b"xpire" in response.content):
                return None
            if response.status_code >= 500 and attempt < attempts:
                self.sleep(0.5 * attempt)
                continue
            kind = TransientError if response.status_code >= 500 else PermanentError
            raise kind(f"downloadReportDocument: HTTP {response.status_code}", status=response.status_code,
                       operation="downloadReportDocument", remote_message=response.text[:300])
        return None  # pragma: no cover - the loop always returns or raises

    def _error_document(self, report: dict[str, Any]) -> str:
        """A FATAL report may come with a document that says why; best effort (its absence is normal)."""
        document_id = report.get("reportDocumentId")
        if not document_id:
            return ""
        try:
            text = self.document_text(document_id).strip()
        except RemoteError as exc:
            return f"(its error document {document_id} could not be read: {exc.message})"
        try:  # Amazon's error documents are JSON such as {"errorDetails": "..."}
            body = read_json(httpx.Response(200, content=text.encode()))
            if isinstance(body, dict) and body.get("errorDetails"):
                return str(body["errorDetails"])
        except ValueError:
            pass
        return text[:1000]


def _decompress(document_id: str, document: dict[str, Any], data: bytes) -> bytes:
    """Gunzip when Amazon says GZIP (or the bytes are gzip anyway). A truncated or corrupt file raises:
    nothing of it is parsed, so nothing of it is staged."""
    algorithm = document.get("compressionAlgorithm")
    if algorithm not in (None, "GZIP"):
        raise PermanentError(f"report document {document_id}: unknown compressionAlgorithm {algorithm!r}",
                             operation="downloadReportDocument", code="UnknownCompression",
                             hint="ledgerlink_amazon_sp reads GZIP and uncompressed documents")
    if algorithm != "GZIP" and not data.startswith(b"\x1f\x8b"):
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:
        raise PermanentError(
            f"report document {document_id}: the gzip file is truncated or corrupt ({exc}); {len(data)} bytes "
            "downloaded, nothing of it was read", operation="downloadReportDocument", code="CorruptDocument",
            hint="the download was cut short; run again (a new report is created for the same window)") from None


def _decode(data: bytes, content_type: str) -> str:
    """The charset Amazon names (EU and JP documents are often Cp1252 / Shift_JIS), else UTF-8, else Cp1252."""
    match = re.search(r"charset=([\w.:-]+)", content_type, re.I)
    if match:
        try:
            return data.decode(match.group(1)).lstrip("\ufeff")
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# ------------------------------------------------------------------------------------------------ parsing


def parse_table(text: str, *, delimiter: str = "\t", source: str = "report") -> list[dict[str, str]]:
    """Rows of a flat-file report as dicts keyed by the header's names (stripped of spaces and a BOM).

    Tab-separated reports are not quoted (a `"` in a product name is a character); CSV ones are. A row with
    fewer cells than the header is padded with "" (Amazon trims trailing empty cells); one with more cannot
    be read by name and raises, naming the line."""
    lines = text.lstrip("\ufeff").splitlines()
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter, quoting=quoting, strict=False)
    header: list[str] | None = None
    rows: list[dict[str, str]] = []
    for number, cells in enumerate(reader, start=1):
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            continue
        if len(cells) > len(header):
            raise ValueError(f"{source}, line {number}: {len(cells)} cells under a header of {len(header)}")
        cells = cells + [""] * (len(header) - len(cells))
        rows.append({name: value.strip() for name, value in zip(header, cells)})
    return rows


def parse_xml(text: str, record_tag: str) -> list[dict[str, Any]]:
    """Every `record_tag` element of an XML report as a dict (children by tag; repeated tags become lists;
    leaves are their stripped text). Parsed with defusedxml: no DTD, no entity expansion."""
    try:
        root = SafeET.fromstring(text.lstrip("\ufeff").encode())
    except (SafeET.ParseError, DefusedXmlException) as exc:
        raise ValueError(f"unreadable XML report: {exc}") from None
    return [_element(e) for e in root.iter(record_tag)]


def _element(node: Any) -> Any:
    children = list(node)
    if not children:
        return (node.text or "").strip()
    out: dict[str, Any] = {}
    for child in children:
        value = _element(child)
        if child.tag in out:
            if not isinstance(out[child.tag], list):
                out[child.tag] = [out[child.tag]]
            out[child.tag].append(value)
        else:
            out[child.tag] = value
    return out


# ------------------------------------------------------------------------------------------------ streams


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
            start = max(_parse_time(str(saved)) - lookback, start)
        end = ((self._now or datetime.now(timezone.utc)) - _SETTLE).replace(microsecond=0)
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
                self.state = {self.state_field: _iso(end)}
                yield CHECKPOINT
        finally:
            self.engine.close()  # the download client; the next stream opens its own


class FbaCustomerReturnsStream(ReportStream):
    """FBA customer returns (`GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA`): one row per returned unit batch,
    with `detailed-disposition` (SELLABLE, CUSTOMER_DAMAGED, …) that a later flow joins to refunds."""

    name: ClassVar[str] = "fba_customer_returns"
    report_type: ClassVar[str] = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA"
    primary_key: ClassVar[list[str]] = ["order-id", "sku", "license-plate-number", "return-date"]


class FbaInventoryLedgerStream(ReportStream):
    """FBA inventory ledger, detailed view (`GET_LEDGER_DETAIL_VIEW_DATA`): every movement of stock in and
    out of Amazon's fulfilment centres. Rows carry no id: the key is the movement's own columns."""

    name: ClassVar[str] = "fba_inventory_ledger"
    report_type: ClassVar[str] = "GET_LEDGER_DETAIL_VIEW_DATA"
    primary_key: ClassVar[list[str]] = ["Date", "FNSKU", "MSKU", "EventType", "ReferenceID", "FulfillmentCenter",
                                        "Disposition", "Reason", "Country", "Quantity"]


class FbaReimbursementsStream(ReportStream):
    """FBA reimbursements (`GET_FBA_REIMBURSEMENTS_DATA`): cash and inventory Amazon paid back for lost,
    damaged or unreturned units. One row per reimbursement id and SKU."""

    name: ClassVar[str] = "fba_reimbursements"
    report_type: ClassVar[str] = "GET_FBA_REIMBURSEMENTS_DATA"
    primary_key: ClassVar[list[str]] = ["reimbursement-id", "sku"]


class AllOrdersReportStream(ReportStream):
    """Every order updated in a window (`GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL`), for back-fill:
    one report of 30 days carries what getOrders + getOrderItems need 1 + N/100 + N calls for.

    The report has one row per order item; a record is one order: `amazon-order-id`, `last-updated-date` and
    its `rows`, unchanged, so an order's items are staged (and replaced) together."""

    name: ClassVar[str] = "all_orders_report"
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


# ------------------------------------------------------------------------------------------------ normalise

#: the all-orders report names its marketplace by site, not id
SALES_CHANNEL_MARKETPLACE = {
    "amazon.com": "ATVPDKIKX0DER", "amazon.ca": "A2EUQ1WTGCTBG2", "amazon.com.mx": "A1AM78C64UM0Y8",
    "amazon.com.br": "A2Q3Y263D00KWC", "amazon.co.uk": "A1F83G8C2ARO7P", "amazon.de": "A1PA6795UKMFR9",
    "amazon.fr": "A13V1IB3VIYZZH", "amazon.it": "APJ6JRA9NG5V4", "amazon.es": "A1RKKUPIHCS9HS",
    "amazon.nl": "A1805IZSGTT6HS", "amazon.se": "A2NODRKZP88ZB9", "amazon.pl": "A1C3SOZRARQ6R3",
    "amazon.co.jp": "A1VC38T7YXB528", "amazon.com.au": "A39IBJ37TRP1C6", "amazon.sg": "A19VAU5U5O7RUS",
    "amazon.in": "A21TJRUUN4KGV",
}
#: marketplaces where Amazon collects and remits the sales tax itself (the report has no TaxCollection column;
#: like Orders v0's, it applies once the order is priced)
FACILITATOR_MARKETPLACES = frozenset({"ATVPDKIKX0DER"})
#: the report's order-status → Orders v0 OrderStatus (so both paths plan the same order)
REPORT_STATUS = {"Pending": "Pending", "PendingAvailability": "PendingAvailability", "Unshipped": "Unshipped",
                 "PartiallyShipped": "PartiallyShipped", "Shipping": "PartiallyShipped", "Shipped": "Shipped",
                 "Cancelled": "Canceled", "Canceled": "Canceled", "Complete": "Shipped",
                 "InvoiceUnconfirmed": "InvoiceUnconfirmed", "Unfulfillable": "Unfulfillable"}
_ROW_MONEY = {"tax": "item-tax", "shipping": "shipping-price", "shipping_tax": "shipping-tax",
              "gift_wrap": "gift-wrap-price", "gift_wrap_tax": "gift-wrap-tax"}
_DISCOUNTS = {"discount": "item-promotion-discount", "shipping_discount": "ship-promotion-discount"}
_STREAM = AllOrdersReportStream.name


def normalise_all_orders(record: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Order]:
    """One order of the all-orders report (its item rows) → the canonical Order, keyed by `amazon-order-id`
    like Orders v0, with the same amounts (discounts positive, as v0's PromotionDiscount), so a back-filled
    order and the same order read through getOrders plan the same idempotency key."""
    order_id = str(record.get("amazon-order-id") or "")
    if not order_id:
        raise RecordError("report row has no amazon-order-id", stream=_STREAM, field="amazon-order-id")
    rows = [r for r in record.get("rows") or [] if isinstance(r, dict)]
    if not rows:
        raise RecordError("order has no rows", stream=_STREAM, key=order_id, field="rows")
    first = rows[0]
    raw_status = str(first.get("order-status") or "")
    status = REPORT_STATUS.get(raw_status)
    if status is None:
        raise RecordError(f"unknown order-status {raw_status!r}", stream=_STREAM, key=order_id, field="order-status",
                          hint=f"known: {', '.join(sorted(REPORT_STATUS))}; tell ledgerlink_amazon_sp's authors")
    channel = str(first.get("sales-channel") or "")
    marketplace = SALES_CHANNEL_MARKETPLACE.get(channel.lower())
    if marketplace is None:
        raise RecordError(f"unknown sales-channel {channel!r}", stream=_STREAM, key=order_id, field="sales-channel",
                          hint="the report names the marketplace by site (Amazon.com); non-Amazon channels are "
                               "not orders of this seller's Amazon account")
    currency = next((str(r["currency"]).upper() for r in rows if r.get("currency")), None) or MARKETPLACE_CURRENCY[
        marketplace]
    fulfilment = str(first.get("fulfillment-channel") or "")
    if fulfilment not in ("Amazon", "Merchant"):
        raise RecordError(f"unknown fulfillment-channel {fulfilment!r}", stream=_STREAM, key=order_id,
                          field="fulfillment-channel", hint="expected Amazon or Merchant")
    address = Address(city=first.get("ship-city") or None, region=first.get("ship-state") or None,
                      postal_code=first.get("ship-postal-code") or None, country=first.get("ship-country") or None)
    return [Order(
        source="amazon_sp", source_refs=[SourceRef(stream=_STREAM, key=order_id)], order_id=order_id,
        channel="amazon", marketplace=marketplace, sales_channel=channel,
        fulfilment="channel" if fulfilment == "Amazon" else "merchant", status=status, paid=status in PAID_STATUSES,
        placed_at=_row_time(first, "purchase-date", order_id), updated_at=_row_time(
            first, "last-updated-date", order_id),
        currency=currency,
        customer=Customer(source="amazon_sp", customer_id=f"{marketplace}:{currency}", display_name="Amazon customer",
                          marketplace=marketplace, currency=currency),
        shipping_address=address if any(address.model_dump().values()) else None,
        lines=[_report_line(order_id, n, row, currency, prices_include_tax(marketplace)) for n, row in enumerate(rows)],
        tax_collected_by="marketplace" if marketplace in FACILITATOR_MARKETPLACES and any(
            r.get("item-tax") for r in rows) else "seller",
        is_business_order=str(first.get("is-business-order") or "").lower() == "true",
    )]


def _report_line(order_id: str, n: int, row: dict[str, Any], currency: str, tax_included: bool = False) -> OrderLine:
    """One item row. In a VAT marketplace (`tax_included`) the report's prices include their tax column, as
    getOrders' do there: the line is made tax-exclusive the same way, so both paths plan the same totals."""
    sku = row.get("sku") or ""
    key = f"{order_id}/{sku or n}"
    if not sku:
        raise RecordError("missing SKU", stream=_STREAM, key=key, field="sku",
                          hint=f"fix the listing in Seller Central, or map ASIN {row.get('asin') or '?'} to a SKU")
    if row.get("currency") and str(row["currency"]).upper() != currency:
        raise RecordError(f"{row['currency']} row in a {currency} order", stream=_STREAM, key=key, field="currency")
    try:
        quantity = Decimal(int(str(row.get("quantity") or "0")))
    except ValueError:
        raise RecordError(f"{row.get('quantity')!r} is not a quantity", stream=_STREAM, key=key,
                          field="quantity") from None
    amount = _row_money(row, "item-price", currency, key)  # like v0's ItemPrice: quantity × unit price
    money = {f: _row_money(row, c, currency, key) for f, c in _ROW_MONEY.items()}
    if tax_included:
        amount = amount - money["tax"]
        for gross, tax in (("shipping", "shipping_tax"), ("gift_wrap", "gift_wrap_tax")):
            money[gross] = money[gross] - money[tax]
    return OrderLine(
        line_id=sku if n == 0 else f"{sku}#{n}", sku=sku, title=row.get("product-name") or None, quantity=quantity,
        unit_price=Money(amount=amount.amount / quantity if quantity else Decimal(0), currency=currency),
        amount=amount, promotion_ids=[p.strip() for p in str(row.get("promotion-ids") or "").split(",") if p.strip()],
        source_ref=SourceRef(stream=_STREAM, key=key),
        **money, **{f: _row_money(row, c, currency, key, absolute=True) for f, c in _DISCOUNTS.items()})


def _row_money(row: dict[str, Any], column: str, currency: str, key: str, *, absolute: bool = False) -> Money:
    """A money cell; empty is zero (pending and cancelled rows carry no prices). The report prints
    discounts negative; the canonical model holds them positive, as Orders v0 does."""
    text = str(row.get(column) or "").strip()
    if not text:
        return Money.zero(currency)
    try:
        amount = to_decimal(text, field=column)
    except (TypeError, ValueError) as exc:
        raise RecordError(f"unreadable amount {text!r} ({exc})", stream=_STREAM, key=key, field=column) from None
    return Money(amount=abs(amount) if absolute else amount, currency=currency)


def _row_time(row: dict[str, Any], column: str, key: str, stream: str = _STREAM) -> datetime:
    text = str(row.get(column) or "")
    try:
        return _parse_time(text)
    except ValueError:
        raise RecordError(f"{text!r} is not an ISO 8601 time", stream=stream, key=key, field=column) from None


class FbaShipmentsStream(ReportStream):
    """What Amazon shipped for FBA orders (`GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL`), with carrier and
    tracking. The report has one row per shipped item; a record is one shipment: `shipment-id`, its order and
    its `rows`, so a shipment's items are staged together."""

    name: ClassVar[str] = "fba_shipments"
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


def normalise_fba_shipment(record: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Shipment]:
    """One FBA shipment → the canonical Shipment (carrier, tracking, shipped time, a line per item)."""
    stream = FbaShipmentsStream.name
    shipment_id = str(record.get("shipment-id") or "")
    if not shipment_id:
        raise RecordError("report row has no shipment-id", stream=stream, field="shipment-id")
    rows = [r for r in record.get("rows") or [] if isinstance(r, dict)]
    order_id = str(record.get("amazon-order-id") or "")
    if not rows or not order_id:
        raise RecordError("shipment has no rows or no amazon-order-id", stream=stream, key=shipment_id,
                          field="rows" if not rows else "amazon-order-id")
    lines = []
    for row in rows:
        quantity = to_decimal(row.get("quantity-shipped"), field="quantity-shipped")
        if quantity <= 0:
            raise RecordError(f"quantity-shipped {quantity} is not positive", stream=stream, key=shipment_id,
                              field="quantity-shipped")
        lines.append(ShipmentLine(sku=row.get("sku") or None, line_id=row.get("amazon-order-item-id") or None,
                                  quantity=quantity))
    first = rows[0]
    return [Shipment(source="amazon_sp", shipment_id=shipment_id, order_id=order_id,
                     carrier=first.get("carrier") or None, tracking_number=first.get("tracking-number") or None,
                     shipped_at=_row_time(first, "shipment-date", shipment_id, stream), lines=lines,
                     source_refs=[SourceRef(stream=stream, key=shipment_id)])]


# ------------------------------------------------------------------------------------------------ the family

#: stream classes this module adds to the source (for discover)
STREAM_CLASSES: list[type[Stream]] = [FbaCustomerReturnsStream, FbaInventoryLedgerStream, FbaReimbursementsStream,
                                      AllOrdersReportStream, FbaShipmentsStream]
#: normalisers of those streams (ledger and reimbursements are staged only, for later flows)
NORMALISERS: list[Normaliser] = [Normaliser(stream=AllOrdersReportStream.name, function=normalise_all_orders),
                                 Normaliser(stream=FbaShipmentsStream.name, function=normalise_fba_shipment),
                                 Normaliser(stream=FbaCustomerReturnsStream.name, function=normalise_customer_return)]


def streams(config: Any, client: HttpClient) -> list[Stream]:
    """Every report stream, sharing one engine; the catalog picks which run (each createReport costs a
    minute of Amazon's 1-a-minute plan once the burst of 15 is spent)."""
    engine = engine_for(config, client)
    return [cls(config, client, engine=engine) for cls in STREAM_CLASSES]  # type: ignore[call-arg]
