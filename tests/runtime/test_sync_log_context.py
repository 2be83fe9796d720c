"""Every log line a sync emits carries its pipeline and run, from whichever thread it was logged: the batches a
destination keeps in flight are written on the runtime's own threads (QuickBooks Online keeps 4)."""

from __future__ import annotations

import json
import logging
from typing import Any

import fakes

from ledgerlink.logs import JsonFormatter
from ledgerlink.runtime import sync


class Lines(logging.Handler):
    """Each record as the JSON line `--log-format json` prints, with the thread that logged it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.threadName, json.loads(self.format(record))))


def test_lines_logged_by_batches_in_flight_name_the_pipeline_and_run(fake_host, make_pipeline, monkeypatch):
    write_batch = fakes.FakeDestination.write_batch

    def logging_write_batch(self: Any, stream: str, records: list[Any]) -> Any:
        logging.getLogger("ledgerlink.fake").info("writing %d %s", len(records), stream)
        return write_batch(self, stream, records)

    monkeypatch.setattr(fakes.FakeDestination, "write_batch", logging_write_batch)
    monkeypatch.setattr(fakes.FakeDestination, "batches_in_flight", 2, raising=False)
    monkeypatch.setattr(fakes.FakeDestination, "in_flight_streams", frozenset({"Receipt"}), raising=False)
    handler = Lines()
    ledger_logger = logging.getLogger("ledgerlink")
    monkeypatch.setattr(ledger_logger, "level", logging.INFO)
    ledger_logger.addHandler(handler)
    try:
        report = sync(make_pipeline(orders=9), plugin_host=fake_host)
    finally:
        ledger_logger.removeHandler(handler)
    assert report.status == "succeeded", report.errors
    writes = [(thread, line) for thread, line in handler.lines if line["logger"] == "ledgerlink.fake"]
    assert any(thread.startswith("ledgerlink-write") for thread, _ in writes), "no batch was written on a thread"
    assert handler.lines and all(line["pipeline"] == "fake" and line["run_id"] == report.run_id
                                 for _, line in handler.lines), [l for _, l in handler.lines if l["pipeline"] != "fake"]
