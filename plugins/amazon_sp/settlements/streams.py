"""The `settlements` stream: one record per settlement, from files on disk and from Amazon's settlement reports.

Settlement reports cannot be requested: Amazon closes a settlement every ~14 days and writes its report,
which getReports lists for 90 days. Older history is back-filled from files (config `settlement_files`,
paths or globs) in either flat-file format. Both go through one parser (`settlements.parser`).

A record is the file as read by header name: the summary row, every detail row as a dict of its non-empty
values with its line number, the format, the origin (file path or `report <id>`) and every problem found.
A file that cannot be read at all still becomes a record (keyed by its origin, carrying the error), so the
problem is a dead letter instead of an exception that stops the read; the normaliser refuses any record
with a problem. The stream hands each record over as its JSON text (`encoded_settlement`: the same text the
general writer stages, written several times faster for a 100,000-row settlement).

Duplicates: the state remembers each settlement read cleanly (its content hash and origin). The same
settlement again (a second copy of a file, a report already imported from disk) is skipped; a different
content under the same id becomes a record of its own, `<id>@<origin>`, that is a dead letter naming both
copies, and the settlement already read is left as it was. Reports are read incrementally on createdTime.
"""

from __future__ import annotations

import glob
import logging
import os
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Iterator

import orjson

from ledgerlink import CHECKPOINT, Checkpoint, EncodedRecord, HttpClient, PermanentError, Stream, protocol

from ..stream_schemas import stream_schema
from .parser import (REPORT_TYPE_V2, ParsedSettlement, SettlementFileError, collector_paused, decode_settlement_bytes,
                     parse_settlement)

__all__ = ["SettlementsStream", "settlement_record", "error_record", "encoded_settlement"]

log = logging.getLogger("ledgerlink.amazon_sp.settlements")

#: getReports serves reports created in the last 90 days; ask for a little less so the clock never crosses it
REPORTS_RETAINED = timedelta(days=89)


def settlement_record(parsed: ParsedSettlement, *, report: dict[str, Any] | None = None) -> dict[str, Any]:
    """The staged record of one parsed settlement file (see the module docstring)."""
    with collector_paused():  # a dict per row: see `collector_paused`
        rows = [{"line": r.line, "values": r.values} for r in parsed.rows]
    record: dict[str, Any] = {
        "settlement_id": parsed.settlement_id or parsed.origin, "origin": parsed.origin, "format": parsed.format,
        "columns": parsed.columns, "summary_line": parsed.summary_line, "summary": parsed.summary,
        "decimal_mark": parsed.decimal_mark, "row_count": len(parsed.rows),
        "rows": rows,
        "errors": [e.to_dict() for e in parsed.errors], "content_hash": parsed.content_hash(),
    }
    record.update(_report_fields(report))
    return record


def encoded_settlement(record: dict[str, Any]) -> EncodedRecord | dict[str, Any]:
    """The record as the JSON text staging stores (`EncodedRecord`), written in one call without the general
    writer's per-value callback and without staging's walk of a record it did not write: a settlement record
    holds only texts, integers, lists, objects and null (no float, no Decimal: amounts stay their report text),
    which is what orjson writes without a callback (the parser makes the rows, summary and errors; only a
    report's top-level fields come from elsewhere, and a float among them is handed over as the dict). Byte for
    byte what `jsonutil.dumps` writes of it, so a state file staged before holds the same text. Anything orjson
    refuses (a Decimal, a lone surrogate, an integer beyond 64 bits) hands over the dict, whose checks name
    the field."""
    if any(isinstance(v, float) for v in record.values()):  # only a report's fields could be one (orjson would
        return record                                          # write NaN as null): staging's checks catch it
    try:
        text = orjson.dumps(record).decode()
    except (TypeError, orjson.JSONEncodeError):
        return record
    return EncodedRecord(text, {"settlement_id": record["settlement_id"], "created_time": record.get("created_time")})


