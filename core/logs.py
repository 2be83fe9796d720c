"""Logging: readable on a terminal, JSON lines otherwise, secrets masked either way.

`--log-format json` (or `LEDGERLINK_LOG_FORMAT=json`) is the container's format: one JSON object per line on
stdout with `time`, `level`, `logger`, `message`, and the `pipeline` and `run_id` of the sync that logged it
(see `log_context`), so a log shipper can parse and group every line. Without it, a terminal gets rich's
readable lines and anything else JSON lines on stderr, as before."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import sys
from datetime import datetime, timezone
from typing import Any, Iterator, Literal

from .secrets import MaskSecrets, mask

__all__ = ["setup_logging", "JsonFormatter", "log_context", "LOG_FORMAT_ENV", "LOG_LEVEL_ENV", "LogFormat",
           "json_logs_on_stdout"]

#: `json`, `text` or `auto` (the default: text on a terminal, JSON lines on stderr otherwise)
LOG_FORMAT_ENV = "LEDGERLINK_LOG_FORMAT"
#: `debug`, `info`, `warning` or `error` (the default: warning, or what -v/-vv ask for)
LOG_LEVEL_ENV = "LEDGERLINK_LOG_LEVEL"

LogFormat = Literal["auto", "json", "text"]

#: the pipeline and run a log line belongs to (set by a sync for its own thread)
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("ledgerlink_log_context", default={})
#: JSON lines go to stdout in this process (what `--log-format json` asked for)
_json_on_stdout = False


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Every line logged inside carries these fields (e.g. `pipeline`, `run_id`), in this thread only."""
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {str(k): _masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return mask(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, milliseconds), level, logger, message, pipeline, run_id; `fields`
    passed as `extra={"fields": {...}}` are added under their own names. Every string is masked."""

    def format(self, record: logging.LogRecord) -> str:
        context = _context.get()
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
                            .replace("+00:00", "Z"),
            "level": record.levelname, "logger": record.name, "message": mask(record.getMessage()),
            "pipeline": context.get("pipeline"), "run_id": context.get("run_id")}
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            for key, value in extra.items():
                out.setdefault(str(key), _masked(value))
        if record.exc_info:
            out["exc"] = mask(self.formatException(record.exc_info))
        return json.dumps(out, default=str, ensure_ascii=False)


def _level(verbose: int, default: int) -> int:
    """-v/-vv, else LEDGERLINK_LOG_LEVEL, else `default` (the more verbose of -v and the variable wins)."""
    asked = logging.DEBUG if verbose > 1 else logging.INFO if verbose else None
    named = os.environ.get(LOG_LEVEL_ENV, "").strip().upper()
    level = getattr(logging, named) if named in ("DEBUG", "INFO", "WARNING", "ERROR") else default
    return min(level, asked) if asked is not None else level


def setup_logging(verbose: int = 0, json_logs: bool | None = None, log_format: LogFormat | None = None,
                  protocol_on_stdout: bool = False) -> None:
    """Install ledgerlink's one log handler. `log_format` (else `LEDGERLINK_LOG_FORMAT`) `json` writes JSON lines
    to stdout — unless this command speaks the Airbyte protocol there (`protocol_on_stdout`), whose stdout holds
    only protocol messages, then stderr. `json_logs` is the older switch (JSON lines on stderr)."""
    global _json_on_stdout
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_ledgerlink", False):
            root.removeHandler(h)
    fmt = log_format or os.environ.get(LOG_FORMAT_ENV, "auto").strip().lower() or "auto"
    stream = sys.stderr
    _json_on_stdout = False
    if fmt == "json":
        json_logs = True
        if not protocol_on_stdout:
            stream, _json_on_stdout = sys.stdout, True
    elif fmt == "text":
        json_logs = False
    if json_logs is None:
        json_logs = not sys.stderr.isatty()
    # a container's log is its record of what happened: each run's line (INFO) belongs in it
    level = _level(verbose, logging.INFO if fmt == "json" else logging.WARNING)
    if json_logs:
        handler: logging.Handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter())
    else:
        from rich.logging import RichHandler

        handler = RichHandler(show_path=False, rich_tracebacks=False)
    handler.addFilter(MaskSecrets())
    handler._ledgerlink = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "uvicorn", "uvicorn.error"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def json_logs_on_stdout() -> bool:
    """Whether this process logs JSON lines to stdout: then commands print nothing else there but single-line
    JSON (a run's summary becomes a log line), so every stdout line parses."""
    return _json_on_stdout
