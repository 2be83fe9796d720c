"""Log records as Airbyte LOG messages on stdout, where an Airbyte platform reads a connector's logs (stderr is
for people); secrets masked as in every other ledgerlink log."""

from __future__ import annotations

import logging
import threading

from ... import protocol
from ..common import emit
from ...secrets import MaskSecrets

__all__ = ["log_as_messages", "LogMessages", "LEVELS", "emit_message"]

#: Python's level names → the protocol's (Airbyte has WARN and FATAL)
LEVELS = {"DEBUG": "DEBUG", "INFO": "INFO", "WARNING": "WARN", "ERROR": "ERROR", "CRITICAL": "FATAL"}

#: one line at a time on stdout, whichever thread logs
_lock = threading.Lock()


def emit_message(message: protocol.Message) -> None:
    """One protocol message on stdout, never interleaved with a LOG line another thread writes."""
    with _lock:
        emit(message)


class LogMessages(logging.Handler):
    """Writes each record as one LOG message line."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            message = protocol.log(LEVELS.get(record.levelname, "INFO"), text)
            with _lock:
                emit(message)
        except Exception:  # a log line must never break a sync
            self.handleError(record)


def log_as_messages(debug: bool = False) -> LogMessages:
    """Route every log record (INFO and up, DEBUG with `--debug`) to LOG messages; returns the handler (a
    process that runs one command never removes it; a test does)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, LogMessages)]:
        root.removeHandler(old)
    handler = LogMessages()
    handler.addFilter(MaskSecrets())
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for noisy in ("httpx", "httpcore", "urllib3"):  # a line per request would drown the sync's own log
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)
    return handler
