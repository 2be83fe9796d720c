"""The sandbox's Reports API (2021-06-30): createReport, getReport, getReports, cancelReport, getReportDocument.

A report's life runs on the (time-scaled) clock: IN_QUEUE for `report_queue_s`, IN_PROGRESS for
`report_processing_s`, then DONE (or CANCELLED when it has no rows, as Amazon does). Its document is built
from the seeded seller when it completes (`seed_reports`), gzipped from `report_gzip_min_bytes` up, and served
from a presigned-style URL on this server that expires after `report_url_life_s` (scaled, at least 2 real
seconds). Settlement reports cannot be created (400 InvalidInput); they are listed by getReports, with the
documents of `seed_settlements.settlement_documents(book)` when that module exists.

Test controls, outside Amazon's paths: `POST /_sandbox/reports/next {"outcome": "FATAL"|"CANCELLED"|
"TRUNCATED"|"EXPIRED_URL", "count": n, "skip": k, "error": "..."}` makes the n reports after the next k end
FATAL (with an error document) or CANCELLED, n documents truncated gzip, or n document URLs already expired;
`{"outcome": "SLOW", "polls": p, "count": n}` keeps the next n reports IN_PROGRESS for their first p getReport
calls, and `{"outcome": "HOLD", "count": n}` keeps them IN_PROGRESS until `POST /_sandbox/reports/release`
(a report that takes as long as a test needs, whatever the clock).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .replies import Invalid as _Invalid
from .replies import parse_time as _time
from .replies import refuse as _error
from .replies import reply as _reply
from .seed import MARKETPLACES, iso
from .seed_reports import NOT_CREATABLE, REPORT_TYPES, SETTLEMENT_TYPES, FbaEvents, document_rows, render_tsv

__all__ = ["PLANS", "routes", "ReportsApi"]

log = logging.getLogger("ledgerlink.amazon_sp.sandbox")

#: Amazon's usage plans for the Reports operations (derived/rate_limits.json; a test checks them)
PLANS: dict[str, tuple[float, int]] = {
    "createReport": (0.0167, 15), "getReports": (0.0222, 10), "getReport": (2.0, 15), "cancelReport": (0.0222, 10),
    "getReportDocument": (0.0167, 15),
}
_BASE = "/reports/2021-06-30"
_STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
_RETAINED_S = 90 * 86400
_SETTLEMENT_V2 = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"


@dataclass
class _Report:
    report_id: str
    report_type: str
    marketplaces: list[str]
    start: int
    end: int
    created: float  # wall clock, for createdTime
    started: float  # monotonic, for the scaled lifecycle
    fate: str = "DONE"
    error: str = ""
    cancelled: bool = False
    status: str = "IN_QUEUE"
    document_id: str | None = None
    ended: float | None = None
    #: IN_PROGRESS until released (`/_sandbox/reports/release`), or for this many more getReport calls
    held: bool = False
    polls_left: int = 0

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "reportId": self.report_id, "reportType": self.report_type, "dataStartTime": iso(self.start),
            "dataEndTime": iso(self.end), "createdTime": iso(int(self.created)), "processingStatus": self.status}
        if self.marketplaces:
            out["marketplaceIds"] = list(self.marketplaces)
        if self.status != "IN_QUEUE" and not self.cancelled:
            out["processingStartTime"] = iso(int(self.created))
        if self.ended is not None:
            out["processingEndTime"] = iso(int(self.ended))
        if self.document_id:
            out["reportDocumentId"] = self.document_id
        return out


@dataclass
class _Document:
    """A document's bytes as served (gzipped or not); `load` builds them when first downloaded."""

    raw: bytes | None
    gzipped: bool
    load: Callable[[], bytes] | None = None

    @property
    def data(self) -> bytes:
        if self.raw is None and self.load is not None:
            self.raw = self.load()
        return self.raw or b""


