"""The errors ledgerlink raises, each able to say what went wrong, where, and what to do."""

from __future__ import annotations

from typing import Any

__all__ = [
    "LedgerlinkError", "ConfigError", "PipelineBusyError", "RecordError", "MappingError",
    "RemoteError", "TransientError", "ThrottledError", "PermanentError",
]


class LedgerlinkError(Exception):
    """Base class. `hint` tells the user what to do about it."""

    kind = "error"

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message + (f"\n  hint: {self.hint}" if self.hint else "")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "type": type(self).__name__, "message": self.message, "hint": self.hint}


class ConfigError(LedgerlinkError):
    """A pipeline file or connector config is wrong; `where` is the key path, e.g. `source.config.region`."""

    kind = "config"

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.where = where


class PipelineBusyError(LedgerlinkError):
    """Another process holds this pipeline's state file (DuckDB allows one writer)."""

    kind = "busy"


class RecordError(LedgerlinkError):
    """One record cannot be processed. It goes to the dead-letter queue; the run carries on."""

    kind = "record"

    def __init__(self, message: str, *, stream: str | None = None, key: str | None = None,
                 field: str | None = None, hint: str | None = None):
        where = "/".join(p for p in (stream, key) if p)
        text = message
        if field:
            text = f"field {field!r}: {text}"
        if where:
            text = f"{where}: {text}"
        super().__init__(text, hint=hint)
        self.stream, self.key, self.field = stream, key, field

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "stream": self.stream, "key": self.key, "field": self.field}


class MappingError(RecordError):
    """A mapping template failed for a record: names the template, the line and the record."""

    kind = "mapping"

    def __init__(self, message: str, *, template: str, line: int | None = None, key: str | None = None,
                 hint: str | None = None):
        loc = template + (f", line {line}" if line else "")
        super().__init__(f"template {loc}: {message}", key=key, hint=hint)
        self.template, self.line = template, line

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "template": self.template, "line": self.line}


class RemoteError(LedgerlinkError):
    """A remote system refused or failed a call. `kind` is transient, throttled or permanent."""

    kind = "permanent"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 remote_message: str | None = None, operation: str | None = None,
                 retry_after: float | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.status, self.code, self.remote_message = status, code, remote_message
        self.operation, self.retry_after = operation, retry_after

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "status": self.status, "code": self.code,
                "remote_message": self.remote_message, "operation": self.operation}


class TransientError(RemoteError):
    """Worth retrying as is: a 5xx, a dropped connection, a timeout."""

    kind = "transient"


class ThrottledError(RemoteError):
    """The remote asked us to slow down (429, or a vendor's own throttle fault)."""

    kind = "throttled"


class PermanentError(RemoteError):
    """Retrying the same request will fail the same way: fix the data or the config."""

    kind = "permanent"
