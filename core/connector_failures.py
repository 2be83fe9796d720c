"""A ledgerlink error as the TRACE error message an Airbyte platform shows: which failure type it is (the platform
retries a transient one, asks the user to fix a config one, reports a system one as a bug), the words a person
reads, and an internal message for whoever debugs it — all masked, so no secret reaches Airbyte's logs."""

from __future__ import annotations

from typing import Any

from . import protocol
from .errors import ConfigError, LedgerlinkError, RecordError, RemoteError
from .secrets import mask

__all__ = ["failure_type", "internal_message", "error_trace"]

#: the remote refused the credentials themselves: the user must reconnect or fix the config, not wait
_AUTH_STATUSES = frozenset({401, 403})


def failure_type(exc: BaseException) -> str:
    """`config_error` when the user must change something (the config, a record, a mapping, the credentials, what
    the remote refused as invalid), `transient_error` when running again as is may work (5xx, throttling, a
    dropped connection), `system_error` otherwise (a bug, a remote that failed in a way nobody can fix here)."""
    if isinstance(exc, (ConfigError, RecordError)):
        return "config_error"
    if isinstance(exc, RemoteError):
        if exc.kind in ("transient", "throttled"):
            return "transient_error"
        if exc.status in _AUTH_STATUSES or (exc.status is not None and 400 <= exc.status < 500):
            return "config_error"
        return "system_error"
    return "system_error"


def internal_message(exc: BaseException, **extra: Any) -> str:
    """The error's type and its machine-readable details (remote status, code, operation, stream, key, field…),
    masked: what a developer needs beside the words the user reads."""
    details: dict[str, Any] = {}
    if isinstance(exc, LedgerlinkError):
        details = {k: v for k, v in exc.to_dict().items() if k not in ("message", "hint", "type") and v is not None}
    details.update({k: v for k, v in extra.items() if v is not None})
    words = ", ".join(f"{k}={v}" for k, v in details.items())
    return mask(f"{type(exc).__name__}" + (f" ({words})" if words else ""))


def error_trace(message: str, exc: BaseException, *, stream: str | None = None, **extra: Any) -> protocol.Message:
    """The TRACE error message for `exc`, with `message` (masked) as the words the platform shows."""
    return protocol.error_trace(mask(message), internal_message=internal_message(exc, **extra),
                                failure_type=failure_type(exc), stream=stream)
