"""Amazon's Reports API (2021-06-30): one engine for every report type (the streams in `streams` use it).

The engine walks a report's life: createReport → poll getReport (IN_QUEUE, IN_PROGRESS → DONE, CANCELLED,
FATAL) → getReportDocument → download the presigned URL (it expires after 5 minutes; one fresh
getReportDocument if it has) → gunzip → decode. Report documents are parsed by header name, never by column
position: Amazon adds, renames and reorders columns without notice.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import re
import time
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator

import httpx
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from ledgerlink import HttpClient, PermanentError, RemoteError, TransientError

from ..client import read_json
from ..timestamps import format_time

__all__ = ["ReportsEngine", "Polled", "parse_table", "parse_xml", "REPORTS_PATH", "DOCUMENTS_PATH", "TERMINAL"]

log = logging.getLogger("ledgerlink.amazon_sp.reports")

REPORTS_PATH = "/reports/2021-06-30/reports"
DOCUMENTS_PATH = "/reports/2021-06-30/documents/{reportDocumentId}"
#: processing has ended in these statuses; IN_QUEUE and IN_PROGRESS mean "ask again later"
TERMINAL = frozenset({"DONE", "CANCELLED", "FATAL"})
_STATUSES = TERMINAL | {"IN_QUEUE", "IN_PROGRESS"}


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


@dataclass(frozen=True)
class Polled:
    """What polling a report for a while found: Amazon's Report object (terminal, or as it last was when the time
    allowed ran out), the wait the next poll would make, and how long this polling waited."""

    report: dict[str, Any]
    next_interval: float
    waited: float

    @property
    def done(self) -> bool:
        """Processing has ended (DONE, CANCELLED or FATAL)."""
        return self.report["processingStatus"] in TERMINAL


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
        params: dict[str, Any] = {"reportTypes": ",".join(report_types), "createdSince": format_time(created_since),
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
                    window = f" for {format_time(start) if start else '…'}..{format_time(end) if end else 'now'}"
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
            spec["dataStartTime"] = format_time(start)
        if end is not None:
            spec["dataEndTime"] = format_time(end)
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
        polled = self.poll(report_id, budget=self.max_wait)
        if not polled.done:
            report = polled.report
            raise TransientError(
                f"report {report_id} ({report.get('reportType')}) still {report['processingStatus']} after "
                f"{polled.waited:.0f}s", operation="getReport", code=report["processingStatus"],
                hint="Amazon is slow to produce it; the next run asks again (or raise report_max_wait_minutes)")
        return polled.report

    def poll(self, report_id: str, *, budget: float, interval: float | None = None,
             at_once: bool = False) -> Polled:
        """Poll getReport until processing ends or `budget` seconds of waiting are spent (a poll is never made
        after the budget: it ends with the report as last seen). The first wait is `interval` (default
        `poll_interval`), or none with `at_once` (a report requested in an earlier run); each next one is half
        as long again, up to `max_poll_interval`. A fresh report is polled at least once."""
        waited, interval = 0.0, interval or self.poll_interval
        report: dict[str, Any] | None = None
        if at_once:
            report = self.report(report_id)
        while report is None or report["processingStatus"] not in TERMINAL:
            if report is not None and waited + interval > budget:
                return Polled(report, interval, waited)
            step = interval if report is not None else min(interval, max(0.0, budget))
            self.sleep(step)
            waited += step
            report = self.report(report_id)
            if report["processingStatus"] not in TERMINAL:
                interval = min(interval * 1.5, self.max_poll_interval)
        return Polled(report, interval, waited)

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

    def error_reason(self, report: dict[str, Any]) -> str:
        """Why a FATAL report failed, from its error document ("" when it has none)."""
        return self._error_document(report)

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