def error_record(error: SettlementFileError, *, report: dict[str, Any] | None = None) -> dict[str, Any]:
    """The record of a file (or report) that could not be read at all: keyed by its origin."""
    return {"settlement_id": error.origin, "origin": error.origin, "format": None, "rows": [], "row_count": 0,
            "errors": [error.to_dict()], **_report_fields(report)}


def _report_fields(report: dict[str, Any] | None) -> dict[str, Any]:
    if not report:
        return {"created_time": None}
    return {"report_id": report.get("reportId"), "report_document_id": report.get("reportDocumentId"),
            "report_type": report.get("reportType"), "created_time": report.get("createdTime")}


class SettlementsStream(Stream):
    """Settlements from `settlement_files` (every run: cheap, and a fixed file is read again) and, unless
    `settlement_reports` is false, from getReports since the last report's createdTime.

    State: `{"created_time": <newest report read>, "seen": {settlement_id: [hash, origin, total, rows]}}`."""

    name: ClassVar[str] = "settlements"
    primary_key: ClassVar[str] = "settlement_id"
    cursor_field: ClassVar[str] = "created_time"
    #: the fields described here, and the rest of what the stream sends (stream_schemas.py)
    json_schema: ClassVar[dict[str, Any]] = stream_schema("settlements", {
        "type": "object", "additionalProperties": True,
        "required": ["settlement_id", "origin", "rows", "errors"],
        "properties": {
            "settlement_id": {"type": "string", "description": "Amazon's id; the origin for an unreadable file; "
                                                               "<id>@<origin> for a conflicting duplicate"},
            "origin": {"type": "string", "description": "the file path, or `report <reportId>`"},
            "format": {"type": ["string", "null"], "enum": ["flat_file_v2", "flat_file_v1", None]},
            "summary_line": {"type": "integer"},
            "summary": {"type": "object", "additionalProperties": {"type": "string"}},
            "rows": {"type": "array", "items": {"type": "object", "required": ["line", "values"], "properties": {
                "line": {"type": "integer"}, "values": {"type": "object", "additionalProperties": {"type": "string"}}}}},
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "origin": {"type": "string"}, "line": {"type": ["integer", "null"]},
                "column": {"type": ["string", "null"]}, "message": {"type": "string"}}}},
            "created_time": {"type": ["string", "null"], "description": "the report's createdTime (null for files)"},
            "report_id": {"type": ["string", "null"]},
            "content_hash": {"type": "string"},
        },
    })

    def __init__(self, config: Any, client: HttpClient | None = None, *, now: datetime | None = None):
        super().__init__(config)
        self.client = client
        self._now = now

    def observe(self, record: dict[str, Any]) -> None:
        """The cursor moves per report read (see `_from_reports`), not per record."""

    def read_records(self, state: dict[str, Any]
                     ) -> Iterator[EncodedRecord | dict[str, Any] | Checkpoint | protocol.Message]:
        self.state = {k: v for k, v in state.items() if k in ("created_time", "seen")}
        self.state["seen"] = dict(self.state.get("seen") or {})
        for path in self._files():
            yield from self._one(self._read_file(path))
            yield CHECKPOINT
        if getattr(self.config, "settlement_reports", True) and self.client is not None:
            yield from self._from_reports()

    # ------------------------------------------------------------------ sources

    def _files(self) -> list[str]:
        """Every file the globs match, each once, in a stable order; a plain path that does not exist is an error
        record (a typo in the config must not look like 'no settlements')."""
        found: list[str] = []
        for pattern in getattr(self.config, "settlement_files", None) or []:
            expanded = os.path.expanduser(pattern)
            matches = sorted(glob.glob(expanded, recursive=True)) if glob.has_magic(expanded) else [expanded]
            found.extend(m for m in matches if not os.path.isdir(m))
        return list(dict.fromkeys(found))

    @staticmethod
    def _read_file(path: str) -> dict[str, Any]:
        try:
            with open(path, "rb") as handle:
                text = decode_settlement_bytes(handle.read())
        except OSError as exc:
            return error_record(SettlementFileError(path, None, None, f"cannot read the file: {exc.strerror or exc}"))
        try:
            return settlement_record(parse_settlement(text, path))
        except SettlementFileError as exc:
            return error_record(exc)

    def _from_reports(self) -> Iterator[EncodedRecord | dict[str, Any] | Checkpoint]:
        from ..reports.engine import ReportsEngine  # the reports family's engine (imported late: another family)

        engine = ReportsEngine(self.client)
        now = self._now or datetime.now(timezone.utc)
        since = max(_time(self.state.get("created_time")) or self.config.start_date, now - REPORTS_RETAINED)
        # only the configured marketplaces' payouts: another marketplace's belong to its own pipeline (currency)
        reports = sorted(engine.list_reports([REPORT_TYPE_V2], created_since=since,
                                             marketplace_ids=list(self.config.marketplace_ids)),
                         key=lambda r: (str(r.get("createdTime") or ""), str(r.get("reportId") or "")))
        held = False  # after a report that could not be downloaded, the cursor stays: the next run tries it again
        for report in reports:
            origin = f"report {report.get('reportId')}"
            document = report.get("reportDocumentId")
            if not document:
                record = error_record(SettlementFileError(origin, None, None, "the report has no document"),
                                      report=report)
            else:
                try:
                    text = engine.document_text(document)
                except PermanentError as exc:  # an expired URL or a broken document: a dead letter, not a stop
                    held = True
                    record = error_record(SettlementFileError(origin, None, None, f"cannot download: {exc.message}"),
                                          report=report)
                    record["hint"] = ("the next run downloads the report again (the cursor waits for it); once it "
                                      "is read, `ledgerlink dlq discard` this letter")
                else:
                    try:
                        record = settlement_record(parse_settlement(text, origin), report=report)
                    except SettlementFileError as exc:
                        record = error_record(exc, report=report)
            yield from self._one(record)
            created = report.get("createdTime")
            if not held and created and str(created) > str(self.state.get("created_time") or ""):
                self.state["created_time"] = str(created)
            yield CHECKPOINT

    # ------------------------------------------------------------------ duplicates

    def _one(self, record: dict[str, Any]) -> Iterator[EncodedRecord | dict[str, Any]]:
        """Yield the record unless it is a settlement already read with the same content (see the module
        docstring); a different content under a known id is yielded as a conflict under `<id>@<origin>`."""
        digest = record.get("content_hash")
        settlement_id = record["settlement_id"]
        seen: dict[str, list[Any]] = self.state["seen"]
        before = seen.get(settlement_id)
        clean = digest is not None and not record["errors"]
        if before is not None and before[0] == digest:
            log.info("settlement %s in %s: already read from %s, same content", settlement_id, record["origin"],
                     before[1])
            return
        if before is not None:  # a settlement is immutable: another content under its id is never an update
            yield encoded_settlement(_conflict(record, before))
            return
        if clean:
            seen[settlement_id] = [digest, record["origin"], (record.get("summary") or {}).get("total-amount"),
                                   record.get("row_count")]
        yield encoded_settlement(record)


def _conflict(record: dict[str, Any], before: list[Any]) -> dict[str, Any]:
    settlement_id = record["settlement_id"]
    origin = record["origin"]
    first_hash, first_origin, first_total, first_rows = (before + [None] * 4)[:4]
    summary = record.get("summary") or {}
    message = (f"settlement {settlement_id} was already read from {first_origin} ({first_rows} rows, total "
               f"{first_total}) and this copy differs ({record.get('row_count')} rows, total "
               f"{summary.get('total-amount')}): the same id with different content")
    error = SettlementFileError(origin, record.get("summary_line"), "settlement-id", message)
    return {**record, "settlement_id": f"{settlement_id}@{origin}", "duplicate_of": settlement_id,
            "errors": [error.to_dict(), *record.get("errors", [])],
            "hint": f"keep one copy: if this one is right, discard the posted settlement {settlement_id} and remove "
                    f"{first_origin}; otherwise remove {origin} and `ledgerlink dlq discard` this letter"}


def _time(text: Any) -> datetime | None:
    if not text:
        return None
    when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