class ReportsApi:
    """The reports, documents and URLs one sandbox has handed out, and the faults queued for the next ones."""

    def __init__(self, api: Any):
        self.api = api
        self.options = api.options
        self.reports: dict[str, _Report] = {}
        self.documents: dict[str, _Document] = {}
        self.urls: dict[str, tuple[str, float]] = {}
        self.queued: dict[str, list[str]] = {"report": [], "TRUNCATED": [], "EXPIRED_URL": [], "SLOW": []}
        self.events = FbaEvents(api.book)
        self._serial = 0
        self._settlements: list[_Report] | None = None

    # ------------------------------------------------------------------ clock

    def _scaled(self, seconds: float) -> float:
        return seconds / max(self.options.time_scale, 1e-9)

    def _advance(self, report: _Report) -> None:
        """Move a report along its life; build its document when it completes."""
        if report.status in ("DONE", "FATAL", "CANCELLED"):
            return
        if report.held or report.polls_left > 0:
            report.status = "IN_PROGRESS"
            return
        elapsed = time.monotonic() - report.started
        queue, processing = self._scaled(self.options.report_queue_s), self._scaled(self.options.report_processing_s)
        if elapsed < queue:
            report.status = "IN_QUEUE"
            return
        if elapsed < queue + processing:
            report.status = "IN_PROGRESS"
            return
        report.ended = time.time()
        if report.fate == "FATAL":
            report.status = "FATAL"
            if report.error:
                report.document_id = self._store(json.dumps({"errorDetails": report.error}).encode())
            return
        if report.fate == "CANCELLED":
            report.status = "CANCELLED"
            return
        made = document_rows(report.report_type, self.api.book, self.events, report.marketplaces, report.start,
                             report.end)
        if made is None or not made[1]:  # Amazon cancels a report with no data
            report.status = "CANCELLED"
            return
        report.status = "DONE"
        report.document_id = self._store(render_tsv(*made).encode())

    def _store(self, data: bytes, *, force_gzip: bool = False) -> str:
        document_id = f"amzn1.spdoc.1.4.na.{uuid.uuid4()}.T{secrets.randbelow(10**6):06d}"
        truncate = bool(self.queued["TRUNCATED"]) and self.queued["TRUNCATED"].pop(0) == "TRUNCATED"
        gzipped = force_gzip or truncate or len(data) >= self.options.report_gzip_min_bytes
        if gzipped:
            data = gzip.compress(data, compresslevel=6, mtime=0)
            if truncate:  # cut short, as a dropped download leaves it
                data = data[: max(10, len(data) // 2)]
        self.documents[document_id] = _Document(data, gzipped)
        return document_id

    # ------------------------------------------------------------------ settlements (listed, never created)

    def settlements(self) -> list[_Report]:
        """The seeded settlement reports, if the settlements seed exists (imported lazily: it may not yet)."""
        if self._settlements is None:
            found: list[_Report] = []
            try:
                from . import seed_settlements  # type: ignore[attr-defined]
                finances = getattr(self.api, "finances", None)  # the finance book, as releases change it
                deferred = ({"finances": finances.book} if finances is not None
                            and getattr(self.options, "deferred_settlements", False) else {})
                documents = list(seed_settlements.settlement_documents(self.api.book, **deferred))
            except (ImportError, AttributeError):
                documents = []
            for doc in documents:  # each document is built when first downloaded (a settlement is big)
                created = doc.created_at.timestamp()
                document_id = f"amzn1.spdoc.1.4.na.settlement-{doc.settlement_id}"
                self.documents[document_id] = _Document(
                    None, True, lambda doc=doc: gzip.compress(doc.text.encode(), mtime=0))
                starts, ends = getattr(doc, "starts_at", None), getattr(doc, "ends_at", None)
                market = getattr(doc, "marketplace_id", None)
                found.append(_Report(
                    str(doc.report_id), _SETTLEMENT_V2, [market] if market else [],
                    int(starts.timestamp() if starts else created), int(ends.timestamp() if ends else created),
                    created, 0.0, status="DONE", document_id=document_id, ended=created))
            self._settlements = found
        return self._settlements

    # ------------------------------------------------------------------ createReport

    async def create_report(self, request: Request) -> Response:
        op = "createReport"
        refused = self.api._gate(request, op)
        if refused is not None:
            return refused
        try:
            report = self._new_report(await request.body())
        except _Invalid as exc:
            return self.api._count(op, _error(400, "InvalidInput", "Invalid input", str(exc)))
        self.reports[report.report_id] = report
        return self.api._count(op, _reply({"reportId": report.report_id}, 202))

    def _new_report(self, raw: bytes) -> _Report:
        try:
            spec = json.loads(raw or b"null")
        except ValueError:
            raise _Invalid("The request body is not valid JSON.") from None
        if not isinstance(spec, dict):
            raise _Invalid("The request body must be a CreateReportSpecification object.")
        # Fields the model does not name are ignored, as Amazon does (CreateReportSpecification does not forbid
        # additional properties): python-amazon-sp-api sends `MarketplaceIds` beside `marketplaceIds` on every POST.
        report_type = spec.get("reportType")
        if not isinstance(report_type, str) or not report_type:
            raise _Invalid("Missing required field reportType.")
        if report_type not in REPORT_TYPES:
            raise _Invalid(f"Invalid reportType {report_type!r}: see the Report Type Values page.")
        if report_type in NOT_CREATABLE:
            kind = "Settlement reports" if report_type in SETTLEMENT_TYPES else f"{report_type} reports"
            raise _Invalid(f"{kind} cannot be requested or scheduled. They are automatically scheduled by Amazon; "
                           "search for them with getReports.")
        markets = spec.get("marketplaceIds")
        if not isinstance(markets, list) or not 1 <= len(markets) <= 25 or not all(isinstance(m, str) for m in markets):
            raise _Invalid("marketplaceIds must list 1 to 25 marketplace identifiers.")
        bad = [m for m in markets if m not in MARKETPLACES]
        if bad:
            raise _Invalid(f"Invalid marketplaceIds: {', '.join(bad)}. The seller does not sell there.")
        options = spec.get("reportOptions")
        if options is not None and (not isinstance(options, dict)
                                    or not all(isinstance(v, str) for v in options.values())):
            raise _Invalid("reportOptions must be an object of string values.")
        now = int(time.time())
        start = _time("dataStartTime", spec["dataStartTime"]) if spec.get("dataStartTime") else now
        end = _time("dataEndTime", spec["dataEndTime"]) if spec.get("dataEndTime") else now
        if start > now or end > now:
            raise _Invalid("dataStartTime and dataEndTime must be prior to or equal to the current date and time.")
        if end < start:
            raise _Invalid("dataEndTime must be equal to or after dataStartTime.")
        self._serial += 1
        report = _Report(f"{50000000000 + self._serial * 7919 % 10**10}", report_type, sorted(set(markets)), start,
                         end, time.time(), time.monotonic())
        if self.queued["report"]:
            outcome = self.queued["report"].pop(0)
            report.fate, _, report.error = outcome.partition(":")
        if self.queued["SLOW"]:
            slow = self.queued["SLOW"].pop(0)
            report.held = slow == "HOLD"
            report.polls_left = int(slow.removeprefix("POLLS:")) if slow.startswith("POLLS:") else 0
        return report

    # ------------------------------------------------------------------ getReport / cancelReport

    def _find(self, report_id: str) -> _Report | None:
        report = self.reports.get(report_id)
        if report is None:
            report = next((r for r in self.settlements() if r.report_id == report_id), None)
        return report

    async def get_report(self, request: Request) -> Response:
        op = "getReport"
        refused = self.api._gate(request, op)
        if refused is not None:
            return refused
        report = self._find(request.path_params["reportId"])
        if report is None:
            return self.api._count(op, _error(404, "NotFound", "Report not found.",
                                              f"No report {request.path_params['reportId']!r} for this seller."))
        self._advance(report)
        if report.polls_left > 0:
            report.polls_left -= 1
        return self.api._count(op, _reply(report.body()))

    async def cancel_report(self, request: Request) -> Response:
        op = "cancelReport"
        refused = self.api._gate(request, op)
        if refused is not None:
            return refused
        report = self._find(request.path_params["reportId"])
        if report is None:
            return self.api._count(op, _error(404, "NotFound", "Report not found."))
        self._advance(report)
        if report.status != "IN_QUEUE":
            return self.api._count(op, _error(400, "InvalidInput", "Invalid input",
                                              f"Only IN_QUEUE reports can be cancelled; {report.report_id} is "
                                              f"{report.status}."))
        report.status, report.cancelled, report.ended = "CANCELLED", True, time.time()
        return self.api._count(op, _reply(None, 200))

    # ------------------------------------------------------------------ getReports

    async def get_reports(self, request: Request) -> Response:
        op = "getReports"
        refused = self.api._gate(request, op)
        if refused is not None:
            return refused
        try:
            body = self._reports_page(request)
        except _Invalid as exc:
            return self.api._count(op, _error(400, "InvalidInput", "Invalid input", str(exc)))
        return self.api._count(op, _reply(body))

    def _reports_page(self, request: Request) -> dict[str, Any]:
        q = request.query_params

        def listed(name: str) -> list[str]:
            return [v for raw in q.getlist(name) for v in raw.split(",") if v]

        token = q.get("nextToken")
        if token is not None:
            if set(q.keys()) != {"nextToken"}:
                raise _Invalid("nextToken must be the only parameter when it is specified.")
            try:
                query = json.loads(base64.urlsafe_b64decode(token.encode()))
                assert isinstance(query, dict) and {"t", "s", "m", "a", "b", "n", "o"} <= set(query)
            except (binascii.Error, ValueError, AssertionError, UnicodeDecodeError):
                raise _Invalid("Invalid nextToken.") from None
        else:
            types = listed("reportTypes")
            if not types:
                raise _Invalid("Either reportTypes or nextToken is required.")
            if len(types) > 10:
                raise _Invalid("reportTypes accepts at most 10 values.")
            statuses = listed("processingStatuses")
            bad = [s for s in statuses if s not in _STATUSES]
            if bad:
                raise _Invalid(f"Invalid processingStatuses: {', '.join(bad)}. Allowed: {', '.join(_STATUSES)}.")
            markets = listed("marketplaceIds")
            if len(markets) > 10:
                raise _Invalid("marketplaceIds accepts at most 10 values.")
            try:
                size = int(q.get("pageSize", "10"))
            except ValueError:
                raise _Invalid("pageSize must be an integer between 1 and 100.") from None
            if not 1 <= size <= 100:
                raise _Invalid("pageSize must be an integer between 1 and 100.")
            now = int(time.time())
            since = _time("createdSince", q["createdSince"]) if q.get("createdSince") else now - _RETAINED_S
            until = _time("createdUntil", q["createdUntil"]) if q.get("createdUntil") else now
            query = {"t": types, "s": statuses, "m": markets, "a": max(since, now - _RETAINED_S), "b": until,
                     "n": size, "o": 0}
        matching = []
        for report in [*self.reports.values(), *self.settlements()]:
            self._advance(report)
            if report.report_type not in query["t"] or (query["s"] and report.status not in query["s"]):
                continue
            if query["m"] and report.marketplaces and not set(report.marketplaces) & set(query["m"]):
                continue
            if query["a"] <= report.created <= query["b"] + 1:
                matching.append(report)
        matching.sort(key=lambda r: (-r.created, r.report_id))  # newest first, as Amazon lists them
        offset, size = query["o"], query["n"]
        body: dict[str, Any] = {"reports": [r.body() for r in matching[offset:offset + size]]}
        if offset + size < len(matching):
            body["nextToken"] = base64.urlsafe_b64encode(
                json.dumps({**query, "o": offset + size}, separators=(",", ":")).encode()).decode()
        return body

    # ------------------------------------------------------------------ documents

    async def get_report_document(self, request: Request) -> Response:
        op = "getReportDocument"
        refused = self.api._gate(request, op)
        if refused is not None:
            return refused
        document_id = request.path_params["reportDocumentId"]
        if not document_id.startswith("amzn1.spdoc."):
            return self.api._count(op, _error(400, "InvalidInput", "Invalid input",
                                              f"Invalid reportDocumentId {document_id!r}."))
        self.settlements()
        document = self.documents.get(document_id)
        if document is None:
            return self.api._count(op, _error(404, "NotFound", "Report document not found."))
        token = secrets.token_urlsafe(24)
        life = max(self._scaled(self.options.report_url_life_s), 2.0)
        expires = time.monotonic() + life
        if self.queued["EXPIRED_URL"] and self.queued["EXPIRED_URL"].pop(0) == "EXPIRED_URL":
            expires = time.monotonic() - 1
        self.urls[token] = (document_id, expires)
        url = f"{str(request.base_url).rstrip('/')}/_sandbox/report-documents/{token}?X-Amz-Expires=300"
        body: dict[str, Any] = {"reportDocumentId": document_id, "url": url}
        if document.gzipped:
            body["compressionAlgorithm"] = "GZIP"
        return self.api._count(op, _reply(body))

    async def download(self, request: Request) -> Response:
        """The presigned URL, answered as S3 answers: the bytes, or 403 AccessDenied once it has expired."""
        found = self.urls.get(request.path_params["token"])
        if found is None or found[1] < time.monotonic():
            message = "Request has expired" if found is not None else "Access Denied"
            return Response(f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                            f"<Message>{message}</Message></Error>", status_code=403, media_type="application/xml")
        return Response(self.documents[found[0]].data, media_type="text/plain; charset=UTF-8")

    # ------------------------------------------------------------------ test controls

    async def queue_outcome(self, request: Request) -> Response:
        spec = await request.json()
        outcome, count, skip = str(spec.get("outcome", "")), int(spec.get("count", 1)), int(spec.get("skip", 0))
        if outcome in ("FATAL", "CANCELLED"):
            self.queued["report"].extend(["DONE:"] * skip + [f"{outcome}:{spec.get('error', '')}"] * count)
        elif outcome in ("TRUNCATED", "EXPIRED_URL"):
            self.queued[outcome].extend([""] * skip + [outcome] * count)
        elif outcome == "HOLD" or (outcome == "SLOW" and int(spec.get("polls", 0)) > 0):
            slow = "HOLD" if outcome == "HOLD" else f"POLLS:{int(spec['polls'])}"
            self.queued["SLOW"].extend([""] * skip + [slow] * count)
        else:
            return _reply({"error": "outcome must be FATAL, CANCELLED, TRUNCATED, EXPIRED_URL, HOLD or SLOW (with "
                                    "polls > 0)"}, 400)
        return _reply({k: len(v) for k, v in self.queued.items()})

    async def release(self, request: Request) -> Response:
        """Every held report goes on with its life (on the scaled clock from its creation: usually DONE next)."""
        released = [r.report_id for r in self.reports.values() if r.held]
        for report_id in released:
            self.reports[report_id].held = False
        return _reply({"released": released})

    def routes(self) -> list[Route]:
        return [
            Route(f"{_BASE}/reports", self.create_report, methods=["POST"]),
            Route(f"{_BASE}/reports", self.get_reports, methods=["GET"]),
            Route(f"{_BASE}/reports/{{reportId}}", self.get_report, methods=["GET"]),
            Route(f"{_BASE}/reports/{{reportId}}", self.cancel_report, methods=["DELETE"]),
            Route(f"{_BASE}/documents/{{reportDocumentId}}", self.get_report_document, methods=["GET"]),
            Route("/_sandbox/report-documents/{token}", self.download, methods=["GET"]),
            Route("/_sandbox/reports/next", self.queue_outcome, methods=["POST"]),
            Route("/_sandbox/reports/release", self.release, methods=["POST"]),
        ]


def routes(api: Any) -> list[Route]:
    """The Reports API of one sandbox (its state lives on `api.reports`, for tests and benchmarks)."""
    api.reports = ReportsApi(api)
    return api.reports.routes()
