"""Logging: readable on a terminal, JSON lines otherwise, secrets masked either way."""

from __future__ import annotations

import json
import logging
import sys
import time

from .secrets import MaskSecrets, mask

__all__ = ["setup_logging", "JsonFormatter"]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)), "level": record.levelname,
               "logger": record.name, "message": mask(record.getMessage())}
        if record.exc_info:
            out["exc"] = mask(self.formatException(record.exc_info))
        return json.dumps(out)


def setup_logging(verbose: int = 0, json_logs: bool | None = None) -> None:
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_ledgerlink", False):
            root.removeHandler(h)
    if json_logs is None:
        json_logs = not sys.stderr.isatty()
    if json_logs:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
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
